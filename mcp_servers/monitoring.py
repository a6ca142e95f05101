"""Monitoring over MCP: PromQL, alerts, rules, scrape targets, logs and golden signals.

Tool names follow the official prometheus/prometheus-mcp server (`query`, `list_alerts`,
`list_rules`, `list_targets`), with `query_range` named as in Prometheus' own API. The
Prometheus tools talk to Prometheus' real HTTP API (`prometheus_url`); `golden_signals` asks it
the four questions an on-call engineer asks first. `search_logs` is served by the run's ops
service (`base_url`), which arrives in a later step; until then it answers with a tool error.

The ops service's log search, as this module calls it:
    GET {base_url}/api/v1/logs?service=&level=&text=&since=<seconds>&limit=
    -> {"lines": [{"time", "service", "level", "msg", ...}], "truncated": bool}
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from mcp_servers.opsapi import OpsAPI

INSTRUCTIONS = (
    "Production monitoring for this run: Prometheus (PromQL queries, alerts, alert rules, "
    "scrape targets), service logs, and a golden-signals summary per service. App services "
    "export http_requests_total{service,route,method,status}, "
    "http_request_duration_seconds_bucket and http_requests_in_flight."
)

PromQL = Annotated[str, Field(min_length=1, max_length=4000, description="A PromQL expression")]
Duration = Annotated[
    str,
    Field(pattern=r"^\d+(ms|s|m|h|d|w)$", description="A duration such as 30s, 5m, 1h"),
]
TimeArg = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="'now', a relative time such as -15m or -2h, an RFC 3339 time, or Unix seconds",
    ),
]
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d|w)$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_POINTS = 120


def create_server(
    base_url: str | None, token: str | None, *, prometheus_url: str | None = None
) -> MCPServer:
    """Monitoring for a run: `base_url` is the ops service (logs), `prometheus_url` Prometheus;
    either may be None, and the tools that need it then say it is not available."""
    ops = OpsAPI(base_url, token, "log search")
    prom = OpsAPI(prometheus_url, None, "Prometheus", timeout=20)
    srv = MCPServer("monitoring", instructions=INSTRUCTIONS)

    def prom_data(path: str, **params: Any) -> Any:
        try:
            body = prom.get(path, **params)
        except ToolError as exc:
            raise ToolError(str(exc).replace("Prometheus refused", "Prometheus rejected")) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            raise ToolError(f"Prometheus answered without data for {path}")
        return body.get("data")

    @srv.tool()
    def query(
        query: PromQL,
        time: Annotated[TimeArg | None, Field(description="Evaluation time [default: now]")] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="Most series returned")] = 50,
    ) -> dict[str, Any]:
        """Evaluate a PromQL instant query, e.g. sum by (service) (rate(http_requests_total[5m])).
        Each series comes back as its labels and its value."""
        data = prom_data("/api/v1/query", query=query, time=_timestamp(time) if time else None)
        return _instant(data, limit)

    @srv.tool()
    def query_range(
        query: PromQL,
        start: TimeArg = "-1h",
        end: TimeArg = "now",
        step: Annotated[
            Duration | None,
            Field(description=f"Resolution [default: about {MAX_POINTS} points over the range]"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100, description="Most series returned")] = 20,
    ) -> dict[str, Any]:
        """Evaluate a PromQL query over a time range: each series with its [time, value] points."""
        t0, t1 = _timestamp(start), _timestamp(end)
        if t1 <= t0:
            raise ToolError(f"end ({end}) must be after start ({start})")
        seconds = _seconds(step) if step else max(1.0, math.ceil((t1 - t0) / MAX_POINTS))
        if (t1 - t0) / seconds > 11000:
            raise ToolError(f"step {step} gives too many points for this range; use a larger step")
        data = prom_data("/api/v1/query_range", query=query, start=t0, end=t1, step=seconds)
        series = data.get("result", [])
        return _compact(
            {
                "start": _iso(t0),
                "end": _iso(t1),
                "step_s": seconds,
                "series": [
                    {
                        "metric": _selector(s.get("metric", {})),
                        "values": [
                            [int(t) if seconds >= 1 else t, v] for t, v in s.get("values", [])
                        ],
                    }
                    for s in series[:limit]
                ],
                "truncated": len(series) if len(series) > limit else None,
            }
        )

    @srv.tool()
    def list_alerts(
        state: Annotated[
            Literal["firing", "pending"] | None, Field(description="Only alerts in this state")
        ] = None,
    ) -> dict[str, Any]:
        """Alerts Prometheus is evaluating now: name, state, severity, labels, summary, since."""
        data = prom_data("/api/v1/alerts")
        alerts = []
        for a in data.get("alerts", []):
            if state and a.get("state") != state:
                continue
            labels = dict(a.get("labels") or {})
            annotations = a.get("annotations") or {}
            alerts.append(
                _compact(
                    {
                        "alert": labels.pop("alertname", None),
                        "state": a.get("state"),
                        "severity": labels.pop("severity", None),
                        "labels": labels,
                        "summary": annotations.get("summary") or annotations.get("description"),
                        "since": a.get("activeAt"),
                        "value": a.get("value"),
                    }
                )
            )
        return {"alerts": alerts}

    @srv.tool()
    def list_rules(
        type: Annotated[
            Literal["alert", "record"] | None, Field(description="Only alerting or recording rules")
        ] = None,
    ) -> dict[str, Any]:
        """Alerting and recording rules: name, query, `for` duration, state and health."""
        data = prom_data("/api/v1/rules", type=type)
        rules = []
        for group in data.get("groups", []):
            for r in group.get("rules", []):
                labels = r.get("labels") or {}
                rules.append(
                    _compact(
                        {
                            "group": group.get("name"),
                            "name": r.get("name"),
                            "type": r.get("type"),
                            "state": r.get("state"),
                            "query": r.get("query"),
                            "for_s": r.get("duration") or None,
                            "severity": labels.get("severity"),
                            "summary": (r.get("annotations") or {}).get("summary"),
                            "health": r.get("health"),
                            "last_error": r.get("lastError"),
                        }
                    )
                )
        return {"rules": rules}

    @srv.tool()
    def list_targets(
        health: Annotated[
            Literal["up", "down", "unknown"] | None,
            Field(description="Only targets in this health"),
        ] = None,
    ) -> dict[str, Any]:
        """Scrape targets: job, instance, health, last scrape and last error."""
        data = prom_data("/api/v1/targets", state="active")
        targets = []
        for t in data.get("activeTargets", []):
            if health and t.get("health") != health:
                continue
            labels = t.get("labels") or {}
            targets.append(
                _compact(
                    {
                        "job": labels.get("job") or t.get("scrapePool"),
                        "instance": labels.get("instance"),
                        "health": t.get("health"),
                        "last_scrape": t.get("lastScrape"),
                        "last_error": t.get("lastError"),
                    }
                )
            )
        return {"targets": targets}

    @srv.tool()
    def search_logs(
        service: Annotated[
            str | None, Field(max_length=100, description="Only this service's logs, e.g. api")
        ] = None,
        level: Annotated[
            Literal["debug", "info", "warning", "error", "critical"] | None,
            Field(description="Only lines at this level or above"),
        ] = None,
        text: Annotated[
            str | None, Field(max_length=500, description="Only lines containing this text")
        ] = None,
        since: Annotated[Duration, Field(description="How far back to look, e.g. 15m")] = "15m",
        limit: Annotated[int, Field(ge=1, le=500, description="Most lines returned")] = 100,
    ) -> dict[str, Any]:
        """Search the services' logs (JSON lines), newest first."""
        return ops.get(
            "/api/v1/logs",
            service=service,
            level=level,
            text=text,
            since=_seconds(since),
            limit=limit,
        )

    @srv.tool()
    def golden_signals(
        service: Annotated[
            str, Field(min_length=1, max_length=100, description="A service, e.g. api or web")
        ],
        window: Annotated[Duration, Field(description="Rate window, e.g. 5m")] = "5m",
    ) -> dict[str, Any]:
        """The four golden signals of a service now: traffic (req/s), errors (share of 5xx),
        latency (p50/p95/p99 ms) and saturation (requests in flight), plus whether it is up."""
        if not re.fullmatch(r"[A-Za-z0-9_.:-]+", service):
            raise ToolError(f"{service!r} is not a service name (letters, digits, - _ . :)")
        sel = f'service="{service}"'
        rate = f"sum(rate(http_requests_total{{{sel}}}[{window}]))"
        errors = f'sum(rate(http_requests_total{{{sel},status=~"5.."}}[{window}]))'
        buckets = f"sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{window}]))"

        def scalar(expr: str) -> float | None:
            data = prom_data("/api/v1/query", query=expr)
            result = data.get("result") or []
            if not result:
                return None
            value = float(result[0]["value"][1])
            return None if math.isnan(value) or math.isinf(value) else value

        up = prom_data("/api/v1/query", query=f'up{{job="{service}"}}').get("result") or []
        traffic = scalar(rate)
        if traffic is None and not up:
            known = prom_data("/api/v1/label/service/values") or []
            raise ToolError(
                f"no metrics for service {service!r}; services with metrics: "
                + (", ".join(known) or "none yet")
            )
        error_ratio = None
        if traffic is not None:
            error_ratio = (scalar(errors) or 0.0) / traffic if traffic else 0.0
        latency = {
            f"p{int(q * 100)}": _ms(scalar(f"histogram_quantile({q}, {buckets})"))
            for q in (0.5, 0.95, 0.99)
        }
        return _compact(
            {
                "service": service,
                "window": window,
                "instances_up": f"{sum(s['value'][1] == '1' for s in up)}/{len(up)}"
                if up
                else None,
                "traffic_rps": _round(traffic),
                "error_ratio": _round(error_ratio),
                "latency_ms": _compact(latency) or None,
                "in_flight": _round(scalar(f"sum(http_requests_in_flight{{{sel}}})")),
            }
        )

    return srv


# ---- helpers ---------------------------------------------------------------------------------


def _compact(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v is not None and v != "" and v != {} and v != []}


def _selector(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{name}{{{rest}}}" if rest or not name else name


def _instant(data: dict[str, Any], limit: int) -> dict[str, Any]:
    kind = data.get("resultType")
    result = data.get("result")
    if kind in ("scalar", "string"):
        return {"type": kind, "value": result[1] if isinstance(result, list) else result}
    series = result or []
    out = _compact({"type": kind, "truncated": len(series) if len(series) > limit else None})
    # Always present, even empty: "no series" is an answer an agent should see said.
    out["series"] = [
        {"metric": _selector(s.get("metric", {})), "value": s.get("value", [None, None])[1]}
        for s in series[:limit]
    ]
    return out


def _seconds(duration: str) -> float:
    match = _DURATION.match(duration)
    if not match:
        raise ToolError(f"{duration!r} is not a duration; write e.g. 30s, 5m or 1h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def _timestamp(value: str) -> float:
    value = value.strip()
    now = time.time()
    if value == "now":
        return now
    if value.startswith("-") and _DURATION.match(value[1:]):
        return now - _seconds(value[1:])
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(
            f"{value!r} is not a time; write 'now', -15m, 2026-11-20T10:00:00Z or Unix seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)
