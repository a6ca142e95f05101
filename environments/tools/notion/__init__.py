"""A local Notion: the REST API under ``/v1`` close enough to the real one that
``notion_client.Client(auth=..., base_url="http://HOST:PORT")`` and the official MCP server
(``BASE_URL``) work unchanged. Per-run state in ``<state_dir>/notion.db``.

    python -m environments.tools.notion --port 8103 --state-dir STATE \\
        --fixtures environments/acme/seed/tools/notion.yaml --seed 0

Behaviour follows the ``Notion-Version`` header, as Notion's does: ``2025-09-03`` and later
(notion-client >= 2.6) have data sources (``GET /v1/data_sources/{id}``,
``POST /v1/data_sources/{id}/query``, search filter ``data_source``, row parents
``data_source_id``); ``2022-06-28`` and earlier have databases with properties
(``POST /v1/databases/{id}/query``, search filter ``database``). Served: search, pages
(create, retrieve, update, property items, markdown), blocks (retrieve, update, delete,
children list and append), databases, data sources, comments, users. Other real endpoints
answer ``invalid_request``; unknown URLs and methods ``invalid_request_url``.

Module map: :mod:`.service` (request pipeline), :mod:`.api` (one module per resource),
:mod:`.model` (storage and rendering), :mod:`.blocks` / :mod:`.properties` /
:mod:`.richtext` (validation of Notion objects), :mod:`.query` (filters and sorts),
:mod:`.markdown` / :mod:`.render_markdown` (Markdown in and out), :mod:`.fixtures`.
"""

from environments.tools.notion.service import NotionService, create_app

__all__ = ["NotionService", "create_app"]
