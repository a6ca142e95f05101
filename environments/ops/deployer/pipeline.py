"""The deploy pipeline: build -> checks -> migrate -> canary and analysis -> promote or roll back.

One operation at a time (a deploy, a rollback, a restart or a flag change), each recorded in
the history with its stages, timings and log, and announced in Slack #deploys. Instances are
started and replaced through the run's runtime (the supervisor's control API), traffic is
shifted through the ingress's routing table, and Prometheus learns of new instances from the
file_sd target files this module rewrites.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import threading
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from environments.ops.deployer import analysis
from environments.ops.deployer.build import (
    BuildError,
    export_release,
    git,
    migration_heads,
    python_for,
    resolve,
    sqlite_revisions,
)
from environments.ops.deployer.checks import run_checks
from environments.ops.deployer.clients import IngressAdmin, SlackWebhook, Targets
from environments.ops.deployer.history import History
from environments.ops.deployer.models import Deploy, DeployerConfig, ServiceConfig, Stage
from environments.runs import write_json_atomic
from environments.runtime.client import RuntimeClient, RuntimeControlError

log = logging.getLogger(__name__)
DRAIN_SECONDS = 0.5
FLAG_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class DeployRejected(Exception):
    """A request the deployer will not start; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class StageFailed(Exception):
    pass


class Deployer:
    def __init__(
        self,
        cfg: DeployerConfig,
        runtime: RuntimeClient,
        ingress: IngressAdmin,
        prometheus: analysis.Prometheus,
        slack: SlackWebhook,
        history: History,
        flags_file: Path,
    ):
        self.cfg = cfg
        self.runtime = runtime
        self.ingress = ingress
        self.prom = prometheus
        self.slack = slack
        self.history = history
        self.targets = Targets(cfg.prometheus_targets)
        self.flags_file = flags_file
        self._busy = threading.Lock()

    # ---- requests ---------------------------------------------------------------------------

    def submit(self, services: list[str], ref: str, actor: str) -> Deploy:
        """Validate and start a deploy in the background; its id comes back at once."""
        services = self._known(services)
        try:
            sha, subject = resolve(self.cfg.workspace, ref)
        except BuildError as exc:
            raise DeployRejected(str(exc), 400) from None
        self._acquire()
        deploy = self._record("deploy", services, actor, ref=ref, sha=sha, subject=subject)
        threading.Thread(
            target=self._run_locked, args=(deploy, self._deploy), name=deploy.id, daemon=True
        ).start()
        return deploy

    def initial(self) -> Deploy:
        """The first production deploy, at `up`: the same path, nothing live to canary against."""
        done = [d for d in self.history.list(limit=1000) if d.kind == "initial"]
        if done and done[0].status == "succeeded":
            return done[0]
        self._acquire()
        sha = self.cfg.base_release
        subject = git(self.cfg.workspace, "log", "-1", "--format=%s", sha)
        deploy = self._record(
            "initial", self.cfg.initial_order, "prodbench", ref=sha, sha=sha, subject=subject
        )
        self._run_locked(deploy, self._initial)
        return deploy

    def rollback(self, service: str, to: str | None, actor: str) -> Deploy:
        [service] = self._known([service])
        if to:
            try:
                sha, subject = resolve(self.cfg.workspace, to)
            except BuildError as exc:
                raise DeployRejected(str(exc), 400) from None
        else:
            sha = self.history.previous_release(service)
            if sha is None:
                raise DeployRejected(f"{service} has no earlier release to roll back to", 409)
            subject = git(self.cfg.workspace, "log", "-1", "--format=%s", sha)
        self._acquire()
        deploy = self._record("rollback", [service], actor, ref=to or sha, sha=sha, subject=subject)
        self._run_locked(deploy, self._rollback)
        return deploy

    def restart(self, service: str, actor: str) -> Deploy:
        [service] = self._known([service])
        self._acquire()
        deploy = self._record("restart", [service], actor)
        self._run_locked(deploy, self._restart)
        return deploy

    def set_flag(self, name: str, value: Any, actor: str) -> Deploy:
        if not FLAG_NAME.fullmatch(name):
            raise DeployRejected(f"{name!r} is not a flag name (letters, digits, _ . -)")
        if isinstance(value, dict) and "value" not in value:
            raise DeployRejected(
                "a rule object needs a 'value' (and optionally 'instances' or 'rollout_percent')"
            )
        self._acquire()
        deploy = self._record("flag", [], actor, detail={"flag": name, "value": value})
        self._run_locked(deploy, self._flag)
        return deploy

    def flags(self) -> dict[str, Any]:
        try:
            data = json.loads(self.flags_file.read_text())
        except (OSError, ValueError):
            return {}
        return data.get("flags", {}) if isinstance(data, dict) else {}

    def services(self) -> list[dict[str, Any]]:
        """Each deployable service: its live release, strategy and instances."""
        live = self.history.live()
        instances = self.runtime.instances()
        out = []
        for name, svc in self.cfg.services.items():
            rel = live.get(name)
            out.append(
                {
                    "service": name,
                    "strategy": svc.strategy,
                    "release": rel.sha if rel else None,
                    "deploy_id": rel.deploy_id if rel else None,
                    "deployed_at": _iso(rel.deployed_at) if rel else None,
                    "instances": [
                        {
                            "instance": i["instance"],
                            "status": i["status"],
                            "url": i.get("url"),
                            "release": (i.get("vars") or {}).get("release"),
                        }
                        for i in instances
                        if i["service"] == name
                    ],
                }
            )
        return out

    # ---- bookkeeping ------------------------------------------------------------------------

    def _known(self, services: list[str]) -> list[str]:
        unknown = [s for s in services if s not in self.cfg.services]
        if unknown:
            raise DeployRejected(
                f"unknown service(s) {', '.join(unknown)}; deployable: "
                f"{', '.join(self.cfg.services)}",
                404,
            )
        if len(set(services)) != len(services):
            raise DeployRejected("a service is named twice")
        return services

    def _acquire(self) -> None:
        if not self._busy.acquire(blocking=False):
            running = self.history.running()
            what = f"{running.kind} {running.id}" if running else "another operation"
            raise DeployRejected(
                f"{what} is in progress; wait for it to finish (deploy_status) and try again",
                409,
            )

    def _record(self, kind: str, services: list[str], actor: str, **fields: Any) -> Deploy:
        deploy = Deploy(
            id=self.history.next_id(), kind=kind, services=services, actor=actor, **fields
        )
        deploy.previous = {s: self._live_sha(s) for s in services}
        self.history.add(deploy)
        return deploy

    def _live_sha(self, service: str) -> str | None:
        rel = self.history.live().get(service)
        return rel.sha if rel else None

    def _log(self, deploy: Deploy, message: str) -> None:
        self.history.log(deploy.id, message)

    def _run_locked(self, deploy: Deploy, body) -> None:
        try:
            deploy.status = "running"
            self.history.save()
            body(deploy)
            if deploy.status == "running":
                deploy.status = "succeeded"
        except StageFailed as exc:
            deploy.status = "failed"
            deploy.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a deployer bug must not leave it "running"
            deploy.status = "failed"
            deploy.error = f"the deployer failed: {type(exc).__name__}: {exc}"
            self._log(deploy, traceback.format_exc())
        finally:
            deploy.finished_at = time.time()
            self._log(deploy, f"{deploy.kind} {deploy.id} {deploy.status}" + _suffix(deploy.error))
            self.history.save()
            self._busy.release()
            self._announce_end(deploy)

    @contextmanager
    def _stage(self, deploy: Deploy, name: str) -> Iterator[Stage]:
        stage = Stage(name=name, status="running", started_at=time.time())
        deploy.stages.append(stage)
        self.history.save()
        self._log(deploy, f"== {name}")
        try:
            yield stage
        except Exception as exc:
            stage.status = "failed"
            stage.detail = stage.detail or str(exc)
            raise
        else:
            if stage.status == "running":
                stage.status = "passed"
        finally:
            stage.finished_at = time.time()
            self._log(
                deploy, f"   {name}: {stage.status} in {stage.seconds}s" + _suffix(stage.detail)
            )
            self.history.save()

    # ---- announcements ----------------------------------------------------------------------

    def announce_start(self, deploy: Deploy) -> None:
        self.slack.post(
            f":rocket: Deploy {deploy.id} started by {deploy.actor}: "
            f"{', '.join(deploy.services)} -> `{(deploy.sha or '')[:8]}` {deploy.subject or ''}"
        )

    def _announce_end(self, deploy: Deploy) -> None:
        took = f"{deploy.finished_at - deploy.created_at:.1f}s" if deploy.finished_at else ""
        what = {
            "initial": f"Initial deploy {deploy.id} of {', '.join(deploy.services)}",
            "deploy": f"Deploy {deploy.id} of {', '.join(deploy.services)}",
            "rollback": f"Rollback {deploy.id} of {', '.join(deploy.services)}",
            "restart": f"Restart {deploy.id} of {', '.join(deploy.services)}",
            "flag": f"Flag {deploy.detail.get('flag')} set to "
            f"`{deploy.detail.get('value')!r}` ({deploy.id})",
        }[deploy.kind]
        sha = f" at `{deploy.sha[:8]}`" if deploy.sha and deploy.kind != "flag" else ""
        icon = {"succeeded": ":white_check_mark:", "rolled_back": ":rewind:"}.get(
            deploy.status, ":x:"
        )
        text = f"{icon} {what}{sha} {deploy.status.replace('_', ' ')} in {took} by {deploy.actor}"
        if deploy.error:
            text += f": {deploy.error}"
        self.slack.post(text)

    # ---- operations -------------------------------------------------------------------------

    def _deploy(self, deploy: Deploy) -> None:
        self.announce_start(deploy)
        assert deploy.sha
        release, python = self._build(deploy, deploy.sha)
        self._checks(deploy, release, python, deploy.services)
        self._migrate(deploy, release, python)
        promoted: list[str] = []
        for service in deploy.services:
            if not self._rollout(deploy, service, deploy.sha, python):
                for earlier in reversed(promoted):
                    self._revert(deploy, earlier)
                deploy.status = "rolled_back"
                return
            promoted.append(service)
            self.history.set_live(service, deploy.sha, deploy.id)

    def _initial(self, deploy: Deploy) -> None:
        assert deploy.sha
        release, python = self._build(deploy, deploy.sha)
        self._checks(deploy, release, python, deploy.services)
        self._migrate(deploy, release, python)
        with self._stage(deploy, "start") as stage:
            release_vars = {"release": deploy.sha, "python": python}

            def start(service: str) -> dict:
                return self.runtime.start(service, vars=release_vars)

            with ThreadPoolExecutor(max_workers=len(deploy.services)) as pool:
                results = dict(zip(deploy.services, pool.map(_safe(start), deploy.services)))
            failed = {s: r for s, r in results.items() if isinstance(r, Exception)}
            for service, inst in results.items():
                if not isinstance(inst, Exception):
                    self._log(deploy, f"   {service}: healthy at {inst.get('url')}")
                    self._write_targets(service, {service: inst})
            if failed:
                stage.detail = "; ".join(f"{s}: {_why(e)}" for s, e in failed.items())
                raise StageFailed(f"could not start {', '.join(failed)}: {stage.detail}")
        for service in deploy.services:
            self.history.set_live(service, deploy.sha, deploy.id)

    def _rollback(self, deploy: Deploy) -> None:
        assert deploy.sha
        [service] = deploy.services
        self.announce_start(deploy)
        _, python = self._build(deploy, deploy.sha)
        with self._stage(deploy, f"rollback:{service}"):
            self._replace_main(deploy, service, {"release": deploy.sha, "python": python})
        self.history.set_live(service, deploy.sha, deploy.id)

    def _restart(self, deploy: Deploy) -> None:
        [service] = deploy.services
        with self._stage(deploy, f"restart:{service}"):
            try:
                self.runtime.restart(service)
            except RuntimeControlError as exc:
                raise StageFailed(f"{service} did not come back: {_why(exc)}") from None

    def _flag(self, deploy: Deploy) -> None:
        with self._stage(deploy, "apply"):
            flags = self.flags()
            flags[deploy.detail["flag"]] = deploy.detail["value"]
            write_json_atomic(self.flags_file, {"flags": flags})

    # ---- stages -----------------------------------------------------------------------------

    def _build(self, deploy: Deploy, sha: str) -> tuple[Path, str]:
        with self._stage(deploy, "build") as stage:
            release = self.cfg.releases / sha
            existed = (release / ".release.json").exists()
            try:
                export_release(self.cfg.workspace, sha, release)
                python = python_for(
                    release,
                    self.cfg.releases / self.cfg.base_release,
                    lambda m: self._log(deploy, m),
                )
            except BuildError as exc:
                raise StageFailed(f"build failed: {exc}") from None
            stage.detail = f"releases/{sha[:12]}" + (" (reused)" if existed else "")
            return release, python

    def _checks(self, deploy: Deploy, release: Path, python: str, services: list[str]) -> None:
        with self._stage(deploy, "checks") as stage:
            tree = git(self.cfg.workspace, "rev-parse", f"{deploy.sha}^{{tree}}")
            modules = [self.cfg.services[s].module for s in services]
            results, cached = run_checks(
                release, python, self.cfg.fast_tests, modules, tree, self.cfg.checks_timeout
            )
            for r in results:
                self._log(deploy, f"-- {r.name}: {'ok' if r.ok else 'FAILED'} ({r.seconds}s)")
                if not r.ok or r.name == "fast tests":
                    self._log(deploy, r.output)
            failed = [r for r in results if not r.ok]
            if failed:
                last = failed[0].output.strip().splitlines()[-1:] or [""]
                stage.detail = f"{failed[0].name} failed: {last[0]}"
                raise StageFailed(f"checks failed ({failed[0].name}); see deploy_logs")
            stage.detail = "cached: this tree passed before" if cached else "passed"

    def _migrate(self, deploy: Deploy, release: Path, python: str) -> None:
        if not self.cfg.migrate:
            return
        with self._stage(deploy, "migrate") as stage:
            if self.cfg.migrations_dir:
                heads = migration_heads(release / self.cfg.migrations_dir)
                current = sqlite_revisions(self.cfg.database_url)
                if heads and current == heads:
                    stage.detail = f"already at head ({', '.join(sorted(heads))})"
                    self._log(deploy, stage.detail)
                    return
            argv = [python if a == "{python}" else a for a in self.cfg.migrate]
            env = {"ACME_DATABASE_URL": self.cfg.database_url, "PATH": "/usr/bin:/bin"}
            proc = subprocess.run(
                argv, cwd=release, env=env, capture_output=True, text=True, timeout=300, check=False
            )
            output = (proc.stdout + proc.stderr).strip()
            self._log(deploy, output)
            if proc.returncode != 0:
                stage.detail = (output.splitlines() or ["no output"])[-1]
                raise StageFailed(f"migrations failed: {stage.detail}")
            stage.detail = (output.splitlines() or ["done"])[-1]

    def _rollout(self, deploy: Deploy, service: str, sha: str, python: str) -> bool:
        """One service to the new release; False when it was rolled back."""
        svc = self.cfg.services[service]
        release_vars = {"release": sha, "python": python}
        if svc.strategy == "recreate":
            return self._recreate(deploy, service, svc, release_vars)
        canary = f"{service}-canary"
        try:
            with self._stage(deploy, f"canary:{service}") as stage:
                inst = self._start_canary(deploy, service, svc, canary, release_vars)
                stage.detail = f"{canary} at {inst['url']}" + (
                    f", {self.cfg.analysis.canary_weight:g}% of {svc.route}" if svc.route else ""
                )
            with self._stage(deploy, f"analysis:{service}") as stage:
                stage.detail = self._analyse(deploy, service, svc, canary)
        except StageFailed as exc:
            deploy.error = f"{service}: {exc}"
            with self._stage(deploy, f"rollback:{service}"):
                self._drop_canary(service, svc, canary)
            return False
        before = dict(self._main(service).get("vars") or {})
        try:
            with self._stage(deploy, f"promote:{service}"):
                self._promote(deploy, service, svc, canary, release_vars)
        except StageFailed as exc:
            deploy.error = f"{service}: {exc}"
            with self._stage(deploy, f"rollback:{service}"):
                self._replace_main(deploy, service, before, keep_canary=True)
                self._drop_canary(service, svc, canary)
            return False
        return True

    def _start_canary(
        self, deploy: Deploy, service: str, svc: ServiceConfig, canary: str, release_vars: dict
    ) -> dict:
        try:
            inst = self.runtime.add_instance(
                service, canary, vars=release_vars, env={"ACME_SERVICE_INSTANCE": canary}
            )
        except RuntimeControlError as exc:
            self._log(deploy, "\n".join(exc.log_tail or []))
            raise StageFailed(f"the canary did not start: {_why(exc)}") from None
        self._smoke(deploy, inst["url"], svc.smoke)
        self._warm_up(deploy, inst["url"], svc.load)
        main = self._main(service)
        self._write_targets(service, {service: main, canary: inst})
        if svc.route:
            weight = self.cfg.analysis.canary_weight
            self.ingress.set_instances(
                svc.route,
                [
                    {"name": svc.stable_instance, "url": main["url"], "weight": 100 - weight},
                    {"name": canary, "url": inst["url"], "weight": weight},
                ],
            )
        return inst

    def _warm_up(self, deploy: Deploy, url: str, paths: list[str]) -> None:
        """One request per hot path straight to the new instance, before it takes traffic.

        A fresh process answers its first pages slowly (templates compile, pools connect):
        through the ingress those requests would be the canary's p95 and fail a good release.
        Sent directly, they never reach the ingress' metrics the analysis reads.
        """
        if not paths:
            return
        started = time.monotonic()
        answered = 0
        with httpx.Client(base_url=url, timeout=10) as client:
            for path in paths:
                try:
                    answered += client.get(path).status_code < 500
                except httpx.HTTPError:
                    pass
        self._log(
            deploy,
            f"   warm-up: {answered}/{len(paths)} hot paths answered in "
            f"{time.monotonic() - started:.1f}s",
        )

    def _smoke(self, deploy: Deploy, url: str, paths: list[str]) -> None:
        for path in paths:
            try:
                resp = httpx.get(url + path, timeout=10)
            except httpx.HTTPError as exc:
                raise StageFailed(f"smoke check GET {path} failed: {exc}") from None
            self._log(deploy, f"   smoke GET {path} -> {resp.status_code}")
            if resp.status_code >= 500:
                raise StageFailed(f"smoke check GET {path} answered {resp.status_code}")

    def _analyse(self, deploy: Deploy, service: str, svc: ServiceConfig, canary: str) -> str:
        if not (svc.route and svc.load and self.cfg.analysis.load_rps):
            return self._analysis_checks(deploy, service, svc, canary)
        with self.ingress.load(canary, svc.load, self.cfg.analysis.load_rps) as load:
            try:
                return self._analysis_checks(deploy, service, svc, canary)
            finally:
                self._log(
                    deploy,
                    f"   load test: {load.sent} requests to {canary} over {len(svc.load)} "
                    f"paths, {load.failed} failed",
                )

    def _analysis_checks(
        self, deploy: Deploy, service: str, svc: ServiceConfig, canary: str
    ) -> str:
        cfg = self.cfg.analysis
        failures = passes = 0
        began = time.monotonic()
        for i in range(1, cfg.iterations + 1):
            time.sleep(cfg.interval)
            # Each check looks at everything since the canary took traffic (plus a scrape), so
            # a fault on a path only some requests take adds up instead of slipping between
            # short windows.
            window = f"{max(int(time.monotonic() - began) + 3, cfg.min_window)}s"
            try:
                if svc.route:
                    sample = analysis.ingress_sample(self.prom, service, canary, window)
                elif service == "worker":
                    sample = analysis.worker_sample(self.prom, canary, window)
                else:
                    sample = analysis.service_sample(self.prom, service, canary, window)
                verdict = analysis.judge(sample, cfg)
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                verdict = analysis.Verdict(None, f"Prometheus query failed: {exc}")
            failures += verdict.ok is False
            passes += verdict.ok is True
            mark = {True: "pass", False: "FAIL", None: "skip"}[verdict.ok]
            self._log(deploy, f"   check {i}/{cfg.iterations}: {mark}: {verdict.reason}")
            if failures >= cfg.max_failed_checks:
                raise StageFailed(
                    f"canary analysis failed {failures} checks (last: {verdict.reason})"
                )
        if not passes:
            return f"{cfg.iterations} checks, no traffic measured; promoted on smoke checks"
        return f"{passes} passed, {failures} failed of {cfg.iterations} checks"

    def _promote(
        self, deploy: Deploy, service: str, svc: ServiceConfig, canary: str, release_vars: dict
    ) -> None:
        canary_inst = self._instance(canary)
        if svc.route and canary_inst:
            main = self._main(service)
            self.ingress.set_instances(
                svc.route,
                [
                    {"name": svc.stable_instance, "url": main["url"], "weight": 0},
                    {"name": canary, "url": canary_inst["url"], "weight": 100},
                ],
            )
        if canary_inst:
            # The stable instance is down on purpose while it is replaced: Prometheus stops
            # scraping it first, so its restart is not a ServiceDown (the canary serves).
            self._write_targets(service, {canary: canary_inst})
        self._replace_main(deploy, service, release_vars, keep_canary=True)
        if canary_inst:
            self._write_targets(service, {service: self._main(service), canary: canary_inst})
        self._drop_canary(service, svc, canary)

    def _drop_canary(self, service: str, svc: ServiceConfig, canary: str) -> None:
        main = self._main(service)
        if svc.route:
            self.ingress.set_instances(
                svc.route, [{"name": svc.stable_instance, "url": main["url"], "weight": 100}]
            )
            time.sleep(DRAIN_SECONDS)
        if self._instance(canary):
            try:
                self.runtime.remove_instance(canary)
            except RuntimeControlError as exc:
                log.warning("could not remove %s: %s", canary, exc)
        self._write_targets(service, {service: main})

    def _replace_main(
        self, deploy: Deploy, service: str, release_vars: dict, keep_canary: bool = False
    ) -> None:
        try:
            inst = self.runtime.restart(service, vars=release_vars)
        except RuntimeControlError as exc:
            self._log(deploy, "\n".join(exc.log_tail or []))
            raise StageFailed(f"{service} did not become healthy: {_why(exc)}") from None
        self._log(deploy, f"   {service}: release {release_vars['release'][:8]} healthy")
        if not keep_canary:
            self._write_targets(service, {service: inst})

    def _recreate(
        self, deploy: Deploy, service: str, svc: ServiceConfig, release_vars: dict
    ) -> bool:
        before = dict(self._main(service).get("vars") or {})
        try:
            with self._stage(deploy, f"replace:{service}"):
                self._replace_main(deploy, service, release_vars)
                self._smoke(deploy, self._main(service)["url"], svc.smoke)
            with self._stage(deploy, f"bake:{service}") as stage:
                time.sleep(self.cfg.analysis.bake)
                sample = analysis.service_sample(
                    self.prom, service, service, f"{max(int(self.cfg.analysis.bake), 2)}s"
                )
                verdict = analysis.judge(sample, self.cfg.analysis)
                stage.detail = verdict.reason
                if verdict.ok is False:
                    raise StageFailed(f"bake analysis failed: {verdict.reason}")
        except StageFailed as exc:
            deploy.error = f"{service}: {exc}"
            with self._stage(deploy, f"rollback:{service}"):
                self._replace_main(deploy, service, before)
            return False
        return True

    def _revert(self, deploy: Deploy, service: str) -> None:
        """Put a service promoted earlier in this deploy back on its previous release."""
        previous = deploy.previous.get(service)
        if not previous:
            return
        with self._stage(deploy, f"rollback:{service}"):
            python = python_for(
                self.cfg.releases / previous,
                self.cfg.releases / self.cfg.base_release,
                lambda m: self._log(deploy, m),
            )
            self._replace_main(deploy, service, {"release": previous, "python": python})
        self.history.set_live(service, previous, deploy.id)

    # ---- runtime views ----------------------------------------------------------------------

    def _instance(self, name: str) -> dict | None:
        return next((i for i in self.runtime.instances() if i["instance"] == name), None)

    def _main(self, service: str) -> dict:
        inst = self._instance(service)
        if inst is None:
            raise StageFailed(f"the runtime has no instance of {service}")
        return inst

    def _write_targets(self, service: str, instances: dict[str, dict]) -> None:
        if not self.cfg.services[service].metrics:
            return
        addresses = {}
        for name, inst in instances.items():
            url = inst.get("url") or ""
            addresses[name] = url.removeprefix("http://").removeprefix("https://")
        self.targets.write(service, addresses)


def _safe(fn):
    def call(arg):
        try:
            return fn(arg)
        except Exception as exc:  # noqa: BLE001 - reported per service by the caller
            return exc

    return call


def _why(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _suffix(text: str | None) -> str:
    return f": {text}" if text else ""


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
