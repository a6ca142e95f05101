"""Acme as a prodbench environment: its run preparation and its stack.

`prepare` builds the agent's monorepo (`workspace/`) from the app template with its scripted
history, and exports the HEAD commit into `releases/<sha>/`, which is what production runs, as
a deployer would (`git archive`, never the working tree). `stack` is the services of one
production: the database set-up job, payments, api, worker, web and the ingress in front,
watched by Prometheus and Alertmanager, with the team's tools and the MCP gateway the agent
reaches them through (its credentials are written by `prepare`, its ports known only once the
supervisor has planned them, so the gateway itself writes the run's mcp.json when it starts).
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path

from environments.acme.ops.rules import render_rules
from environments.history import apply_commits
from environments.ops.deployer.build import export_release
from environments.ops.deployer.models import DeployerConfig, ServiceConfig
from environments.runs import RunPaths, write_json_atomic
from environments.stack import HealthCheck, PortSpec, RestartPolicy, Role, ServiceSpec, StackSpec
from environments.stacks import (
    EnvironmentDef,
    RunContext,
    alertmanager_service,
    prometheus_service,
)

APP_DIR = Path(__file__).parent / "app"
TOOL_FIXTURES = Path(__file__).parent / "seed" / "tools"
# The team tools this environment runs so far, in one process (environments.tools.host).
TOOLS = ("slack", "linear", "notion", "sentry", "statuspage")
# Slack's incoming webhooks for #alerts and #deploys, as configured in seed/tools/slack.yaml.
ALERTS_WEBHOOK = "/services/T07ACME0001/B07ALERTS001/Am9xQ2vLr7TzK4pW8sYd3NfE"
DEPLOYS_WEBHOOK = "/services/T07ACME0001/B07DEPLOYS01/Dp4kR8tWz2QmX7vL9cHs5JgB"

ALERTMANAGER_CONFIG = (
    "route:\n"
    "  receiver: slack-alerts\n"
    "  group_by: ['alertname', 'service']\n"
    "  group_wait: 1s\n"
    "  group_interval: 5s\n"
    "  repeat_interval: 1h\n"
    "receivers:\n"
    "  - name: slack-alerts\n"
    "    slack_configs:\n"
    f"      - api_url: 'http://{{tools.host}}:{{tools.ports.slack}}{ALERTS_WEBHOOK}'\n"
    "        channel: '#alerts'\n"
    "        send_resolved: true\n"
)
RELEASE_DIR = "{run_dir}/releases/{vars.release}"
# Every app service is deployed by the deployer, the initial release included, in this order.
APP_SERVICES = ("payments", "api", "worker", "web", "ingress")
APP_PORT = 8000  # every app service's port inside a container
DEPLOYER_CONFIG = "state/ops/deployer.json"
FAST_TESTS = ["tests/test_common_unit.py", "tests/test_flags.py"]
# Production time is compressed so a trial takes minutes: alert windows and `for:` durations
# are multiplied by this (1 = compressed; 60 = realistic production windows). See ops/rules.py.
TIME_SCALE = 1.0

# The ingress routes /api to api instances and the rest to web; `{{` is a literal brace.
INGRESS_UPSTREAMS = (
    '{{"/api": [{{"name": "api-1", "url": "{api.url}", "weight": 100}}], '
    '"/": [{{"name": "web-1", "url": "{web.url}", "weight": 100}}]}}'
)


def _run_secret(ctx: RunContext, purpose: str) -> str:
    """A fresh random secret per run and purpose, kept in the run request for the run's life.

    Never derived from the run id or seed: prodbench's source is public, so a derived admin
    token would be one an agent could compute. Secrets shape no data, so determinism holds.
    """
    return secrets.token_hex(16)


def prepare(ctx: RunContext) -> dict[str, str]:
    from environments.acme.workspace import build_workspace  # costly import: only when used

    info = build_workspace(APP_DIR, ctx.paths.workspace, seed=ctx.seed)
    # A task's recent history goes in before the first release, so production starts with it.
    head = (apply_commits(ctx.paths.workspace, ctx.commits) or [info.head])[-1]
    # The agent commits as itself (the identity its Slack user has), whatever the machine's.
    for key, value in (("user.name", "Acme Agent"), ("user.email", "agent@acme.test")):
        subprocess.run(["git", "-C", str(ctx.paths.workspace), "config", key, value], check=True)
    export_release(ctx.paths.workspace, head, ctx.paths.releases / head)
    docker = _docker_secrets(ctx) if ctx.runtime == "docker" else None
    write_deployer_config(ctx, head, docker)
    if docker is not None:
        record_compose_deploy(ctx, head)
    tree = subprocess.run(
        ["git", "-C", str(ctx.paths.workspace), "rev-parse", f"{head}^{{tree}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    write_json_atomic(ctx.paths.state / "flags.json", {"flags": {}})
    (ctx.paths.state / "objects").mkdir(exist_ok=True)
    ops_agent_token = _run_secret(ctx, "ops-agent")
    write_agent_credentials(ctx, ops_agent_token)
    return {
        "release": head,
        "release_tree": tree,
        "python": sys.executable,
        "agent_ops_key": ops_agent_token,  # the agent's own credential, not a secret from it
        "ops_admin_token": _run_secret(ctx, "ops-admin"),
        "traffic_admin_token": _run_secret(ctx, "traffic-admin"),
        "webhook_secret": _run_secret(ctx, "payments-webhook"),
        "ingress_admin_token": _run_secret(ctx, "ingress-admin"),
        "tools_admin_token": _run_secret(ctx, "tools-admin"),
        **(docker or {}),
    }


def _docker_secrets(ctx: RunContext) -> dict[str, str]:
    """What only the docker runtime's infrastructure needs: PostgreSQL's and the S3 store's."""
    return {
        "postgres_password": _run_secret(ctx, "postgres"),
        "s3_access_key": _run_secret(ctx, "s3-access"),
        "s3_secret_key": _run_secret(ctx, "s3-secret"),
    }


# What the deployer's load tester asks a canary for: the storefront's hot read paths.
WEB_LOAD_PATHS = ["/", "/products", "/search?q=mug", "/products/1"]
API_LOAD_PATHS = [
    "/api/v1/products",
    "/api/v1/categories",
    "/api/v1/search?q=mug",
    "/api/v1/products/1",
    "/api/v1/store",
]


def write_deployer_config(
    ctx: RunContext, release: str, docker: dict[str, str] | None = None
) -> None:
    """How the deployer rolls out each app service (state/ops/deployer.json).

    Smoke checks are only `/healthz`: what a release does wrong under real requests is for the
    canary analysis to find, with the alert that goes with it, as in production. The analysis
    has a load tester on the hot read paths beside live traffic, as Flagger's does.

    Paths are where the deployer runs: the run directory, or under docker (`docker` holds the
    infrastructure's secrets) the run volume, with the app's database in PostgreSQL.
    """
    canary, recreate = "canary", "recreate"
    services = {
        "api": ServiceConfig(
            strategy=canary,
            route="/api",
            stable_instance="api-1",
            module="acme.api.app",
            load=API_LOAD_PATHS,
        ),
        "web": ServiceConfig(
            strategy=canary,
            route="/",
            stable_instance="web-1",
            module="acme.web.app",
            load=WEB_LOAD_PATHS,
        ),
        "worker": ServiceConfig(
            strategy=canary, stable_instance="worker-1", module="acme.worker.app"
        ),
        "payments": ServiceConfig(
            strategy=recreate, stable_instance="payments-1", module="acme.payments.app"
        ),
        "ingress": ServiceConfig(
            strategy=recreate, stable_instance="ingress-1", module="acme.ingress.app"
        ),
    }
    where = ctx.paths
    database_url = f"sqlite:///{ctx.paths.state / 'acme.db'}"
    if docker is not None:
        from environments.acme.compose_profile import POSTGRES_URL
        from environments.runtime.compose import RUN_MOUNT

        where = RunPaths(Path(RUN_MOUNT))
        database_url = POSTGRES_URL.format(password=docker["postgres_password"], db="acme")
    config = DeployerConfig(
        workspace=where.workspace,
        releases=where.releases,
        state=where.state,
        base_release=release,
        database_url=database_url,
        services=services,
        initial_order=list(APP_SERVICES),
        fast_tests=["{python}", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *FAST_TESTS],
        migrate=["{python}", "-m", "acme.common.migrate"],
        migrations_dir="migrations/versions",
        slack_webhook_path=DEPLOYS_WEBHOOK,
        prometheus_targets=where.prometheus / "targets",
    )
    from environments.ops.deployer.clients import Targets  # imports httpx: only when used

    # Target files now, so Prometheus watches them from its start and sees each instance the
    # moment the deployer adds it: empty, or under docker the containers compose starts.
    targets = Targets(ctx.paths.prometheus / "targets")
    for name in APP_SERVICES:
        targets.write(name, {name: f"{name}:{APP_PORT}"} if docker is not None else {})
    path = ctx.paths.root / DEPLOYER_CONFIG
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, config)


def record_compose_deploy(ctx: RunContext, release: str) -> None:
    """Under docker, compose itself starts the release's image: the deployer's history says so.

    The deployer performs the initial deploy at start unless its history has one; under
    docker that deploy is compose's (it starts `ops` once the app is healthy), so it is
    recorded here, with the live release of every app service, as the deployer would.
    """
    from environments.ops.deployer.history import History
    from environments.ops.deployer.models import Deploy, Stage

    subject = subprocess.run(
        ["git", "-C", str(ctx.paths.workspace), "log", "-1", "--format=%s", release],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    history = History(ctx.paths.state / "ops")
    now = time.time()
    how = "docker compose starts the release's image (prodbench/acme-app) for every service"
    deploy = Deploy(
        id=history.next_id(),
        kind="initial",
        services=list(APP_SERVICES),
        ref=release,
        sha=release,
        subject=subject,
        actor="prodbench",
        status="succeeded",
        stages=[Stage(name="start", status="passed", started_at=now, finished_at=now, detail=how)],
        detail={"runtime": "docker"},
        created_at=now,
        finished_at=now,
    )
    history.add(deploy)
    history.log(deploy.id, f"initial {deploy.id}: {how}")
    for service in APP_SERVICES:
        history.set_live(service, release, deploy.id)


def agent_tokens() -> dict[str, str]:
    """The agent's own credential for each tool, as the tool fixtures configure it.

    Only what the agent itself is given (its bot or integration token, its API key); the
    tools' admin token is a per-run secret of the environment and never among these.
    """
    fixture = _fixture

    def token_of(entries: list[dict], user: str, key: str = "token") -> str:
        found = [e[key] for e in entries if e.get("user") == user]
        if len(found) != 1:
            raise ValueError(f"expected one agent credential (user {user!r}), found {len(found)}")
        return found[0]

    notion = [i for i in fixture("notion")["integrations"] if i["key"] == "agent"]
    return {
        "slack": token_of(fixture("slack")["tokens"], "bot:agent"),
        "linear": token_of(fixture("linear")["tokens"], "bot:agent"),
        "notion": notion[0]["tokens"][0],
        "sentry": token_of(fixture("sentry")["tokens"], "agent"),
        "statuspage": token_of(fixture("statuspage")["api_keys"], "agent", key="key"),
    }


def write_agent_credentials(ctx: RunContext, ops_token: str) -> None:
    """state/agent-credentials.json: what the MCP gateway acts with on the agent's behalf.

    The agent's tool tokens, and its per-run token for the ops service (deploys and logs).
    """
    from mcp_servers.configs import CREDENTIALS_FILE, AgentCredentials

    tokens = {**agent_tokens(), "deploy": ops_token, "monitoring": ops_token}
    AgentCredentials(tokens=tokens).write(ctx.paths.root / CREDENTIALS_FILE)


def _fixture(tool: str) -> dict:
    """A tool's fixture, parsed with libyaml when it is there (10x faster: on `up`'s path)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((TOOL_FIXTURES / f"{tool}.yaml").read_text(), Loader=loader)


def sentry_dsns() -> dict[str, str]:
    """Each app service's DSN template, from the Sentry fixture (project `acme-<service>`)."""
    doc = _fixture("sentry")
    dsns = {}
    for project in doc["projects"]:
        service = project["slug"].removeprefix("acme-")
        key = project["keys"][0]["public"]
        dsns[service] = f"http://{key}@{{tools.host}}:{{tools.ports.sentry}}/{project['id']}"
    return dsns


def _app_env(**extra: str) -> dict[str, str]:
    env = {
        "PYTHONPATH": RELEASE_DIR,
        "ACME_RELEASE": "{vars.release}",
        "ACME_ENVIRONMENT": "production",
        "ACME_SERVICE_INSTANCE": "{name}-1",
        "ACME_DATABASE_URL": "sqlite:///{state_dir}/acme.db",
        "ACME_PAYMENTS_DATABASE_URL": "sqlite:///{state_dir}/payments.db",
        "ACME_OBJECT_STORE": "file://{state_dir}/objects",
        "ACME_FLAGS_FILE": "{state_dir}/flags.json",
        "ACME_FAULTS_FILE": "{state_dir}/faults.json",
        # Service-to-service calls to the api go through the ingress, as in production, so a
        # canary gets its share of them too.
        "ACME_API_URL": "{ingress.url}",
        "ACME_WEB_URL": "{web.url}",
        "ACME_PAYMENTS_URL": "{payments.url}",
        "ACME_WEBHOOK_SECRET": "{vars.webhook_secret}",
        "ACME_LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


def _app_service(name: str, depends_on: list[str], **extra_env: str) -> ServiceSpec:
    """An app service: started (and later replaced) by the deployer at the release it names."""
    return ServiceSpec(
        name=name,
        role=Role.app,
        description=f"Acme {name}",
        start="on-request",
        argv=["{vars.python}", "-m", f"acme.{name}", "--host", "{host}", "--port", "{port}"],
        env=_app_env(**extra_env),
        cwd=RELEASE_DIR,
        ports=[PortSpec(name="http", container=APP_PORT)],
        health=HealthCheck(path="/healthz", startup_timeout=30),
        depends_on=depends_on,
        restart=RestartPolicy(policy="on-failure", max_restarts=3),
        stop_grace=5.0,
        docker={"build": "environments/acme/app"},
    )


def tools_service() -> ServiceSpec:
    """Slack, Linear, Notion, Sentry and the status page: one process, a port each."""
    argv = [
        "{python}",
        "-m",
        "environments.tools.host",
        "--host",
        "{host}",
        "--state-dir",
        "{state_dir}",
        "--seed",
        "{seed}",
        "--health-port",
        "{port}",
    ]
    for tool in TOOLS:
        argv += [
            "--serve",
            f"{tool}={{ports.{tool}}}",
            "--fixtures",
            f"{tool}={TOOL_FIXTURES / tool}.yaml",
        ]
    return ServiceSpec(
        name="tools",
        role=Role.tool,
        description="the team's tools: " + ", ".join(TOOLS),
        argv=argv,
        env={"PRODBENCH_ADMIN_TOKEN": "{vars.tools_admin_token}"},
        ports=[PortSpec(name="http"), *(PortSpec(name=t) for t in TOOLS)],
        health=HealthCheck(path="/healthz", startup_timeout=30),
        restart=RestartPolicy(policy="on-failure", max_restarts=3),
        docker={"build": "."},
    )


def mcp_service() -> ServiceSpec:
    """The MCP gateway: one endpoint per tool at /<tool>/mcp; writes mcp.json and calls.jsonl."""
    return ServiceSpec(
        name="mcp",
        role=Role.gateway,
        description="MCP servers for the agent (slack, linear, notion, sentry, statuspage, "
        "monitoring, deploy) behind one gateway",
        argv=[
            "{python}",
            "-m",
            "mcp_servers.gateway",
            "--run-dir",
            "{run_dir}",
            "--host",
            "{host}",
            "--port",
            "{port}",
        ],
        health=HealthCheck(path="/healthz", startup_timeout=30),
        depends_on=["tools"],
        restart=RestartPolicy(policy="on-failure", max_restarts=3),
        stop_grace=5.0,
        docker={"build": "."},
    )


def traffic_service(users: int = 3, shape: str = "steady") -> ServiceSpec:
    """Seeded locust journeys and synthetic probes against the ingress (`python -m traffic`).

    Its metrics port serves the client-side view (`traffic_*`, `probe_*`) and `/healthz`,
    healthy once the first requests have been sent.
    """
    return ServiceSpec(
        name="traffic",
        role=Role.traffic,
        description=f"simulated customers ({shape}, {users} users) and synthetic probes",
        argv=[
            "{python}",
            "-m",
            "traffic",
            "--target",
            "{ingress.url}",
            "--seed",
            "{seed}",
            "--shape",
            shape,
            "--users",
            str(users),
            "--metrics-host",
            "{host}",
            "--metrics-port",
            "{port}",
        ],
        env={"TRAFFIC_ADMIN_TOKEN": "{vars.traffic_admin_token}"},
        health=HealthCheck(path="/healthz", startup_timeout=60),
        depends_on=["ingress", "api"],
        restart=RestartPolicy(policy="on-failure", max_restarts=3),
        stop_grace=5.0,
        docker={"build": "."},
    )


def ops_service() -> ServiceSpec:
    """The deployer, log search and fault injection; it performs the initial deploy."""
    return ServiceSpec(
        name="ops",
        role=Role.ops,
        description="the deployer (initial deploy at up), log search and fault injection",
        argv=[
            "{python}",
            "-m",
            "environments.ops",
            "--run-dir",
            "{run_dir}",
            "--config",
            "{run_dir}/" + DEPLOYER_CONFIG,
            "--host",
            "{host}",
            "--port",
            "{port}",
        ],
        env={
            "OPS_AGENT_TOKEN": "{vars.agent_ops_key}",
            "OPS_ADMIN_TOKEN": "{vars.ops_admin_token}",
            "INGRESS_ADMIN_TOKEN": "{vars.ingress_admin_token}",
            "TRAFFIC_ADMIN_TOKEN": "{vars.traffic_admin_token}",
        },
        runtime_access=True,
        health=HealthCheck(path="/healthz", startup_timeout=120),
        # Nothing to wait for: the runtime starts each app service once its own dependencies
        # (db-init) are done, and posts to Slack wait for Slack.
        restart=RestartPolicy(policy="on-failure", max_restarts=3),
        stop_grace=5.0,
        docker={"build": "."},
    )


def acme_stack(ctx: RunContext) -> StackSpec:
    db_init = ServiceSpec(
        name="db-init",
        kind="job",
        role=Role.app,
        description="migrations to head and seeded data, cached by release tree and seed",
        argv=[
            "{python}",
            "-m",
            "environments.acme.dbinit",
            "--release",
            RELEASE_DIR,
            "--state-dir",
            "{state_dir}",
            "--seed",
            "{seed}",
            "--key",
            "{vars.release_tree}",
        ],
        env=_app_env(),
        cwd=RELEASE_DIR,
        health=HealthCheck(kind="none", startup_timeout=120),
        restart=RestartPolicy(policy="no"),
    )
    # The app services are started by the deployer (`ops`) in its initial deploy, once db-init
    # has the databases ready; `up` returns only when every service is healthy. Each reports
    # errors to its own project in the run's Sentry.
    dsn = sentry_dsns()
    services = [
        db_init,
        _app_service("payments", ["db-init"], SENTRY_DSN=dsn["payments"]),
        _app_service("api", ["db-init"], SENTRY_DSN=dsn["api"]),
        _app_service("worker", ["db-init"], SENTRY_DSN=dsn["worker"]),
        _app_service("web", [], SENTRY_DSN=dsn["web"]),
        _app_service(
            "ingress",
            [],
            SENTRY_DSN=dsn["ingress"],
            ACME_INGRESS_UPSTREAMS=INGRESS_UPSTREAMS,
            ACME_INGRESS_ADMIN_TOKEN="{vars.ingress_admin_token}",
            ACME_INGRESS_SEED="{seed}",
            ACME_API_URL="{api.url}",
        ),
        ops_service(),
        tools_service(),
        mcp_service(),
        alertmanager_service(ALERTMANAGER_CONFIG),
        traffic_service(
            users=int(ctx.options.get("traffic_users", 3)),
            shape=ctx.options.get("traffic_shape", "steady"),
        ),
        prometheus_service(
            scrape={"traffic": "traffic"},
            drop_metrics="traffic_hostile_.*",
            file_sd={name: f"prometheus/targets/{name}.json" for name in APP_SERVICES},
            rule_files={"acme.yml": render_rules(TIME_SCALE)},
        ),
    ]
    return StackSpec(name="acme", description="Acme Outfitters in production", services=services)


ACME = EnvironmentDef(
    name="acme",
    description="Acme Outfitters: storefront, api, worker, payments and ingress, seeded",
    stack=acme_stack,
    prepare=prepare,
)
