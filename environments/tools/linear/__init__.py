"""A local Linear: the GraphQL API at ``/graphql``, executed by graphql-core against a schema
cut from Linear's own, close enough that raw GraphQL clients (httpx, gql with schema
introspection) and MCP adapters work unchanged. Per-run state in ``<state_dir>/linear.db``.

    python -m environments.tools.linear --port 8102 --state-dir STATE \\
        --fixtures environments/acme/seed/tools/linear.yaml --seed 0
"""

from environments.tools.linear.service import LinearService, create_app

__all__ = ["LinearService", "create_app"]
