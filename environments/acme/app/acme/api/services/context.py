"""Long-lived dependencies of the API, built once per app by ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from acme.api.services.payments_client import PaymentsClient
from acme.common.cache import Cache
from acme.common.db import Database
from acme.common.flags import Flags
from acme.common.metrics import Metrics
from acme.common.objectstore import ObjectStore
from acme.common.security import PasswordHasher
from acme.common.settings import Settings


@dataclass
class ApiContext:
    settings: Settings
    db: Database
    cache: Cache
    flags: Flags
    metrics: Metrics
    payments: PaymentsClient
    objects: ObjectStore
    hasher: PasswordHasher

    def close(self) -> None:
        self.hasher.close()
        self.payments.close()
        self.db.dispose()
