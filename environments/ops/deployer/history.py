"""The deployer's durable record: every deploy, rollback, restart and flag change, and what is live.

Rewritten atomically on every change (a crash of the deployer loses no finished step), and
read back on start, so a restarted deployer knows the live releases and does not redo the
initial deploy.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from pydantic import BaseModel, TypeAdapter

from environments.ops.deployer.models import Deploy
from environments.runs import write_json_atomic


class LiveRelease(BaseModel):
    sha: str
    deploy_id: str
    deployed_at: float
    history: list[str] = []  # earlier releases, newest last


_DEPLOYS = TypeAdapter(list[Deploy])
_LIVE = TypeAdapter(dict[str, LiveRelease])


class History:
    def __init__(self, directory: Path):
        self.dir = directory
        self.logs = directory / "deploys"
        self.logs.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._deploys: list[Deploy] = self._read(directory / "deploys.json", _DEPLOYS, [])
        self._live: dict[str, LiveRelease] = self._read(directory / "releases.json", _LIVE, {})

    @staticmethod
    def _read(path: Path, adapter: TypeAdapter, default):
        try:
            return adapter.validate_json(path.read_text())
        except (OSError, ValueError):
            return default

    # ---- deploys ---------------------------------------------------------------------------

    def next_id(self) -> str:
        with self._lock:
            return f"d-{len(self._deploys) + 1}"

    def add(self, deploy: Deploy) -> None:
        with self._lock:
            self._deploys.append(deploy)
            self.save()

    def save(self) -> None:
        with self._lock:
            write_json_atomic(
                self.dir / "deploys.json", [d.model_dump(mode="json") for d in self._deploys]
            )

    def get(self, deploy_id: str) -> Deploy | None:
        with self._lock:
            return next((d for d in self._deploys if d.id == deploy_id), None)

    def list(self, service: str | None = None, limit: int = 20) -> list[Deploy]:
        with self._lock:
            found = [d for d in reversed(self._deploys) if not service or service in d.services]
            return found[:limit]

    def running(self) -> Deploy | None:
        with self._lock:
            return next((d for d in self._deploys if d.status in ("queued", "running")), None)

    # ---- logs ------------------------------------------------------------------------------

    def log_path(self, deploy_id: str) -> Path:
        return self.logs / f"{deploy_id}.log"

    def log(self, deploy_id: str, message: str) -> None:
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        with open(self.log_path(deploy_id), "a", encoding="utf-8") as fh:
            fh.writelines(f"{stamp} {line}\n" for line in message.rstrip("\n").splitlines() or [""])

    def tail(self, deploy_id: str, lines: int) -> list[str]:
        try:
            text = self.log_path(deploy_id).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        return text.splitlines()[-lines:]

    # ---- live releases ---------------------------------------------------------------------

    def live(self) -> dict[str, LiveRelease]:
        with self._lock:
            return dict(self._live)

    def set_live(self, service: str, sha: str, deploy_id: str) -> None:
        with self._lock:
            current = self._live.get(service)
            history = [*current.history, current.sha] if current else []
            if current and current.sha == sha:
                history = current.history
            self._live[service] = LiveRelease(
                sha=sha, deploy_id=deploy_id, deployed_at=time.time(), history=history[-20:]
            )
            write_json_atomic(
                self.dir / "releases.json",
                {k: v.model_dump(mode="json") for k, v in self._live.items()},
            )

    def previous_release(self, service: str) -> str | None:
        with self._lock:
            current = self._live.get(service)
            if not current:
                return None
            earlier = [s for s in current.history if s != current.sha]
            return earlier[-1] if earlier else None
