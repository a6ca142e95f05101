"""The traffic process's own Prometheus metrics: what the clients saw, not what the app says.

One registry for the process, served at `/metrics` by `__main__` beside `/healthz`. Nothing
here imports locust, so it can be read (and tested) without gevent's monkey-patching.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()

REQUESTS = Counter(
    "traffic_requests",
    "Requests the simulated users sent, by request name, method and response status",
    ["name", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "traffic_request_duration_seconds",
    "Client-side latency of the simulated users' requests",
    ["name", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
JOURNEYS = Counter(
    "traffic_journeys", "User journeys started, by journey", ["journey"], registry=REGISTRY
)
JOURNEY_FAILURES = Counter(
    "traffic_journey_failures",
    "User journeys that stopped on an unexpected response, by journey",
    ["journey"],
    registry=REGISTRY,
)
CHECKOUTS = Counter(
    "traffic_checkouts",
    "Checkouts the shoppers attempted, by result (ok, failed)",
    ["result"],
    registry=REGISTRY,
)
USERS = Gauge("traffic_users", "Simulated users currently running", registry=REGISTRY)
PROBE_SUCCESS = Gauge(
    "probe_success", "1 if the last run of the synthetic check passed", ["check"], registry=REGISTRY
)
PROBE_DURATION = Gauge(
    "probe_duration_seconds",
    "How long the last run of the synthetic check took",
    ["check"],
    registry=REGISTRY,
)
PROBE_RUNS = Counter(
    "probe_runs",
    "Synthetic check runs, by check and result",
    ["check", "result"],
    registry=REGISTRY,
)
HOSTILE_REQUESTS = Counter(
    "traffic_hostile_requests",
    "Requests of the hostile traffic (see hostile.py), by attack kind and response status",
    ["kind", "status"],
    registry=REGISTRY,
)
HOSTILE_RATE = Gauge(
    "traffic_hostile_rate",
    "Requests per second each hostile attack is set to send (0 when stopped)",
    ["kind"],
    registry=REGISTRY,
)
