"""The foundation every tool service is built on.

- :class:`ToolSettings` — what a service is started with (argv + env).
- :class:`ToolService` and :func:`build_app` — a tool's behaviour and the app factory wiring it
  into Starlette with state, fixtures, ``/healthz`` and the admin API.
- :class:`Store` — per-run SQLite state (WAL, one guarded connection) with an events table.
- :class:`Params`, :func:`gather_params`, :class:`ParamError` — merged query/form/JSON
  arguments read through bounded, typed getters.
- :func:`stable_id` and friends — deterministic ids; :class:`FixtureError`, time helpers
  and what every tool's ``fixtures.py`` shares (in :mod:`.fixtures`).
- :func:`main` (in :mod:`.cli`) — ``python -m environments.tools.<tool>``.
"""

from environments.tools.common.fixtures import (
    FixtureError,
    describe_validation_error,
    load_fixture_file,
    parse_fixture_text,
    resolve_time,
    to_epoch,
)
from environments.tools.common.ids import stable_id, stable_int, stable_uuid
from environments.tools.common.params import ParamError, Params, gather_params
from environments.tools.common.service import ToolService, build_app
from environments.tools.common.settings import ADMIN_TOKEN_ENV, ToolSettings
from environments.tools.common.store import Store, dumps

__all__ = [
    "ADMIN_TOKEN_ENV",
    "FixtureError",
    "ParamError",
    "Params",
    "Store",
    "ToolService",
    "ToolSettings",
    "build_app",
    "describe_validation_error",
    "dumps",
    "gather_params",
    "load_fixture_file",
    "parse_fixture_text",
    "resolve_time",
    "stable_id",
    "stable_int",
    "stable_uuid",
    "to_epoch",
]
