"""The stacks prodbench ships, built in code so they can adapt to the machine.

`ops` is the observability core every run has: a real Prometheus scraping itself and a real
Alertmanager. Later steps add the Acme app, the team tools, the deployer and the MCP gateway.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from environments.binaries import find_binary
from environments.history import WorkspaceCommit
from environments.runs import RunPaths
from environments.stack import HealthCheck, PortSpec, RestartPolicy, Role, ServiceSpec, StackSpec

PROMETHEUS_CONFIG = """\
global:
  scrape_interval: 2s
  evaluation_interval: 2s
  external_labels:
    run_id: {run_id}
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['{alertmanager.host}:{alertmanager.port}']
"""

SELF_SCRAPE = """\
  - job_name: prometheus
    static_configs:
      - targets: ['{host}:{port}']
  - job_name: alertmanager
    static_configs:
      - targets: ['{alertmanager.host}:{alertmanager.port}']
"""

SCRAPE_JOB = """\
  - job_name: {job}
    static_configs:
      - targets: ['{{{service}.host}}:{{{service}.port}}']
"""

FILE_SD_JOB = """\
  - job_name: {job}
    file_sd_configs:
      - files: ['{{run_dir}}/{path}']
        refresh_interval: 5s
"""

ALERTMANAGER_CONFIG = """\
route:
  receiver: default
  group_wait: 1s
  group_interval: 5s
  repeat_interval: 1h
receivers:
  - name: default
"""


def _literal(text: str) -> str:
    """`text` as a template that renders to itself (PromQL and Go templates use braces)."""
    return text.replace("{", "{{").replace("}", "}}")


def prometheus_service(
    scrape: dict[str, str] | None = None,
    rule_files: dict[str, str] | None = None,
    file_sd: dict[str, str] | None = None,
    drop_metrics: str | None = None,
) -> ServiceSpec:
    """Prometheus scraping itself, Alertmanager, and `scrape` (job name -> service name).

    `rule_files` (file name -> rule file text, literal, not a template) are written to
    `{run_dir}/prometheus/rules/` and loaded. `file_sd` (job name -> target file relative to
    the run directory) is for services whose instances come and go: whoever starts them (the
    deployer) rewrites the file and Prometheus follows. `drop_metrics` (a regex of metric
    names) is dropped at scrape from the `scrape` jobs: what the agent must not see through
    PromQL, such as which traffic is the hostile traffic a task injected.
    """
    config = PROMETHEUS_CONFIG
    files = {}
    if rule_files:
        config += "rule_files:\n"
        for name, text in rule_files.items():
            if "/" in name or not name.endswith((".yml", ".yaml")):
                raise ValueError(f"rule file name must be a plain *.yml name, got {name!r}")
            config += f"  - '{{run_dir}}/prometheus/rules/{name}'\n"
            files[f"prometheus/rules/{name}"] = _literal(text)
    relabel = (
        "    metric_relabel_configs:\n"
        "      - source_labels: [__name__]\n"
        f"        regex: '{_literal(drop_metrics)}'\n"
        "        action: drop\n"
        if drop_metrics
        else ""
    )
    jobs = "".join(SCRAPE_JOB.format(job=j, service=s) + relabel for j, s in (scrape or {}).items())
    jobs += "".join(FILE_SD_JOB.format(job=j, path=p) for j, p in (file_sd or {}).items())
    config += "scrape_configs:\n" + SELF_SCRAPE + jobs
    return ServiceSpec(
        name="prometheus",
        role=Role.ops,
        description="metrics and alert rules (the real Prometheus binary)",
        argv=[
            find_binary("prometheus") or "prometheus",
            "--config.file={run_dir}/prometheus/prometheus.yml",
            "--storage.tsdb.path={run_dir}/prometheus/data",
            "--web.listen-address={host}:{port}",
            "--web.enable-lifecycle",
            "--log.format=json",
        ],
        files={"prometheus/prometheus.yml": config, **files},
        health=HealthCheck(path="/-/ready", startup_timeout=30),
        depends_on=["alertmanager"],
        restart=RestartPolicy(policy="on-failure", max_restarts=2),
        docker={"image": "prom/prometheus:v2.42.0"},
    )


def alertmanager_service(config: str = ALERTMANAGER_CONFIG) -> ServiceSpec:
    """Alertmanager with `config` (a template: `{{`/`}}` for Go template braces)."""
    return ServiceSpec(
        name="alertmanager",
        role=Role.ops,
        description="routes firing and resolved alerts (the real Alertmanager binary)",
        argv=[
            find_binary("alertmanager") or "alertmanager",
            "--config.file={state_dir}/alertmanager/alertmanager.yml",
            "--storage.path={state_dir}/alertmanager/data",
            "--web.listen-address={host}:{port}",
            "--cluster.listen-address=",
            "--log.format=json",
        ],
        files={"state/alertmanager/alertmanager.yml": config},
        ports=[PortSpec(name="http")],
        health=HealthCheck(path="/-/ready", startup_timeout=30),
        restart=RestartPolicy(policy="on-failure", max_restarts=2),
        docker={"image": "prom/alertmanager:v0.25.0"},
    )


def ops_stack() -> StackSpec:
    return StackSpec(
        name="ops",
        description="the observability core: Prometheus and Alertmanager",
        services=[alertmanager_service(), prometheus_service()],
    )


@dataclass(frozen=True)
class RunContext:
    """What an environment may use to shape a run: its directory, its seed and the options a
    task asks for (e.g. `traffic_shape`, `traffic_users`); an environment ignores options it
    does not know. `runtime` is where the services will run: what `prepare` writes for them
    (paths, URLs) must be right there (`docker`: the run directory is the volume at /srv/run)."""

    paths: RunPaths
    seed: int = 0
    task: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    commits: tuple[WorkspaceCommit, ...] = ()  # the task's recent history, live from the start
    runtime: Literal["local", "docker"] = "local"


@dataclass(frozen=True)
class EnvironmentDef:
    """A named environment: how to prepare a run directory and which stack then runs in it.

    `prepare` does the one-time, in-process work before any service starts (building the
    workspace, exporting a release) and returns values the stack's templates read as
    `{vars.NAME}`; `stack` must not touch the disk, so `prodbench stack show` can print it.
    """

    name: str
    description: str
    stack: Callable[[RunContext], StackSpec]
    prepare: Callable[[RunContext], dict[str, str]] = field(default=lambda ctx: {})


OPS = EnvironmentDef("ops", "Prometheus and Alertmanager only", lambda ctx: ops_stack())
