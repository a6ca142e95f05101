"""A local Slack: the Web API (``/api/<method>``) and incoming webhooks (``/services/…``) close
enough to the real ones that ``slack_sdk.WebClient(base_url="http://HOST:PORT/api/")`` and
Alertmanager's ``slack_configs`` work unchanged. Per-run state in ``<state_dir>/slack.db``.

    python -m environments.tools.slack --port 8101 --state-dir STATE \\
        --fixtures environments/acme/seed/tools/slack.yaml --seed 0
"""

from environments.tools.slack.service import SlackService, create_app

__all__ = ["SlackService", "create_app"]
