"""Status page fixture documents: the typed format and how one is applied to the state.

A document (YAML or JSON; every key optional, later documents add to earlier ones)::

    pages:
      - id: 4cm3st4tus01          # 12 of [a-z0-9]; clients are configured with it
        name: Acme Outfitters
        subdomain: acme
        url: https://status.acme.dev
        time_zone: Etc/UTC
        created: 2021-06-01T09:00:00Z
        components:               # in display order; ids derive from the seed and the key
          - {key: storefront, name: Storefront, description: "...", start_date: 2021-06-01}
    api_keys:                     # Authorization: OAuth <key>, acting as that person
      - {key: <32+ hex>, user: chloe.dubois}
    incidents:
      - key: 2026-09-22-ingress   # stable name; the incident id derives from it
        page: 4cm3st4tus01        # optional when there is one page
        name: Elevated errors loading pages and checking out
        impact: major             # optional override; otherwise from component statuses
        postmortem: "..."         # optional
        updates:                  # oldest first; the first one opens the incident
          - at: 2026-09-22T09:42:00Z
            status: investigating
            body: "..."
            components: {storefront: partial_outage, checkout: partial_outage}

Component references are keys or ids. Components end in the status the incidents left them
in, unless a component gives ``status`` explicitly.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from environments.tools.common import FixtureError, to_epoch
from environments.tools.common.fixtures import FixtureModel, validate_document
from environments.tools.statuspage.model import (
    COMPONENT_STATUSES,
    IMPACTS,
    INCIDENT_STATUSES,
    Change,
    PageError,
    Writer,
    page_id_for,
)

ID = r"^[a-z0-9]{12}$"


class ComponentFx(FixtureModel):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")
    id: str | None = Field(default=None, pattern=ID)
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    status: str | None = None
    showcase: bool = True
    only_show_if_degraded: bool = False
    start_date: Any = None
    created: Any = None


class PageFx(FixtureModel):
    id: str = Field(pattern=ID)
    name: str = Field(min_length=1)
    subdomain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    url: str | None = None
    time_zone: str = "Etc/UTC"
    headline: str | None = None
    description: str | None = None
    created: Any = "2021-06-01T09:00:00Z"
    components: list[ComponentFx] = Field(default_factory=list)


class ApiKeyFx(FixtureModel):
    key: str = Field(pattern=r"^[A-Za-z0-9_-]{16,128}$")
    user: str = Field(min_length=1, max_length=100)


class UpdateFx(FixtureModel):
    at: Any
    status: str
    body: str = ""
    components: dict[str, str] = Field(default_factory=dict)
    deliver_notifications: bool = True


class IncidentFx(FixtureModel):
    key: str = Field(min_length=1, max_length=100)
    page: str | None = None
    name: str = Field(min_length=1)
    impact: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    postmortem: str | None = None
    postmortem_published: Any = None
    updates: list[UpdateFx] = Field(min_length=1)


class StatuspageFixtures(FixtureModel):
    pages: list[PageFx] = Field(default_factory=list)
    api_keys: list[ApiKeyFx] = Field(default_factory=list)
    incidents: list[IncidentFx] = Field(default_factory=list)


class FixtureApplier:
    def __init__(self, db: sqlite3.Connection, seed: int):
        self.db = db
        self.seed = seed
        self.counts: dict[str, int] = {}

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def apply(self, doc: StatuspageFixtures) -> dict[str, int]:
        for page in doc.pages:
            self.page(page)
        for key in doc.api_keys:
            self.db.execute(
                "INSERT INTO api_keys(key, user_key, created_at) VALUES (?, ?, 0) "
                "ON CONFLICT(key) DO UPDATE SET user_key = excluded.user_key",
                (key.key, key.user),
            )
            self._count("api_keys")
        for index, incident in enumerate(doc.incidents):
            self.incident(incident, f"incidents[{index}] ({incident.key})")
        for page in doc.pages:
            for comp in page.components:
                if comp.status is not None:
                    self.db.execute(
                        "UPDATE components SET status = ? WHERE page_id = ? AND fixture_key = ?",
                        (comp.status, page.id, comp.key),
                    )
        return dict(sorted(self.counts.items()))

    def page(self, page: PageFx) -> None:
        created = to_epoch(page.created, what=f"pages.{page.id}.created")
        position = self.db.execute(
            "SELECT COUNT(*) FROM pages WHERE id != ?", (page.id,)
        ).fetchone()[0]
        self.db.execute(
            "INSERT INTO pages(id, name, subdomain, url, time_zone, headline, description, position, "
            "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET "
            "name = excluded.name, subdomain = excluded.subdomain, url = excluded.url, "
            "time_zone = excluded.time_zone, headline = excluded.headline, "
            "description = excluded.description",
            (
                page.id,
                page.name,
                page.subdomain,
                page.url,
                page.time_zone,
                page.headline,
                page.description,
                position + 1,
                created,
                created,
            ),
        )
        self._count("pages")
        for index, comp in enumerate(page.components):
            where = f"pages.{page.id}.components.{comp.key}"
            if comp.status is not None and comp.status not in COMPONENT_STATUSES:
                raise FixtureError(
                    f"{where}.status: {comp.status!r} is not one of {COMPONENT_STATUSES}"
                )
            when = to_epoch(comp.created, what=f"{where}.created") if comp.created else created
            start = comp.start_date
            if isinstance(start, dt.date):
                start = start.isoformat()[:10]
            self.db.execute(
                "INSERT INTO components(id, page_id, fixture_key, name, description, position, "
                "showcase, only_show_if_degraded, start_date, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, "
                "description = excluded.description, position = excluded.position, "
                "showcase = excluded.showcase, only_show_if_degraded = excluded.only_show_if_degraded, "
                "start_date = excluded.start_date",
                (
                    comp.id or page_id_for(self.seed, "component", page.id, comp.key),
                    page.id,
                    comp.key,
                    comp.name,
                    comp.description,
                    index + 1,
                    int(comp.showcase),
                    int(comp.only_show_if_degraded),
                    str(start) if start else None,
                    when,
                    when,
                ),
            )
            self._count("components")

    def _page_of(self, ref: str | None, where: str) -> str:
        pages = [r[0] for r in self.db.execute("SELECT id FROM pages ORDER BY position")]
        if ref is None:
            if len(pages) != 1:
                raise FixtureError(f"{where}.page: required when there is not exactly one page")
            return pages[0]
        if ref not in pages:
            raise FixtureError(f"{where}.page: unknown page {ref!r} (known: {pages})")
        return ref

    def _component_id(self, page_id: str, ref: str, where: str) -> str:
        row = self.db.execute(
            "SELECT id FROM components WHERE page_id = ? AND (fixture_key = ? OR id = ? OR name = ?)",
            (page_id, ref, ref, ref),
        ).fetchone()
        if row is None:
            known = [
                r[0]
                for r in self.db.execute(
                    "SELECT fixture_key FROM components WHERE page_id = ? ORDER BY position",
                    (page_id,),
                )
            ]
            raise FixtureError(f"{where}: unknown component {ref!r} (known: {known})")
        return row[0]

    def incident(self, fx: IncidentFx, where: str) -> None:
        page_id = self._page_of(fx.page, where)
        incident_id = page_id_for(self.seed, "incident", fx.key)
        if self.db.execute("SELECT 1 FROM incidents WHERE id = ?", (incident_id,)).fetchone():
            return  # documents may be applied twice; an incident's history is written once
        if fx.impact is not None and fx.impact not in IMPACTS:
            raise FixtureError(f"{where}.impact: {fx.impact!r} is not one of {IMPACTS}")
        writer = Writer(self.db, self.seed)
        previous: float | None = None
        for index, up in enumerate(fx.updates):
            here = f"{where}.updates[{index}]"
            if up.status not in INCIDENT_STATUSES:
                raise FixtureError(
                    f"{here}.status: {up.status!r} is not one of {INCIDENT_STATUSES}"
                )
            at = to_epoch(up.at, what=f"{here}.at")
            if previous is not None and at < previous:
                raise FixtureError(f"{here}.at: updates must be in time order")
            previous = at
            components = {}
            for ref, status in up.components.items():
                if status not in COMPONENT_STATUSES:
                    raise FixtureError(
                        f"{here}.components.{ref}: {status!r} is not one of {COMPONENT_STATUSES}"
                    )
                components[self._component_id(page_id, ref, f"{here}.components")] = status
            change = Change(
                name=fx.name if index == 0 else None,
                status=up.status,
                body=up.body,
                components=components,
                deliver_notifications=up.deliver_notifications,
                impact_override=fx.impact,
                impact_override_set=False,
                metadata=fx.metadata if index == 0 else None,
            )
            update_id = page_id_for(self.seed, "incident_update", fx.key, index)
            try:
                if index == 0:
                    writer.create(
                        page_id,
                        change,
                        at,
                        incident_id=incident_id,
                        fixture_key=fx.key,
                        update_id=update_id,
                    )
                else:
                    row = self.db.execute(
                        "SELECT * FROM incidents WHERE id = ?", (incident_id,)
                    ).fetchone()
                    writer.update(row, change, at, update_id=update_id)
            except PageError as exc:
                raise FixtureError(f"{here}: {exc.error}") from None
        if fx.postmortem:
            published = (
                to_epoch(fx.postmortem_published, what=f"{where}.postmortem_published")
                if (fx.postmortem_published)
                else previous
            )
            self.db.execute(
                "UPDATE incidents SET postmortem_body = ?, postmortem_published_at = ? WHERE id = ?",
                (fx.postmortem, published, incident_id),
            )
        self._count("incidents")


def apply_document(
    db: sqlite3.Connection, doc: Mapping[str, Any], *, seed: int, origin: Path | None
) -> dict[str, int]:
    parsed = validate_document(StatuspageFixtures, doc, origin)
    return FixtureApplier(db, seed).apply(parsed)
