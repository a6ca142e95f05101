"""The monorepo suite on each commit the agent deploys, in the background at idle priority.

A grading's slowest machinery is the monorepo's own suite: a change to a central module reruns
most of it (~15 s of CPU on two cores). Run when the agent deploys, as CI on deploy would, it
overlaps the agent's time, and the grading finds every file's result in the per-file cache
(`graders.feature.run_monorepo`; keys are the files' inputs, so a cached pass is exactly what
the grading would have run). Nice 19 keeps it out of production's and the agent's way.
Grader-only: it works in the trial's grading folder, never in the agent's workspace.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

from environments.paths import cache_dir
from graders.config import GradingSpec, RegressionGrading
from graders.feature import app_python, export_commit, run_monorepo
from graders.runview import RunView, TaskState

log = logging.getLogger(__name__)

IDLE = 19
CommitSource = Callable[[], tuple[str | None, bool]]  # graders.grade.deployed_commit's answer


class SuitePrewarm:
    """Polls what production runs; on each new deployed commit, runs the suite on it once."""

    def __init__(
        self,
        regression: RegressionGrading,
        workspace: Path,
        python: str,
        deployed: CommitSource,
        work_dir: Path,
        *,
        cache: Path | None = None,
        interval: float = 5.0,
        timeout: float = 600.0,
    ):
        self.regression = regression
        self.workspace = workspace
        self.python = python
        self.deployed = deployed
        self.work_dir = work_dir / "prewarm"  # its own folder: shard reports land beside exports
        self.cache = cache or cache_dir() / "monorepo-tests"
        self.interval = interval
        self.timeout = timeout
        self.warmed: list[str] = []  # commits whose suite run finished, in order
        self._stop = threading.Event()
        self._running: str | None = None
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name="suite-prewarm", daemon=True)

    @classmethod
    def for_trial(
        cls, grading: GradingSpec, view: RunView, state: TaskState, work_dir: Path
    ) -> SuitePrewarm:
        """A trial's prewarm: the task's regression settings; the commit production runs for
        the task's services, as the grading will find it."""
        from graders.grade import deployed_commit  # graders.grade imports the feature grader

        deployed = partial(deployed_commit, grading, view, state)
        return cls(grading.feature.regression, view.workspace, app_python(view), deployed, work_dir)

    def start(self) -> SuitePrewarm:
        if self.regression.monorepo:
            self._thread.start()
        return self

    def finish(self, wait: float = 180.0) -> str | None:
        """Stop polling. A run on the commit production runs now is waited for (up to `wait`
        seconds): the grading would otherwise redo its files. Returns that commit, or None."""
        self._stop.set()
        try:
            current, live = self.deployed()
        except Exception:  # noqa: BLE001 - the grading reports an unreadable deployer itself
            return None
        with self._idle:
            if live and current and self._running == current:
                self._idle.wait_for(lambda: self._running != current, timeout=wait)
                return current
        return None

    def _loop(self) -> None:
        last: str | None = None
        while not self._stop.is_set():
            try:
                commit, live = self.deployed()
                if live and commit and commit != last:
                    self._warm(commit)
                    last = commit
            except Exception as exc:  # noqa: BLE001 - best effort: grading runs the suite anyway
                log.warning("suite prewarm skipped a poll: %s", exc)
            self._stop.wait(self.interval)

    def _warm(self, commit: str) -> None:
        with self._idle:
            self._running = commit
        try:
            export = export_commit(self.workspace, commit, self.work_dir / commit[:12])
            run_monorepo(
                export,
                self.regression.monorepo_tests,
                self.python,
                self.cache,
                self.timeout,
                niceness=IDLE,
            )
            self.warmed.append(commit)
        finally:
            with self._idle:
                self._running = None
                self._idle.notify_all()
