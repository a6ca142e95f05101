"""Readiness: the process is up, the database answers and has been migrated."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from acme.api.deps import Ctx

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


def health_payload(ctx: Any) -> tuple[int, dict[str, Any]]:
    checks: dict[str, str] = {}
    schema: str | None = None
    try:
        with ctx.db.engine.connect() as conn:
            # Any revision is fine: during an expand/contract deploy old code runs on a newer schema.
            schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        checks["database"] = "ok"
        checks["schema"] = "ok" if schema else "error"
    except Exception as exc:  # report, don't raise: the prober wants JSON
        log.warning("health check failed", extra={"error": str(exc)})
        checks["database"] = "error"
    ok = all(v == "ok" for v in checks.values())
    return (200 if ok else 503), {
        "status": "ok" if ok else "error",
        "service": "api",
        "instance": ctx.settings.instance_for("api"),
        "release": ctx.settings.release,
        "checks": checks,
        "schema_revision": schema,
    }


@router.get("/healthz", include_in_schema=False)
def healthz(ctx: Ctx) -> JSONResponse:
    status, body = health_payload(ctx)
    return JSONResponse(body, status_code=status)
