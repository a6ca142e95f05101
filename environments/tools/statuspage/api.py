"""The manage API (``/v1/pages/{page_id}/...``) with ``Authorization: OAuth <api key>``.

Bodies are JSON (``{"incident": {...}}``, ``{"component": {...}}``) or Rails-style forms
(``incident[name]=...&incident[components][<id>]=major_outage``) as the official docs' curl
examples send them. Errors are ``{"error": "..."}``: 401 bad key, 404 unknown page or object,
400 missing wrapper object, 422 invalid values.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from environments.tools.common.params import ParamError, clean_json, clean_text, read_body
from environments.tools.statuspage.model import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    Change,
    PageError,
    Writer,
    component_json,
    incident_json,
    next_id,
    page_json,
    parse_time,
)

if TYPE_CHECKING:
    from environments.tools.statuspage.service import StatuspageService

_KEY_PART = re.compile(r"\[([^\]]*)\]")
MAX_PER_PAGE = 100


def json_response(data: Any, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    return Response(body, status, media_type="application/json; charset=utf-8")


# -- request bodies ----------------------------------------------------------------------------


def rails_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """``incident[components][abc]=x`` / ``incident[component_ids][]=a`` -> nested dicts/lists."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs[:1000]:
        head, _, rest = raw_key.partition("[")
        parts = [head] + (_KEY_PART.findall("[" + rest) if rest else [])
        node: Any = out
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = parts[index + 1] if not last else None
            if not isinstance(node, dict):
                break
            if last:
                if part == "":
                    continue
                node[part] = value
            elif following == "":
                node = node.setdefault(part, [])
                if isinstance(node, list):
                    node.append(value)
                break
            else:
                node = node.setdefault(part, {})
    return out


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw.strip():
        return {}
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or raw.lstrip()[:1] in (b"{", b"["):
        try:
            value = json.loads(raw)
        except (ValueError, RecursionError):
            raise PageError(400, "The request body is not valid JSON") from None
        if not isinstance(value, dict):
            raise PageError(400, "The request body must be a JSON object")
        return clean_json(value)
    text = raw.decode("utf-8", "replace")
    pairs = [(clean_text(k), clean_text(v)) for k, v in parse_qsl(text, keep_blank_values=True)]
    return rails_params(pairs)


def _text(value: Any, name: str, limit: int = 10_000) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bool, dict | list)):
        raise PageError(422, f"{name} must be a string")
    text = str(value)
    if len(text) > limit:
        raise PageError(422, f"{name} is too long (maximum is {limit} characters)")
    return text


def _flag(value: Any, default: bool = True) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("false", "0", "no", "off", "")


def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if not isinstance(value, dict):
        raise PageError(400, f"{name} is missing or not an object")
    return value


def incident_change(data: dict[str, Any], *, creating: bool) -> Change:
    change = Change()
    change.name = _text(data.get("name"), "name", 255)
    if creating and not change.name:
        raise PageError(422, "Name can't be blank")
    status = _text(data.get("status"), "status", 40)
    if status is not None and status not in INCIDENT_STATUSES:
        raise PageError(422, f"Status {status!r} is not included in the list {INCIDENT_STATUSES}")
    change.status = status
    change.body = _text(data.get("body"), "body", 25_000)
    if "impact_override" in data:
        impact = _text(data.get("impact_override"), "impact_override", 20) or None
        if impact is not None and impact not in IMPACTS:
            raise PageError(
                422, f"Impact override {impact!r} is not included in the list {IMPACTS}"
            )
        change.impact_override, change.impact_override_set = impact, True
    components = data.get("components")
    if components is not None:
        if not isinstance(components, dict):
            raise PageError(422, "components must be an object of component id -> status")
        for component_id, value in components.items():
            value = value.get("status") if isinstance(value, dict) else value
            if value not in COMPONENT_STATUSES:
                raise PageError(
                    422,
                    f"Component status {str(value)[:40]!r} is not included in the list {COMPONENT_STATUSES}",
                )
            change.components[str(component_id)] = value
    ids = data.get("component_ids")
    if ids is not None:
        if isinstance(ids, str):
            ids = [ids]
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise PageError(422, "component_ids must be a list of component ids")
        change.component_ids = ids[:200]
    change.deliver_notifications = _flag(data.get("deliver_notifications"))
    metadata = data.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise PageError(422, "metadata must be an object")
        change.metadata = metadata
    for name in ("scheduled_for", "scheduled_until"):
        if data.get(name) not in (None, ""):
            when = parse_time(data.get(name))
            if when is None:
                raise PageError(422, f"{name} must be an ISO 8601 time")
            setattr(change, name, when)
    if change.status in MAINTENANCE_STATUSES and creating and change.scheduled_for is None:
        raise PageError(422, "Scheduled for can't be blank for a scheduled maintenance")
    return change


# -- plumbing ----------------------------------------------------------------------------------


@dataclass
class Call:
    service: StatuspageService
    request: Request
    db: sqlite3.Connection
    actor: str
    body: dict[str, Any]

    @property
    def base_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc}"

    def page(self) -> sqlite3.Row:
        page_id = self.request.path_params.get("page_id", "")
        row = self.db.execute("SELECT * FROM pages WHERE id = ?", (page_id,)).fetchone()
        if row is None:
            raise PageError(404, "The requested resource could not be found.")
        return row

    def component(self) -> sqlite3.Row:
        page = self.page()
        row = self.db.execute(
            "SELECT * FROM components WHERE id = ? AND page_id = ?",
            (self.request.path_params["component_id"], page["id"]),
        ).fetchone()
        if row is None:
            raise PageError(404, "The requested resource could not be found.")
        return row

    def incident(self) -> sqlite3.Row:
        page = self.page()
        row = self.db.execute(
            "SELECT * FROM incidents WHERE id = ? AND page_id = ?",
            (self.request.path_params["incident_id"], page["id"]),
        ).fetchone()
        if row is None:
            raise PageError(404, "The requested resource could not be found.")
        return row

    def incident_out(self, row: sqlite3.Row) -> dict[str, Any]:
        return incident_json(self.db, row, self.base_url)

    def record(self, events: list[tuple[str, str, dict[str, Any]]]) -> None:
        for kind, object_id, payload in events:
            self.service.record(self.actor, kind, object_id, payload)


Handler = Callable[[Call], Response]


def endpoint(service: StatuspageService, handler: Handler, *, writes: bool = False):
    async def run(request: Request) -> Response:
        try:
            raw = b""
            if request.method in ("POST", "PUT", "PATCH", "DELETE"):
                raw = await read_body(request, service.settings.max_body_bytes)
            body = parse_body(raw, request.headers.get("content-type", ""))
            with service.store.write() if writes else service.store.read() as db:
                actor = _authenticate(request, db)
                return handler(Call(service, request, db, actor, body))
        except PageError as exc:
            return json_response({"error": exc.error}, exc.status)
        except ParamError as exc:
            status = 413 if exc.code == "request_too_large" else 400
            return json_response({"error": str(exc)}, status)

    return run


def _authenticate(request: Request, db: sqlite3.Connection) -> str:
    header = request.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    key = token.strip() if scheme.lower() == "oauth" else ""
    key = key or (request.query_params.get("api_key") or "").strip()
    if not key:
        raise PageError(401, "Could not authenticate")
    row = db.execute("SELECT user_key FROM api_keys WHERE key = ?", (key,)).fetchone()
    if row is None:
        raise PageError(401, "Could not authenticate")
    return row[0]


def _paging(call: Call) -> tuple[int, int]:
    params = call.request.query_params
    try:
        per_page = int(params.get("per_page") or params.get("limit") or MAX_PER_PAGE)
        page = int(params.get("page") or 1)
    except ValueError:
        raise PageError(400, "page and per_page must be integers") from None
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    return max(1, min(page, 100_000)), per_page


# -- pages and components ----------------------------------------------------------------------


def pages(call: Call) -> Response:
    rows = call.db.execute("SELECT * FROM pages ORDER BY position, id").fetchall()
    return json_response([page_json(r) for r in rows])


def page(call: Call) -> Response:
    return json_response(page_json(call.page()))


def components(call: Call) -> Response:
    page_row = call.page()
    number, per_page = _paging(call)
    rows = call.db.execute(
        "SELECT * FROM components WHERE page_id = ? ORDER BY position, id LIMIT ? OFFSET ?",
        (page_row["id"], per_page, (number - 1) * per_page),
    ).fetchall()
    return json_response([component_json(r) for r in rows])


def component(call: Call) -> Response:
    return json_response(component_json(call.component()))


def _component_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "name" in data:
        name = _text(data["name"], "name", 255)
        if not name:
            raise PageError(422, "Name can't be blank")
        fields["name"] = name
    if "description" in data:
        fields["description"] = _text(data["description"], "description", 1000)
    if "status" in data:
        if data["status"] not in COMPONENT_STATUSES:
            raise PageError(
                422,
                f"Status {str(data['status'])[:40]!r} is not included in the list {COMPONENT_STATUSES}",
            )
        fields["status"] = data["status"]
    for name in ("showcase", "only_show_if_degraded"):
        if name in data:
            fields[name] = int(_flag(data[name]))
    if "start_date" in data:
        fields["start_date"] = _text(data["start_date"], "start_date", 10)
    return fields


def update_component(call: Call) -> Response:
    row = call.component()
    fields = _component_fields(_object(call.body, "component"))
    now = call.service.now()
    if fields:
        assignments = ", ".join(f"{k} = ?" for k in fields)
        call.db.execute(
            f"UPDATE components SET {assignments}, updated_at = ? WHERE id = ?",
            (*fields.values(), now, row["id"]),
        )
        if "status" in fields and fields["status"] != row["status"]:
            call.service.record(
                call.actor,
                "component.status_changed",
                row["id"],
                {
                    "page_id": row["page_id"],
                    "component_id": row["id"],
                    "name": fields.get("name", row["name"]),
                    "from": row["status"],
                    "to": fields["status"],
                    "incident_id": None,
                },
            )
        others = {k: v for k, v in fields.items() if k != "status"}
        if others:
            call.service.record(
                call.actor, "component.updated", row["id"], {"component_id": row["id"], **others}
            )
    updated = call.db.execute("SELECT * FROM components WHERE id = ?", (row["id"],)).fetchone()
    return json_response(component_json(updated))


def create_component(call: Call) -> Response:
    page_row = call.page()
    data = _object(call.body, "component")
    fields = _component_fields(data)
    if "name" not in fields:
        raise PageError(422, "Name can't be blank")
    now = call.service.now()
    component_id = next_id(call.db, call.service.seed, "component")
    position = call.db.execute(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM components WHERE page_id = ?", (page_row["id"],)
    ).fetchone()[0]
    call.db.execute(
        "INSERT INTO components(id, page_id, name, description, position, status, showcase, "
        "only_show_if_degraded, start_date, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            component_id,
            page_row["id"],
            fields["name"],
            fields.get("description"),
            position,
            fields.get("status", "operational"),
            fields.get("showcase", 1),
            fields.get("only_show_if_degraded", 0),
            fields.get("start_date"),
            now,
            now,
        ),
    )
    call.service.record(
        call.actor, "component.created", component_id, {"component_id": component_id, **fields}
    )
    row = call.db.execute("SELECT * FROM components WHERE id = ?", (component_id,)).fetchone()
    return json_response(component_json(row), 201)


def delete_component(call: Call) -> Response:
    row = call.component()
    call.db.execute("DELETE FROM components WHERE id = ?", (row["id"],))
    call.service.record(
        call.actor, "component.deleted", row["id"], {"component_id": row["id"], "name": row["name"]}
    )
    return Response(status_code=204)


# -- incidents ---------------------------------------------------------------------------------

LISTS = {
    "all": "1",
    "unresolved": "status NOT IN ('resolved', 'postmortem', 'completed') AND scheduled_for IS NULL",
    "scheduled": "scheduled_for IS NOT NULL",
    "upcoming": "status = 'scheduled'",
    "active_maintenance": "status IN ('in_progress', 'verifying')",
}


def incident_list(which: str) -> Handler:
    def handler(call: Call) -> Response:
        page_row = call.page()
        number, per_page = _paging(call)
        sql = f"SELECT * FROM incidents WHERE page_id = ? AND {LISTS[which]}"
        args: list[Any] = [page_row["id"]]
        query = (call.request.query_params.get("q") or "").strip().lower()
        if query:
            like = f"%{query}%"
            sql += (
                " AND (lower(name) LIKE ? OR status LIKE ? OR lower(COALESCE(postmortem_body, '')) "
                "LIKE ? OR id IN (SELECT incident_id FROM incident_updates WHERE lower(body) LIKE ?))"
            )
            args += [like, like, like, like]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?"
        rows = call.db.execute(sql, (*args, per_page, (number - 1) * per_page)).fetchall()
        return json_response([call.incident_out(r) for r in rows])

    return handler


def incident(call: Call) -> Response:
    return json_response(call.incident_out(call.incident()))


def create_incident(call: Call) -> Response:
    page_row = call.page()
    change = incident_change(_object(call.body, "incident"), creating=True)
    writer = Writer(call.db, call.service.seed)
    incident_id = writer.create(page_row["id"], change, call.service.now())
    call.record(writer.events)
    row = call.db.execute("SELECT * FROM incidents WHERE id = ?", (incident_id,)).fetchone()
    return json_response(call.incident_out(row), 201)


def update_incident(call: Call) -> Response:
    row = call.incident()
    change = incident_change(_object(call.body, "incident"), creating=False)
    writer = Writer(call.db, call.service.seed)
    writer.update(row, change, call.service.now())
    call.record(writer.events)
    row = call.db.execute("SELECT * FROM incidents WHERE id = ?", (row["id"],)).fetchone()
    return json_response(call.incident_out(row))


def delete_incident(call: Call) -> Response:
    row = call.incident()
    out = call.incident_out(row)
    call.db.execute("DELETE FROM incident_updates WHERE incident_id = ?", (row["id"],))
    call.db.execute("DELETE FROM incident_components WHERE incident_id = ?", (row["id"],))
    call.db.execute("DELETE FROM incidents WHERE id = ?", (row["id"],))
    call.service.record(
        call.actor, "incident.deleted", row["id"], {"incident_id": row["id"], "name": row["name"]}
    )
    return json_response(out)


def edit_incident_update(call: Call) -> Response:
    row = call.incident()
    update = call.db.execute(
        "SELECT * FROM incident_updates WHERE id = ? AND incident_id = ?",
        (call.request.path_params["update_id"], row["id"]),
    ).fetchone()
    if update is None:
        raise PageError(404, "The requested resource could not be found.")
    data = _object(call.body, "incident_update")
    sets, args = [], []
    if "body" in data:
        sets.append("body = ?")
        args.append(_text(data["body"], "body", 25_000) or "")
    if data.get("display_at") not in (None, ""):
        when = parse_time(data["display_at"])
        if when is None:
            raise PageError(422, "display_at must be an ISO 8601 time")
        sets.append("display_at = ?")
        args.append(when)
    if "deliver_notifications" in data:
        sets.append("deliver_notifications = ?")
        args.append(int(_flag(data["deliver_notifications"])))
    if sets:
        now = call.service.now()
        call.db.execute(
            f"UPDATE incident_updates SET {', '.join(sets)}, updated_at = ? WHERE id = ?",
            (*args, now, update["id"]),
        )
        call.service.record(
            call.actor,
            "incident_update.edited",
            update["id"],
            {"incident_id": row["id"], "update_id": update["id"], "body": data.get("body")},
        )
    incident_row = call.db.execute("SELECT * FROM incidents WHERE id = ?", (row["id"],)).fetchone()
    return json_response(call.incident_out(incident_row))
