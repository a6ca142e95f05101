"""Injected latency and failures, controlled at run time via ``POST /admin/faults``.

The RNG is seeded so a fault schedule replays identically for a given seed and
request order — useful when reproducing an incident.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import asdict, dataclass
from typing import Literal

FailureMode = Literal["error", "decline", "timeout"]


@dataclass(frozen=True)
class FaultConfig:
    latency_ms: int = 0
    jitter_ms: int = 0
    failure_rate: float = 0.0
    failure_mode: FailureMode = "error"
    seed: int = 0


class FaultInjector:
    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.configure(config or FaultConfig())

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def state(self) -> dict[str, object]:
        return asdict(self.config)

    def _draw(self) -> tuple[float, bool]:
        with self._lock:
            cfg = self.config
            jitter = self._rng.uniform(0, cfg.jitter_ms) if cfg.jitter_ms else 0.0
            fail = cfg.failure_rate > 0 and self._rng.random() < cfg.failure_rate
            return (cfg.latency_ms + jitter) / 1000.0, fail

    async def apply(self) -> FailureMode | None:
        """Sleep for the configured latency; return a failure mode if this call should fail."""
        delay, fail = self._draw()
        if delay > 0:
            await asyncio.sleep(delay)
        if not fail:
            return None
        if self.config.failure_mode == "timeout":
            await asyncio.sleep(30)  # longer than any sane client timeout
        return self.config.failure_mode
