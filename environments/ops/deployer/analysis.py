"""Canary analysis against Prometheus: error ratio and p95 latency, canary against stable.

Each check is one instant query per metric over a short window. `judge` is a pure function
of the measured values and the thresholds, so the decision can be tested by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from environments.ops.deployer.models import AnalysisConfig

FAILED = 'status=~"5..|connect_error|timeout|error|stream_error"'


@dataclass(frozen=True)
class Sample:
    """One check's measurements; None when there was no traffic to measure."""

    requests: float | None
    error_ratio: float | None
    p95: float | None
    stable_error_ratio: float | None
    stable_p95: float | None


@dataclass(frozen=True)
class Verdict:
    ok: bool | None  # None: nothing to judge (no traffic reached the canary)
    reason: str


def judge(sample: Sample, cfg: AnalysisConfig) -> Verdict:
    """Fail when the canary's error ratio or latency exceeds both its bound and stable's."""
    if not sample.requests or sample.requests < cfg.min_requests:
        return Verdict(
            None, f"{sample.requests or 0:.0f} requests reached the canary: too few to judge"
        )
    if sample.error_ratio is not None:
        bound = max(cfg.max_error_ratio, 2 * (sample.stable_error_ratio or 0.0))
        if sample.error_ratio > bound:
            return Verdict(
                False,
                f"error ratio {sample.error_ratio:.1%} > {bound:.1%} "
                f"(stable {_pct(sample.stable_error_ratio)})",
            )
    if sample.p95 is not None:
        bound = max(cfg.max_latency_p95, cfg.latency_factor * (sample.stable_p95 or 0.0))
        if sample.p95 > bound:
            return Verdict(
                False,
                f"p95 latency {sample.p95 * 1000:.0f}ms > {bound * 1000:.0f}ms "
                f"(stable {_ms(sample.stable_p95)})",
            )
    return Verdict(
        True,
        f"error ratio {_pct(sample.error_ratio)} (stable {_pct(sample.stable_error_ratio)}), "
        f"p95 {_ms(sample.p95)} (stable {_ms(sample.stable_p95)}), "
        f"{sample.requests:.0f} requests",
    )


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f}ms"


class Prometheus:
    def __init__(self, url: str, timeout: float = 5.0):
        self._client = httpx.Client(base_url=url.rstrip("/"), timeout=timeout)

    def scalar(self, query: str) -> float | None:
        """The single value of `query`, or None when it has no series or is NaN."""
        resp = self._client.get("/api/v1/query", params={"query": query})
        resp.raise_for_status()
        result = resp.json()["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value  # NaN: 0/0

    def close(self) -> None:
        self._client.close()


def _sample(
    prom: Prometheus,
    counter: str,
    failed: str,
    histogram: str | None,
    canary: str,
    stable: str,
    window: str,
) -> Sample:
    """Canary against stable from one request counter (`failed`: the matcher of failures)
    and, when given, one latency histogram; `canary` and `stable` are label selectors."""

    def increase(sel: str) -> str:
        return f"sum(increase({counter}{{{sel}}}[{window}]))"

    def ratio(sel: str) -> float | None:
        # `or 0 * ...`: no failure at all is a ratio of 0, not an absent series.
        return prom.scalar(
            f"({increase(f'{sel},{failed}')} or 0 * {increase(sel)}) / {increase(sel)}"
        )

    def p95(sel: str) -> float | None:
        if histogram is None:
            return None
        return prom.scalar(
            f"histogram_quantile(0.95, sum by (le) (rate({histogram}{{{sel}}}[{window}])))"
        )

    return Sample(
        requests=prom.scalar(increase(canary)),
        error_ratio=ratio(canary),
        p95=p95(canary),
        stable_error_ratio=ratio(stable),
        stable_p95=p95(stable),
    )


def ingress_sample(prom: Prometheus, upstream: str, canary: str, window: str) -> Sample:
    """The canary's and stable's numbers as the ingress saw them (per-instance metrics)."""
    base = f'upstream="{upstream}"'
    return _sample(
        prom,
        "ingress_upstream_requests_total",
        FAILED,
        "ingress_upstream_request_duration_seconds_bucket",
        f'{base},exported_instance="{canary}"',
        f'{base},exported_instance!="{canary}"',
        window,
    )


def service_sample(prom: Prometheus, service: str, replica: str, window: str) -> Sample:
    """A replica's own numbers from its http metrics (for services no ingress route fronts)."""
    skip = 'route!~"/metrics|/healthz"'
    return _sample(
        prom,
        "http_requests_total",
        'status=~"5.."',
        "http_request_duration_seconds_bucket",
        f'service="{service}",replica="{replica}",{skip}',
        f'service="{service}",replica!="{replica}",{skip}',
        window,
    )


def worker_sample(prom: Prometheus, replica: str, window: str) -> Sample:
    """A worker replica's job outcomes: failed and retried jobs count as errors."""
    return _sample(
        prom,
        "acme_jobs_processed_total",
        'outcome!="ok"',
        None,
        f'replica="{replica}"',
        f'replica!="{replica}",job="worker"',
        window,
    )
