"""Runtime store settings (admin-editable), merged over code defaults."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from acme.models import AppSetting, utcnow
from acme.models.ops import DEFAULT_STORE_SETTINGS


class SettingsRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def all(self) -> dict[str, Any]:
        values = dict(DEFAULT_STORE_SETTINGS)
        for row in self.db.scalars(select(AppSetting)):
            if row.key in values:
                values[row.key] = row.value
        return values

    def update(self, changes: dict[str, Any], user_id: int | None) -> None:
        now = utcnow()
        for key, value in changes.items():
            row = self.db.get(AppSetting, key)
            if row is None:
                self.db.add(AppSetting(key=key, value=value, updated_at=now, updated_by=user_id))
            else:
                row.value = value
                row.updated_at = now
                row.updated_by = user_id
        self.db.flush()
