"""Alembic environment: URL from ACME_DATABASE_URL, batch mode so SQLite can ALTER."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context

from acme.common.db import make_engine
from acme.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _database_url() -> str:
    return (
        config.attributes.get("database_url")
        or os.environ.get("ACME_DATABASE_URL")
        or config.get_main_option("sqlalchemy.url")
        or "sqlite:///./acme.db"
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_with(connection)
        return
    engine = make_engine(_database_url(), pool_size=1)
    try:
        # A write transaction from the start (SQLite: BEGIN IMMEDIATE, waiting its turn): a
        # migration that reads first and then writes fails at once with "database is locked"
        # while production traffic is writing.
        with engine.connect().execution_options(acme_write=True) as conn:
            _run_with(conn)
    finally:
        engine.dispose()


def _run_with(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
