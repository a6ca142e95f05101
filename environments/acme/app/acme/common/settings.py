"""Service configuration, read only from environment variables.

Every service builds one immutable :class:`Settings` at start-up and passes it to
its ``create_app`` factory, so tests can construct settings explicitly instead of
patching the process environment.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    """Raised when an environment variable holds a value we cannot use."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def _str(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip()


@dataclass(frozen=True)
class Settings:
    """All tunables for all services; each service reads only what it needs."""

    database_url: str = "sqlite:///./acme.db"
    cache_url: str = "memory://"
    object_store: str = "file://./var/objects"
    s3_endpoint_url: str | None = None
    api_url: str = "http://127.0.0.1:8001"
    web_url: str = "http://127.0.0.1:8002"
    payments_url: str = "http://127.0.0.1:8003"
    payments_database_url: str = "sqlite:///./payments.db"
    payments_timeout_seconds: float = 5.0
    sentry_dsn: str | None = None
    release: str = "dev"
    environment: str = "production"
    flags_file: str | None = None
    faults_file: str | None = None
    service_instance: str | None = None
    ingress_upstreams: str | None = None
    ingress_admin_token: str | None = None
    ingress_seed: int = 0
    ingress_timeout_seconds: float = 30.0
    webhook_secret: str = "whsec_dev_only_change_me"
    log_level: str = "INFO"
    session_ttl_seconds: int = 14 * 24 * 3600
    cart_ttl_seconds: int = 30 * 24 * 3600
    catalog_cache_ttl_seconds: int = 30
    worker_poll_interval_seconds: float = 0.5
    worker_concurrency: int = 1
    cleanup_interval_seconds: int = 300
    db_pool_size: int = 10
    password_hash_cost: int = 14

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (defaults to ``os.environ``)."""
        env = os.environ if environ is None else environ
        d = cls()
        return cls(
            database_url=_str(env, "ACME_DATABASE_URL", d.database_url) or d.database_url,
            cache_url=_str(env, "ACME_CACHE_URL", d.cache_url) or d.cache_url,
            object_store=_str(env, "ACME_OBJECT_STORE", d.object_store) or d.object_store,
            s3_endpoint_url=_str(env, "ACME_S3_ENDPOINT_URL"),
            api_url=(_str(env, "ACME_API_URL", d.api_url) or d.api_url).rstrip("/"),
            web_url=(_str(env, "ACME_WEB_URL", d.web_url) or d.web_url).rstrip("/"),
            payments_url=(_str(env, "ACME_PAYMENTS_URL", d.payments_url) or d.payments_url).rstrip(
                "/"
            ),
            payments_database_url=_str(env, "ACME_PAYMENTS_DATABASE_URL", d.payments_database_url)
            or d.payments_database_url,
            payments_timeout_seconds=_float(
                env, "ACME_PAYMENTS_TIMEOUT_SECONDS", d.payments_timeout_seconds
            ),
            sentry_dsn=_str(env, "SENTRY_DSN"),
            release=_str(env, "ACME_RELEASE", d.release) or d.release,
            environment=_str(env, "ACME_ENVIRONMENT", d.environment) or d.environment,
            flags_file=_str(env, "ACME_FLAGS_FILE"),
            faults_file=_str(env, "ACME_FAULTS_FILE"),
            service_instance=_str(env, "ACME_SERVICE_INSTANCE"),
            ingress_upstreams=_str(env, "ACME_INGRESS_UPSTREAMS"),
            ingress_admin_token=_str(env, "ACME_INGRESS_ADMIN_TOKEN"),
            ingress_seed=_int(env, "ACME_INGRESS_SEED", d.ingress_seed),
            ingress_timeout_seconds=_float(
                env, "ACME_INGRESS_TIMEOUT_SECONDS", d.ingress_timeout_seconds
            ),
            webhook_secret=_str(env, "ACME_WEBHOOK_SECRET", d.webhook_secret) or d.webhook_secret,
            log_level=(_str(env, "ACME_LOG_LEVEL", d.log_level) or d.log_level).upper(),
            session_ttl_seconds=_int(env, "ACME_SESSION_TTL_SECONDS", d.session_ttl_seconds),
            cart_ttl_seconds=_int(env, "ACME_CART_TTL_SECONDS", d.cart_ttl_seconds),
            catalog_cache_ttl_seconds=_int(
                env, "ACME_CATALOG_CACHE_TTL_SECONDS", d.catalog_cache_ttl_seconds
            ),
            worker_poll_interval_seconds=_float(
                env, "ACME_WORKER_POLL_INTERVAL_SECONDS", d.worker_poll_interval_seconds
            ),
            worker_concurrency=_int(env, "ACME_WORKER_CONCURRENCY", d.worker_concurrency),
            cleanup_interval_seconds=_int(
                env, "ACME_CLEANUP_INTERVAL_SECONDS", d.cleanup_interval_seconds
            ),
            db_pool_size=_int(env, "ACME_DB_POOL_SIZE", d.db_pool_size),
            password_hash_cost=_int(env, "ACME_PASSWORD_HASH_COST", d.password_hash_cost),
        )

    def instance_for(self, service: str) -> str:
        """The instance label used in logs and metrics (``api-1``, ``api-canary``...)."""
        return self.service_instance or service

    def replace(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (handy in tests and CLIs)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
