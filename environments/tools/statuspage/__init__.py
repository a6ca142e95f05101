"""A local status page: the Atlassian Statuspage manage API (``/v1/pages/{page_id}/...`` with
``Authorization: OAuth <key>``) and the public page statuspage.io serves (``GET /`` and
``/api/v2/summary.json`` & co.). Per-run state in ``<state_dir>/statuspage.db``.

    python -m environments.tools.statuspage --port 8105 --state-dir STATE \\
        --fixtures environments/acme/seed/tools/statuspage.yaml --seed 0
"""

from environments.tools.statuspage.service import StatuspageService, create_app

__all__ = ["StatuspageService", "create_app"]
