"""A local Sentry: SDK ingestion (``/api/<project_id>/envelope/`` and ``/store/``) and the
``/api/0/`` web API close enough to the real ones that ``sentry_sdk.init(dsn=...)`` and
getsentry/sentry-mcp (``--host=127.0.0.1:PORT --insecure-http``) work unchanged. Per-run state in
``<state_dir>/sentry.db``.

    python -m environments.tools.sentry --port 8104 --state-dir STATE \\
        --fixtures environments/acme/seed/tools/sentry.yaml --seed 0
"""

from environments.tools.sentry.service import SentryService, create_app

__all__ = ["SentryService", "create_app"]
