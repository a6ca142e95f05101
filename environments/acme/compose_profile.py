"""Acme under the docker runtime: PostgreSQL, Redis and an S3 store, as production runs it.

The generic renderer (environments/runtime/compose.py) maps the stack spec; this profile adds
what only Acme needs: its infrastructure services, the app image and the app's settings.
"""

from __future__ import annotations

from typing import Any

from environments.runtime.compose import (
    DEFAULT_IMAGES,
    DEFAULT_ROLE_IMAGES,
    ComposeProfile,
    Image,
    ServiceOverride,
    required,
)
from environments.stack import Role

POSTGRES_URL = "postgresql+psycopg://acme:{password}@postgres:5432/{db}"
MINIO_IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
BUCKET = "acme-objects"
# Run once by the postgres image's entrypoint, on an empty data volume.
PAYMENTS_SQL = "-- The payments simulator's own database.\nCREATE DATABASE payments;\n"
MCP_HOSTS = (
    "--allow-host",
    "127.0.0.1:*",
    "--allow-host",
    "localhost:*",
    "--allow-host",
    "{name}:{port}",
)


def acme_profile() -> ComposeProfile:
    """Acme as production runs it: PostgreSQL, Redis and an S3 store instead of files."""
    from environments.acme.environment import RELEASE_DIR

    password = required("PRODBENCH_POSTGRES_PASSWORD")
    access, secret = required("PRODBENCH_S3_ACCESS_KEY"), required("PRODBENCH_S3_SECRET_KEY")

    def check(test: list[str], start: str = "30s") -> dict[str, Any]:
        return {
            "test": ["CMD", *test],
            "interval": "2s",
            "timeout": "3s",
            "retries": 5,
            "start_period": start,
        }

    infra: dict[str, dict[str, Any]] = {
        "postgres": {
            "image": "postgres:16",
            "environment": {
                "POSTGRES_USER": "acme",
                "POSTGRES_PASSWORD": password,
                "POSTGRES_DB": "acme",
            },
            "volumes": [
                "postgres-data:/var/lib/postgresql/data",
                "./acme/postgres/10-payments.sql:/docker-entrypoint-initdb.d/10-payments.sql:ro",
            ],
            # TCP, not the socket: the entrypoint's init-time server listens on the socket only.
            "healthcheck": check(
                ["pg_isready", "-h", "127.0.0.1", "-U", "acme", "-d", "acme"], "60s"
            ),
            "ports": ["127.0.0.1::5432"],
        },
        "redis": {
            "image": "redis:7",
            "command": ["redis-server", "--appendonly", "yes"],
            "volumes": ["redis-data:/data"],
            "healthcheck": check(["redis-cli", "ping"]),
            "ports": ["127.0.0.1::6379"],
        },
        "minio": {
            "image": MINIO_IMAGE,
            "command": ["server", "/data"],
            "environment": {"MINIO_ROOT_USER": access, "MINIO_ROOT_PASSWORD": secret},
            "volumes": ["minio-data:/data"],
            "healthcheck": check(["mc", "ready", "local"]),
            "ports": ["127.0.0.1::9000"],
        },
        "minio-init": {
            "image": MINIO_IMAGE,
            "entrypoint": ["mc"],
            "command": ["mb", "--ignore-existing", f"local/{BUCKET}"],
            "environment": {"MC_HOST_local": f"http://{access}:{secret}@minio:9000"},
            "depends_on": {"minio": {"condition": "service_healthy"}},
        },
    }
    for name, svc in infra.items():
        job = name.endswith("-init")
        svc["labels"] = {
            "io.prodbench.stack": "acme",
            "io.prodbench.role": "infra",
            "io.prodbench.kind": "job" if job else "service",
        }
        svc["restart"] = "no" if job else "on-failure:3"
    app_env = {
        "ACME_DATABASE_URL": POSTGRES_URL.format(password=password, db="acme"),
        "ACME_PAYMENTS_DATABASE_URL": POSTGRES_URL.format(password=password, db="payments"),
        "ACME_CACHE_URL": "redis://redis:6379/0",
        "ACME_OBJECT_STORE": f"s3://{BUCKET}",
        "ACME_S3_ENDPOINT_URL": "http://minio:9000",
        "AWS_ACCESS_KEY_ID": access,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    app = Image(
        repository="prodbench/acme-app",
        dockerfile="compose/docker/app.Dockerfile",
        context="environments/acme/app",
    )
    return ComposeProfile(
        images={**DEFAULT_IMAGES, "app": app},
        role_images={**DEFAULT_ROLE_IMAGES, Role.app: "app"},
        # The app image is the release: what the local runtime runs from releases/<sha>/.
        path_rewrites={RELEASE_DIR: "/app"},
        overrides={
            # Migrations and seed data straight into PostgreSQL (the local job copies SQLite).
            "db-init": ServiceOverride(
                argv=["{python}", "-m", "acme.seed", "--seed", "{seed}"], image="app"
            ),
            # The gateway is reached from the host on a port the engine picks, and by name in
            # the network: Host headers its DNS-rebinding check must accept.
            "mcp": ServiceOverride(extra_args=[*MCP_HOSTS]),
        },
        image_env={"app": app_env},
        image_depends={
            "app": {
                "postgres": "service_healthy",
                "redis": "service_healthy",
                "minio-init": "service_completed_successfully",
            }
        },
        infra=infra,
        volumes=["postgres-data", "redis-data", "minio-data"],
        files={"postgres/10-payments.sql": PAYMENTS_SQL},
        release_image="app",
    )
