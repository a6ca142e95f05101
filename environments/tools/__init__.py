"""The team tools of a run: local services that speak the real APIs of Slack, Linear, Notion,
Sentry and a status page closely enough that the official clients work against them.

Every tool is one Starlette app built by ``create_app(settings)`` on the shared foundation in
:mod:`environments.tools.common` (SQLite state per run, fixtures, admin API) and started with
``python -m environments.tools.<tool> --host H --port N --state-dir DIR --fixtures FILE --seed N``.
"""
