"""Programmatic Alembic helpers used by the seed loader, tests and ``python -m acme.common.migrate``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

APP_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = APP_ROOT / "alembic.ini"


def alembic_config(database_url: str) -> Config:
    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(APP_ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (the real path for every environment)."""
    command.upgrade(alembic_config(database_url), revision)


def head_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Apply Acme database migrations.")
    parser.add_argument("--database-url", default=os.environ.get("ACME_DATABASE_URL", "sqlite:///./acme.db"))
    parser.add_argument("--revision", default="head")
    args = parser.parse_args(argv)
    upgrade(args.database_url, args.revision)
    print(f"migrated {args.database_url.split('@')[-1]} to {args.revision}")


if __name__ == "__main__":
    main()
