"""The Acme app of compose/acme.yaml on a real Docker engine: up, a purchase, down.

The app image is built from compose/docker/app.Dockerfile as the compose file's `build:` says;
the app part of the file (PostgreSQL, Redis, MinIO and their init jobs, db-init, payments, api,
web, worker, ingress) comes up as its own compose project with fresh secrets; a customer then
registers, fills a cart and pays through the ingress' published port, and the test looks for
the result where production keeps it: the order in PostgreSQL, the charge in the payments
ledger, the catalogue cache in Redis, the receipt the worker wrote to the S3 store. `down -v`
must leave no container, network or volume behind. ops, mcp, tools, traffic, Prometheus and
Alertmanager are left out: they read the run volume `prodbench up --runtime docker` prepares
(tests/docker/test_up_docker.py brings the whole stack up that way).

Without a registry (as on this project's machines) the infrastructure images are local
stand-ins: `make test-docker` builds them (scripts/docker/standins.sh).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.docker.compose_project import (
    COMPOSE_DIR,
    ComposeProject,
    DockerError,
    build_image,
    compose_document,
    fresh_env_file,
    run,
)

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

IMAGE_TAG = "docker-test"  # one tag, rebuilt each run: the build cache keeps a rerun quick
APP_SERVICES = [
    "postgres",
    "redis",
    "minio",
    "minio-init",
    "db-init",
    "payments",
    "api",
    "web",
    "worker",
    "ingress",
]
JOBS = {"minio-init", "db-init"}
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "123"}


@dataclass
class Stack:
    project: ComposeProject
    base_url: str
    env: dict[str, str]

    def psql(self, database: str, sql: str) -> list[list[str]]:
        """Rows of `sql` run by psql inside the postgres container, as text."""
        out = self.project.exec("postgres", "psql", "-U", "acme", "-d", database, "-tAc", sql)
        return [line.split("|") for line in out.splitlines() if line]


@dataclass
class AppImage:
    tag: str
    buildkit: bool


@pytest.fixture(scope="module")
def app_image() -> AppImage:
    """prodbench/acme-app, built from the context and Dockerfile acme.yaml's services name."""
    build = compose_document()["services"]["api"]["build"]
    context = (COMPOSE_DIR / build["context"]).resolve()
    tag = f"prodbench/acme-app:{IMAGE_TAG}"
    buildkit = build_image((context / build["dockerfile"]).resolve(), context, tag)
    return AppImage(tag=tag, buildkit=buildkit)


@pytest.fixture(scope="module")
def stack(app_image: AppImage, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env_file = tmp_path_factory.mktemp("compose") / "acme.env"
    env = fresh_env_file(env_file, COMPOSE_DIR / "acme.env.example", PRODBENCH_IMAGE_TAG=IMAGE_TAG)
    project = ComposeProject.fresh(env_file)
    try:
        try:
            project.up(APP_SERVICES)
            project.wait_ready(APP_SERVICES, JOBS)
        except DockerError as exc:
            pytest.fail(f"{exc}\n--- logs ---\n{project.logs()}", pytrace=False)
        port = project.port("ingress", 8000)
        yield Stack(project=project, base_url=f"http://127.0.0.1:{port}", env=env)
    finally:
        try:
            project.down()
        except DockerError as exc:  # the last test reports what remains
            print(f"cleanup of {project.name}: {exc}")


def expect(resp: httpx.Response, status: int, what: str) -> dict:
    assert resp.status_code == status, f"{what}: HTTP {resp.status_code}: {resp.text[:300]}"
    return resp.json() if "json" in resp.headers.get("content-type", "") else {}


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=30, trust_env=False) as http:
        yield http


def test_the_app_image_runs_as_its_user_without_local_state(app_image: AppImage) -> None:
    probe = "import os; print(os.getuid(), os.path.exists('/app/var'), os.path.exists('/app/acme'))"
    argv = ["docker", "run", "--rm", "--entrypoint", "python", app_image.tag, "-c", probe]
    uid, has_var, has_code = run(argv, 120).split()
    assert (uid, has_code) == ("10001", "True")
    if not app_image.buildkit:
        pytest.skip("built without BuildKit, which alone reads app.Dockerfile.dockerignore")
    assert has_var == "False", "var/ (local state) was copied into the image"


def test_only_the_app_part_runs_and_every_service_is_healthy(stack: Stack) -> None:
    states = stack.project.states()
    assert set(states) == set(APP_SERVICES)
    for service, state in states.items():
        if service in JOBS:
            assert (state["Status"], state["ExitCode"]) == ("exited", 0), service
        else:
            assert state["Health"]["Status"] == "healthy", service


def test_the_env_files_fresh_secrets_are_in_force(stack: Stack, client: httpx.Client) -> None:
    token = stack.env["PRODBENCH_INGRESS_ADMIN_TOKEN"]
    assert client.get("/_ingress/upstreams").status_code == 401
    wrong = {"Authorization": "Bearer change-me"}
    assert client.get("/_ingress/upstreams", headers=wrong).status_code == 401
    right = {"Authorization": f"Bearer {token}"}
    table = expect(client.get("/_ingress/upstreams", headers=right), 200, "ingress admin")
    api = table["routes"]["/api"]["instances"]
    assert [i["url"] for i in api] == ["http://api:8000"], table


def test_a_customer_buys_through_the_ingress(stack: Stack, client: httpx.Client) -> None:
    page = client.get("/")  # web, through the ingress, rendering from the api
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]

    email = f"docker-{uuid.uuid4().hex[:10]}@example.com"
    account = {"email": email, "name": "Docker Test", "password": "correct-horse-7"}
    session = expect(client.post("/api/v1/users", json=account), 201, "register")
    auth = {"Authorization": f"Bearer {session['token']}"}

    listing = client.get("/api/v1/products", params={"in_stock": "true", "page_size": 50})
    products = expect(listing, 200, "list products")["items"]
    product = min((p for p in products if p["stock"] > 0), key=lambda p: p["id"])
    item = {"product_id": product["id"], "quantity": 1}
    cart = expect(client.post("/api/v1/cart/items", json=item, headers=auth), 201, "add to cart")
    assert cart["item_count"] == 1

    body = {"shipping_name": "Docker Test", "shipping_address": "1 Container Road", "card": CARD}
    keyed = {**auth, "Idempotency-Key": f"docker-{uuid.uuid4().hex}"}
    order = expect(client.post("/api/v1/orders", json=body, headers=keyed), 201, "checkout")
    assert order["status"] == "paid", order
    again = expect(client.get(f"/api/v1/orders/{order['id']}", headers=auth), 200, "the order")
    assert again["status"] == "paid"

    rows = stack.psql("acme", f"SELECT status, total_cents FROM orders WHERE id = {order['id']}")
    assert rows == [["paid", str(order["total_cents"])]], "the order is not in PostgreSQL"
    charges = stack.psql(
        "payments",
        f"SELECT status, captured_cents FROM charges WHERE metadata->>'order_id' = '{order['id']}'",
    )
    assert charges == [["captured", str(order["total_cents"])]], "no captured charge"

    # The worker renders the receipt into the S3 store (MinIO); the api reads it back.
    url, deadline = f"/api/v1/orders/{order['id']}/receipt", time.monotonic() + 60
    receipt = client.get(url, headers=auth)
    while receipt.status_code == 404 and time.monotonic() < deadline:
        time.sleep(1)
        receipt = client.get(url, headers=auth)
    assert receipt.status_code == 200, f"no receipt in the object store: {receipt.text[:300]}"
    assert f"#{order['id']}" in receipt.text


def test_the_api_caches_the_catalogue_in_redis(stack: Stack, client: httpx.Client) -> None:
    expect(client.get("/api/v1/categories"), 200, "list categories")
    keys = stack.project.exec("redis", "redis-cli", "--scan", "--pattern", "acme:catalog:*")
    assert "acme:catalog:" in keys and "categories" in keys, f"no catalogue keys in Redis: {keys}"


def test_down_leaves_no_container_network_or_volume(stack: Stack) -> None:
    project = stack.project
    before = project.leftovers()
    assert before["containers"] and before["networks"] and before["volumes"], before
    mounted = project.volumes_in_use()
    project.down()
    assert project.leftovers() == {"containers": [], "networks": [], "volumes": []}
    remaining = set(run(["docker", "volume", "ls", "-q"], 30).split()) & mounted
    assert not remaining, f"volumes the project mounted survive `down -v`: {remaining}"
