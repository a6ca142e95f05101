"""The docker runtime: one run as a compose project of its own, from the committed compose file.

`prodbench up --runtime docker` prepares the run directory as the local runtime does (the
environment writes container paths and URLs into it, `RunContext.runtime`), then `ComposeRun`
drives compose for that run:

1. checks that `compose/<stack>.yaml` is what the run's stack renders to (no drift, no task
   options the file cannot express), and renders the run's own config files (Prometheus'
   `run_id` label) into `runs/<id>/docker/`;
2. writes the env file: the run's own seed, release and secrets from its prepare step, never the
   example values (graders and admin clients read the same secrets from the run directory);
3. builds the app image from the run's release directory and prodbench's images from the
   repository, one build at a time machine-wide, all tagged with the release;
4. makes the project's `run` volume a bind mount of the run directory itself (the agent's
   commits are what the deployer builds; what services write is what graders read; containers
   get their own `env.json` mounted over the host's), starts the project, and waits until
   every service is healthy and every job exited 0;
5. writes `env.json` and `mcp.json` for the host: the 127.0.0.1 ports the engine published.

Deploys replace containers through the `runtime` service (docker_control.py). A failed `up`
says which service failed with its last log lines and removes what it created, unless the run
keeps it for debugging. `down` keeps each container's log in `logs/<service>.log`, then removes
the project's containers, networks and volumes and the run's images (the releases it built). `runs/<id>/docker/run.json` records the project: it is how the
CLI knows a run is a docker run.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from environments.runs import Endpoint, EnvInfo, RunPaths, RunRequest, write_json_atomic
from environments.runtime.compose import (
    COMPOSE_DIR,
    FIRST_PORT,
    IMAGE_TAG,
    PRODBENCH_DOCKERFILE,
    REPO_ROOT,
    ComposeProfile,
    Renderer,
    compose_variables,
    container_ports,
    main_port,
    profile_for,
)
from environments.runtime.compose import (
    container_env as compose_container_env,
)
from environments.runtime.docker_engine import (
    ContainerState,
    DockerRunError,
    build_cli,
    build_lock,
    compose_cli,
    container_logs,
    engine_problem,
    last_health_check,
    project_images,
    project_leftovers,
    project_states,
    remove_images,
    remove_leftovers,
    run_cmd,
)
from environments.stack import Role, StackSpec

__all__ = ["ComposeRun", "DockerRunError", "is_docker_run", "preflight", "project_name"]

RECORD = "docker/run.json"
ENV_FILE = "docker/compose.env"
# A compose override of the run's own: the run volume binds the run directory, and the agent's
# workspace container (not a service of the stack: the agent's, not the company's).
RUN_OVERRIDE_FILE = "docker/run-override.yaml"
WORKSPACE_SERVICE = "workspace"
WORKSPACE_IMAGE = "prodbench/workspace"
AGENT_DIR = "docker/agent"  # mounted at /agent in the workspace container: its mcp.json
NICE = os.environ.get("PRODBENCH_DOCKER_NICE", "15")
BUILD_TIMEOUT = 1800.0  # a first build installs every dependency; later ones hit the cache
DOWN_TIMEOUT = 180.0
LOG_TAIL = 15
LOGS_KEPT = 100_000  # lines of each container's log `down` keeps in logs/
# What the containers write in the run directory (as uid 10001). The workspace is only read
# by them (the deployer exports commits), so it keeps its owner; run-request.json (every
# secret) and docker/ (the env file) are never opened to them.
WRITABLE = ("releases", "state", "prometheus", "logs")
# Compose reads these from the caller's environment ahead of the env file: left out, so the
# env file alone decides.
_OVERRIDING_ENV = ("PRODBENCH_", "COMPOSE_")

Status = Literal["prepared", "starting", "healthy", "failed", "stopped"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DockerRecord(_Model):
    """runs/<id>/docker/run.json: the run's compose project and what became of it."""

    runtime: Literal["docker"] = "docker"
    project: str
    stack: str
    compose_files: list[str]
    env_file: str
    images: list[str] = Field(default_factory=list, description="tags built for this run")
    status: Status = "prepared"
    error: str | None = None
    created_at: float = Field(default_factory=time.time)
    healthy_at: float | None = None
    stopped_at: float | None = None


class ImageBuild(_Model):
    """One image of the run: a Dockerfile (and target) built from a context, with its tag."""

    tag: str
    dockerfile: Path
    context: Path
    target: str | None = None


def compose_file(stack: str) -> Path:
    return COMPOSE_DIR / f"{stack}.yaml"


def project_name(run_id: str) -> str:
    """A compose project name from the run id (lower case letters, digits, - and _)."""
    return re.sub(r"[^a-z0-9_-]+", "-", f"prodbench-{run_id}".lower()).strip("-_")[:63]


def is_docker_run(paths: RunPaths) -> bool:
    return (paths.root / RECORD).is_file()


def preflight(stack: StackSpec) -> None:
    """Before a run directory is made: an engine answers and the stack has a compose file."""
    if not compose_file(stack.name).is_file():
        known = ", ".join(sorted(p.stem for p in COMPOSE_DIR.glob("*.yaml"))) or "none"
        raise DockerRunError(
            f"the docker runtime runs the committed compose files, and compose/ has none for "
            f"stack {stack.name!r} (it has: {known})"
        )
    problem = engine_problem()
    if problem:
        raise DockerRunError(problem)


def container_env(spec: StackSpec, request: RunRequest) -> EnvInfo:
    """env.json as the run's containers see it: every service by name on its container port."""
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return compose_container_env(spec, request.run_id, request.seed, request.task, created)


def workspace_container_id(paths: RunPaths) -> str:
    """The id of the run's workspace container (where a docker run's agent works)."""
    state = ComposeRun.load(paths).states().get(WORKSPACE_SERVICE)
    if state is None or state.status != "running":
        raise DockerRunError(f"run {paths.run_id} has no running workspace container")
    return state.id


def _open_to_containers(path: Path) -> None:
    """Directories 0777 and files 0666 under `path`, so the images' uid can write them."""
    if not path.exists():
        path.mkdir(parents=True)
    for root, dirs, files in os.walk(path):
        os.chmod(root, 0o777)
        for name in files:
            file = Path(root) / name
            if not file.is_symlink():
                os.chmod(file, os.stat(file).st_mode | 0o666)


class ComposeRun:
    """The compose project of one run: up, down, its containers' states and logs."""

    def __init__(self, paths: RunPaths, record: DockerRecord):
        self.paths, self.record = paths, record

    @classmethod
    def create(cls, paths: RunPaths, stack: str) -> ComposeRun:
        """Record a prepared run as a docker run (before anything exists in the engine)."""
        record = DockerRecord(
            project=project_name(paths.run_id),
            stack=stack,
            compose_files=[str(compose_file(stack))],
            env_file=str(paths.root / ENV_FILE),
        )
        run = cls(paths, record)
        run._save()
        return run

    @classmethod
    def load(cls, paths: RunPaths) -> ComposeRun:
        path = paths.root / RECORD
        try:
            return cls(paths, DockerRecord.model_validate_json(path.read_text()))
        except (OSError, ValueError) as exc:
            raise DockerRunError(f"{path} is not a docker run's record: {exc}") from exc

    def _save(self) -> None:
        path = self.paths.root / RECORD
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, self.record)

    def _compose(self, *args: str, timeout: float, what: str) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_OVERRIDING_ENV)}
        argv = [*compose_cli(), "--env-file", self.record.env_file]
        for path in self.record.compose_files:
            argv += ["-f", path]
        return run_cmd([*argv, "-p", self.record.project, *args], timeout, env=env, what=what)

    # ---- up ---------------------------------------------------------------------------------

    def up(
        self,
        request: RunRequest,
        timeout: float,
        keep_on_failure: bool = False,
        log: Callable[[str], None] = lambda message: None,
    ) -> EnvInfo:
        """Build, fill, start and wait; the host's env.json once every service is ready.

        `timeout` bounds the start (not the builds). On failure, or Ctrl-C, what was created is
        removed unless `keep_on_failure`; the error names the services and their last lines.
        """
        spec = StackSpec.model_validate(request.stack)
        self.record.status, self.record.error = "starting", None
        self._save()
        try:
            release = request.vars.get("release")
            if not release:
                raise DockerRunError("the run's prepare step set no release ({vars.release})")
            profile = profile_for(spec.name)
            text = self._check_committed(spec, profile)
            builds = self._builds(text, profile, release)
            self._write_env_file(spec, text, request, tag=release[:12])
            self._build(builds, log)
            self._write_override(builds[-1].tag)
            self._bind_run_volume(container_env(spec, request))
            deadline = time.monotonic() + timeout
            log("starting services (each waits for its dependencies to be healthy)")
            try:
                self._compose("up", "-d", "--no-build", timeout=timeout, what="compose up")
            except DockerRunError as exc:
                raise DockerRunError(self._diagnose(str(exc))) from None
            self._wait_ready(deadline, log)
            env = self._write_host_env(spec, request)
        except BaseException as exc:
            self.record.status = "failed"
            self.record.error = str(exc) if isinstance(exc, DockerRunError) else repr(exc)
            self._save()
            if not keep_on_failure:
                log("removing what this up created")
                try:
                    self._remove()
                except DockerRunError as cleanup:
                    self.record.error += f"\n(clean-up failed too: {cleanup})"
                    self._save()
            raise
        self.record.status, self.record.healthy_at = "healthy", time.time()
        self._save()
        return env

    def _check_committed(self, spec: StackSpec, profile: ComposeProfile) -> str:
        """The committed compose file's text, once it is what this run's stack renders to."""
        committed = Path(self.record.compose_files[0])
        text, ours = committed.read_text(), Renderer(spec, profile).files()[f"{spec.name}.yaml"]
        if ours == text:
            return text
        mine = yaml.safe_load(ours)["services"]
        theirs = (yaml.safe_load(text) or {}).get("services", {})
        differ = sorted(n for n in set(mine) | set(theirs) if mine.get(n) != theirs.get(n))
        raise DockerRunError(
            f"{committed} is not what this run's {spec.name!r} stack renders to (services "
            f"{', '.join(differ) or 'none; the text differs'}): either the file is stale (run "
            "`prodbench compose render`) or the run asks for options the committed file cannot "
            "express (a task's traffic settings), which the docker runtime does not support yet"
        )

    def _builds(self, text: str, profile: ComposeProfile, release: str) -> list[ImageBuild]:
        """The images the compose file names, the release's first; recorded for `down`."""
        app = profile.images.get(profile.release_image or "")
        builds: dict[str, ImageBuild] = {}
        for svc in yaml.safe_load(text)["services"].values():
            build, image = svc.get("build"), svc.get("image", "")
            if not build or image in builds:
                continue
            context = (COMPOSE_DIR / build["context"]).resolve()
            dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
            if app and image.startswith(f"{app.repository}:"):
                # The app is what the local runtime runs: the run's release, not the template.
                context, dockerfile = self.paths.releases / release, REPO_ROOT / app.dockerfile
            builds[image] = ImageBuild(
                tag=image.replace(IMAGE_TAG, release[:12]),
                dockerfile=dockerfile,
                context=context,
                target=build.get("target"),
            )
        ordered = sorted(builds.values(), key=lambda b: b.context != self.paths.releases / release)
        if not ordered:
            raise DockerRunError(f"{self.record.compose_files[0]} builds no image")
        ordered.append(
            ImageBuild(
                tag=f"{WORKSPACE_IMAGE}:{release[:12]}",
                dockerfile=REPO_ROOT / PRODBENCH_DOCKERFILE,
                context=REPO_ROOT,
                target=WORKSPACE_SERVICE,
            )
        )
        self.record.images = [b.tag for b in ordered]
        self._save()
        return ordered

    def _write_env_file(self, spec: StackSpec, text: str, request: RunRequest, tag: str) -> None:
        """Every variable the file reads: `PRODBENCH_<NAME>` is the run's `{vars.<name>}`.

        The config files it mounts are the run's own render (Prometheus' `run_id` label).
        """
        config = self.paths.root / "docker" / spec.name / "config"
        prefix = f"{spec.name}/config/"
        for rel, body in Renderer(spec, profile_for(spec.name), request.run_id).files().items():
            if rel.startswith(prefix):
                target = config / rel.removeprefix(prefix)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(body)
        given = {
            "PRODBENCH_SEED": str(request.seed),
            "PRODBENCH_RUN_ID": request.run_id,
            "PRODBENCH_IMAGE_TAG": tag,
            "PRODBENCH_CONFIG_DIR": str(config),
            "PRODBENCH_RUNTIME_TOKEN": secrets.token_hex(16),
        }
        values, missing = {}, []
        for name, default in compose_variables(text).items():
            var = name.removeprefix("PRODBENCH_").lower()
            if name in given:
                values[name] = given[name]
            elif var in request.vars:
                values[name] = request.vars[var]
            elif default is None:
                missing.append(f"{name} ({{vars.{var}}})")
        if missing:
            raise DockerRunError(
                "the compose file needs values the run's prepare step did not set: "
                + ", ".join(missing)
            )
        path = Path(self.record.env_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(f"{k}={v}\n" for k, v in sorted(values.items())))

    def _build(self, builds: list[ImageBuild], log: Callable[[str], None]) -> None:
        cli, extra = build_cli()
        env = {**os.environ, **extra}
        with build_lock():
            for build in builds:
                started = time.monotonic()
                argv = ["nice", "-n", NICE, cli, "build", "-q", "-f", str(build.dockerfile)]
                argv += ["--target", build.target] if build.target else []
                argv += ["-t", build.tag, str(build.context)]
                run_cmd(argv, BUILD_TIMEOUT, env=env, what=f"building {build.tag}")
                log(f"built {build.tag} in {time.monotonic() - started:.1f} s")

    def _bind_run_volume(self, env: EnvInfo) -> None:
        """The `run` volume: the run directory itself, bind-mounted, as containers see it.

        One directory for both sides: what the agent commits in `workspace/` is what the
        deployer builds, and what the services write (state, the call log, deploy history) is
        what graders read, with nothing to copy. The bind is an override file beside the env
        file (compose makes the volume; `down -v` removes it, never the directory). The images run as uid 10001: the directories they write are opened to them; the
        secrets (`run-request.json`, `docker/`) stay the host's alone.
        """
        config = self.paths.root / "docker" / env.stack / "config" / "env.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        text = env.model_dump_json(indent=2) + "\n"
        config.write_text(text)
        for name in (*WRITABLE, "workspace"):  # the agent's container commits as uid 10001
            _open_to_containers(self.paths.root / name)
        os.chmod(self.paths.root, 0o777)
        # Every secret of the run: the host's user alone reads them (the app's code, which
        # the agent writes, runs as uid 10001 on this very directory).
        os.chmod(self.paths.request, 0o600)
        os.chmod(self.paths.root / "docker", 0o700)

    def _write_override(self, workspace_image: str) -> None:
        """The run's compose override: the run volume's bind and the agent's workspace container.

        The workspace container mounts the workspace alone (never the run directory: no state,
        secrets or logs), gets the MCP config naming the gateway by its container name, and runs
        as the images' uid; the agent (or `prodbench exec`) works in it with `docker exec`.
        """
        agent = self.paths.root / AGENT_DIR
        agent.mkdir(parents=True, exist_ok=True)
        os.chmod(agent, 0o755)
        document = {
            "volumes": {
                "run": {
                    "driver": "local",
                    "driver_opts": {"type": "none", "o": "bind", "device": str(self.paths.root)},
                }
            },
            "services": {
                WORKSPACE_SERVICE: {
                    "image": workspace_image,
                    "init": True,
                    "command": ["sleep", "infinity"],
                    "working_dir": "/workspace",
                    "volumes": [f"{self.paths.workspace}:/workspace", f"{agent}:/agent:ro"],
                    "labels": {
                        "io.prodbench.role": "workspace",
                        "io.prodbench.kind": "service",
                    },
                    "depends_on": {"mcp": {"condition": "service_healthy"}},
                    "restart": "on-failure:3",
                    "stop_grace_period": "2s",
                }
            },
        }
        override = self.paths.root / RUN_OVERRIDE_FILE
        override.write_text(yaml.safe_dump(document, sort_keys=True))
        if str(override) not in self.record.compose_files:
            self.record.compose_files.append(str(override))
            self._save()

    def _wait_ready(self, deadline: float, log: Callable[[str], None]) -> None:
        expected, shown = self._expected_services(), ""
        while True:
            states = self.states()
            problems = [p for s in states.values() if (p := s.problem)]
            if problems:
                raise DockerRunError(self._diagnose("; ".join(problems)))
            waiting = sorted(set(expected) - {n for n, s in states.items() if s.ready})
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise DockerRunError(self._diagnose("not every service was ready in time"))
            if ", ".join(waiting) != shown:
                shown = ", ".join(waiting)
                log(f"waiting for: {shown}")
            time.sleep(1)

    def _expected_services(self) -> list[str]:
        names: set[str] = set()
        for path in self.record.compose_files:
            names |= set(yaml.safe_load(Path(path).read_text()).get("services") or {})
        return sorted(names)

    def _diagnose(self, headline: str) -> str:
        """What failed: each container not ready, with the last lines of the broken ones."""
        try:
            states = self.states()
        except DockerRunError as exc:
            return f"{headline}\n(the containers could not be inspected: {exc})"
        lines = [f"the docker run {self.paths.run_id} failed to start: {headline}"]
        missing = sorted(set(self._expected_services()) - set(states))
        if missing:
            lines.append(f"  not created: {', '.join(missing)}")
        broken = {n for n, s in states.items() if s.problem}
        # The broken ones' logs; when none is broken (a timeout), a few lines of each pending.
        for name, state in sorted(states.items()):
            if state.ready:
                continue
            show = name in broken or (not broken and state.status != "created")
            lines.append(f"  {name}: {state.describe()}" + ("; its last lines:" if show else ""))
            if show:
                tail = container_logs(state.id, LOG_TAIL if broken else 5) or ["(no output)"]
                lines += [f"    {line}" for line in tail]
                check = last_health_check(state.id)
                lines += [f"    last health check: {check}"] if check else []
        return "\n".join(lines)

    def _write_host_env(self, spec: StackSpec, request: RunRequest) -> EnvInfo:
        """env.json and mcp.json for the host: the services' published loopback ports."""
        states = self.states()
        services: dict[str, Endpoint] = {}
        for svc in spec.services:
            published = states[svc.name].ports if svc.name in states else {}
            ports = {n: published[c] for n, c in container_ports(svc).items() if c in published}
            main = main_port(svc)
            url = None
            if main in published and svc.health.kind == "http":
                url = f"http://127.0.0.1:{published[main]}"
            services[svc.name] = Endpoint(host="127.0.0.1", ports=ports, url=url)
        for name, state in sorted(states.items()):  # infrastructure: ports by number
            if name not in services and state.ports:
                ports = {str(c): h for c, h in sorted(state.ports.items())}
                services[name] = Endpoint(host="127.0.0.1", ports=ports)
        env = container_env(spec, request).model_copy(
            update={"run_dir": str(self.paths.root), "services": services}
        )
        write_json_atomic(self.paths.env_json, env)
        gateways = [s.name for s in spec.services if s.role == Role.gateway]
        for name in gateways:
            if services[name].url:
                self._write_mcp_json(services[name].url or "", name)
        return env

    def _write_mcp_json(self, base_url: str, name: str) -> None:
        """The gateway's servers at its published port (its own mcp.json names its container)."""
        import httpx  # on the docker path only: `up` of a local run never imports it

        from mcp_servers.configs import McpJson

        health = httpx.get(f"{base_url}/healthz", timeout=10, trust_env=False).json()
        servers = list(health.get("servers", {}))
        McpJson.for_gateway(base_url, servers).write(self.paths.mcp_json)
        inside = self.paths.root / AGENT_DIR / "mcp.json"  # the workspace container's view
        McpJson.for_gateway(f"http://{name}:{FIRST_PORT}", servers).write(inside)
        os.chmod(inside, 0o644)

    # ---- state and logs ---------------------------------------------------------------------

    def states(self) -> dict[str, ContainerState]:
        return project_states(self.record.project)

    def logs(self, service: str | None = None, lines: int = 40) -> dict[str, list[str]]:
        """Service -> its container's last lines (stdout and stderr)."""
        states = self.states()
        if service is not None:
            if service not in states:
                raise DockerRunError(
                    f"run {self.paths.run_id} has no container for {service!r}; services: "
                    + (", ".join(sorted(states)) or "none (is it up?)")
                )
            states = {service: states[service]}
        return {name: container_logs(s.id, lines) for name, s in sorted(states.items())}

    def live_status(self) -> str:
        """The recorded status, corrected by what the engine has now."""
        if self.record.status != "healthy":
            return {"prepared": "starting"}.get(self.record.status, self.record.status)
        try:
            states = self.states()
        except DockerRunError:
            return "unknown"
        if not states:
            return "crashed"
        return "degraded" if any(s.problem for s in states.values()) else "healthy"

    def _keep_logs(self) -> None:
        """Each container's whole log into logs/<service>.log, as the local runtime keeps them."""
        logs = self.paths.root / "logs"
        logs.mkdir(exist_ok=True)
        try:
            states = self.states()
        except DockerRunError:
            return
        for name, state in states.items():
            lines = container_logs(state.id, LOGS_KEPT)
            if lines:
                (logs / f"{name}.log").write_text("\n".join(lines) + "\n")

    def leftovers(self) -> dict[str, list[str]]:
        return project_leftovers(self.record.project)

    # ---- down -------------------------------------------------------------------------------

    def down(self) -> str:
        """Remove the project (containers, networks, volumes) and the run's images."""
        if self.record.status == "stopped" and not any(self.leftovers().values()):
            return "already stopped"
        removed = self._remove()
        self.record.status, self.record.stopped_at = "stopped", time.time()
        self._save()
        return removed

    def _remove(self) -> str:
        before = self.leftovers()
        if before["containers"]:
            self._keep_logs()
        if any(before.values()) and Path(self.record.env_file).is_file():
            args = ("down", "-v", "--remove-orphans", "--timeout", "10")
            self._compose(*args, timeout=DOWN_TIMEOUT, what="compose down")
        remove_leftovers(self.record.project, DOWN_TIMEOUT)
        built = project_images(self.record.project)  # the releases its deploys built
        kept = remove_images([*built, *self.record.images])
        counts = ", ".join(f"{len(ids)} {kind}" for kind, ids in before.items())
        removed = len(self.record.images) + len(built) - len(kept)
        message = f"stopped: removed {counts}, {removed} images"
        if kept:
            message += f" (kept {', '.join(kept)}: another run's containers use them)"
        return message
