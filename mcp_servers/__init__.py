"""MCP servers in front of a run's tools, and the gateway that serves them.

Each tool has one module here exposing ``create_server(base_url, token) -> MCPServer``: a thin
adapter over the tool's HTTP API, written with the public client an integration would use.

    slack, linear, notion, sentry, statuspage   the team tools (environments/tools/)
    monitoring                                   Prometheus queries, alerts, logs
    deploy                                       the deployer: deploys, rollbacks, flags

``gateway`` serves all of them from one process at ``/<server>/mcp`` (streamable HTTP),
``calllog`` records every tool call in the run's ``calls.jsonl``, and ``configs`` reads a run's
endpoints and credentials and writes the MCP configs agents read.
"""

SERVER_NAMES = ("slack", "linear", "notion", "sentry", "statuspage", "monitoring", "deploy")
