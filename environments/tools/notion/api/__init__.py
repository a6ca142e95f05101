"""The REST surface: which handler serves which ``/v1/...`` path and method."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from environments.tools.notion.api import blocks, comments, databases, pages, search, users
from environments.tools.notion.api.context import Ctx
from environments.tools.notion.errors import NotionError, invalid_url, unsupported

Handler = Callable[[Ctx], dict[str, Any]]
_ID = r"(?P<{}>[^/]+)"


@dataclass(frozen=True)
class Endpoint:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    writes: bool


def _ep(method: str, path: str, handler: Handler, writes: bool = False) -> Endpoint:
    regex = re.sub(r"\{(\w+)\}", lambda m: _ID.format(m.group(1)), path)
    return Endpoint(method, re.compile(f"^{regex}$"), handler, writes)


ENDPOINTS: list[Endpoint] = [
    _ep("POST", "search", search.search),
    _ep("GET", "users", users.list_users),
    _ep("GET", "users/me", users.me),
    _ep("GET", "users/{user_id}", users.get_user),
    _ep("POST", "pages", pages.create_page, writes=True),
    _ep("GET", "pages/{page_id}", pages.get_page),
    _ep("PATCH", "pages/{page_id}", pages.update_page, writes=True),
    _ep("GET", "pages/{page_id}/properties/{property_id}", pages.get_property),
    _ep("GET", "pages/{page_id}/markdown", pages.get_markdown),
    _ep("PATCH", "pages/{page_id}/markdown", pages.update_markdown, writes=True),
    _ep("GET", "blocks/{block_id}", blocks.get_block),
    _ep("PATCH", "blocks/{block_id}", blocks.update_block, writes=True),
    _ep("DELETE", "blocks/{block_id}", blocks.delete_block, writes=True),
    _ep("GET", "blocks/{block_id}/children", blocks.list_children),
    _ep("PATCH", "blocks/{block_id}/children", blocks.append_children, writes=True),
    _ep("GET", "databases/{database_id}", databases.get_database),
    _ep("POST", "databases/{database_id}/query", databases.query_database),
    _ep("GET", "data_sources/{data_source_id}", databases.get_data_source),
    _ep("POST", "data_sources/{data_source_id}/query", databases.query_data_source),
    _ep("POST", "comments", comments.create_comment, writes=True),
    _ep("GET", "comments", comments.list_comments),
    _ep("GET", "comments/{comment_id}", comments.get_comment),
]

# Real Notion endpoints this imitation does not serve: answered with Notion's invalid_request.
UNSUPPORTED: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(f"^{path}$"), name)
    for method, path, name in [
        ("POST", "databases", "create a database"),
        ("PATCH", "databases/[^/]+", "update a database"),
        ("POST", "data_sources", "create a data source"),
        ("PATCH", "data_sources/[^/]+", "update a data source"),
        ("GET", "data_sources/[^/]+/templates", "list data source templates"),
        ("POST", "pages/[^/]+/move", "move a page"),
        ("PATCH", "comments/[^/]+", "update a comment"),
        ("DELETE", "comments/[^/]+", "delete a comment"),
        ("POST", "blocks/meeting_notes/query", "query meeting notes"),
        ("GET", "custom_emojis", "list custom emojis"),
        ("GET|POST", "file_uploads(?:/.*)?", "file uploads"),
        ("GET|POST|PATCH|DELETE", "views(?:/.*)?", "views"),
        ("POST", "oauth/(?:token|introspect|revoke)", "oauth"),
    ]
]


def resolve(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    """The endpoint for ``method path`` (path after ``/v1/``) and its path parameters.

    Unknown paths and known paths with the wrong method are ``invalid_request_url``, as in
    Notion; real endpoints not imitated here are ``invalid_request``.
    """
    path = path.strip("/")
    for endpoint in ENDPOINTS:
        match = endpoint.pattern.match(path)
        if match and endpoint.method == method:
            return endpoint, match.groupdict()
    for methods, pattern, name in UNSUPPORTED:
        if method in methods.split("|") and pattern.match(path):
            raise unsupported(name)
    raise invalid_url()


__all__ = ["ENDPOINTS", "Endpoint", "NotionError", "resolve"]
