"""Hostile traffic a task can switch on at run time: credential stuffing, id enumeration, scraping.

Each attack's requests come from `random.Random(f"{seed}:hostile:{kind}")`, drawn without
looking at any response, so the same seed gives the same request sequence every time an attack
starts. Each attacker also has a fingerprint drawn from that generator, realistic but
recognisable, so a task can ask the agent to find and block it: a few IPs from one or two
hosting-provider blocks (sent as `X-Forwarded-For`, which the ingress passes on) and one user
agent. `attack_requests` is pure (no gevent, no network); `HostileTraffic` sends the requests
from greenlets in the traffic process, beside the locust users and never blocking them.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from traffic import metrics

ATTACKS = ("credential_stuffing", "id_enumeration", "scraping")
DEFAULT_RATE = 5.0
MAX_RATE = 200.0
MAX_IN_FLIGHT = 20  # concurrent requests per attack; beyond it the attack slows down
TIMEOUT = 10

# /24 blocks of hosting providers that show up in abuse reports.
HOSTING_BLOCKS = (
    "185.220.101",
    "45.155.205",
    "193.42.33",
    "89.248.165",
    "141.98.10",
    "5.188.206",
    "194.26.192",
    "80.94.95",
    "103.145.13",
    "91.92.109",
)
USER_AGENTS = {
    # Stuffing tools pose as a (slightly dated) browser.
    "credential_stuffing": (
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/108.0.0.0 Safari/537.36"
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/15.6 Safari/605.1.15"
        ),
        "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Firefox/102.0",
    ),
    # Enumeration scripts do not bother.
    "id_enumeration": ("python-requests/2.28.1", "Go-http-client/1.1", "curl/7.88.1"),
    # Scrapers announce a bot.
    "scraping": (
        "Mozilla/5.0 (compatible; PriceSpyBot/2.1; +https://pricespy-crawler.io/bot)",
        "Mozilla/5.0 (compatible; DataHarvestBot/1.4; +http://dataharvest.net/bot.html)",
        "Scrapy/2.11.0 (+https://scrapy.org)",
    ),
}
EMAIL_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "gmx.de")
FIRST = ("james", "mary", "john", "linda", "mike", "sarah", "david", "emma", "chris", "anna")
LAST = ("smith", "jones", "brown", "miller", "davis", "wilson", "moore", "taylor", "lee", "king")
PASSWORDS = (
    "123456",
    "password1",
    "qwerty123",
    "iloveyou",
    "Summer2024!",
    "letmein",
    "football",
    "Passw0rd",
    "monkey123",
    "dragon",
)
SEARCH_TERMS = ("jacket", "shoes", "headphones", "lamp", "backpack", "watch", "sale", "gift")
# Resource -> (path template, highest id worth trying). Most ids answer 401, 403 or 404.
ENUMERATED = {
    "orders": ("/api/v1/orders/{id}", 12000),
    "receipts": ("/api/v1/orders/{id}/receipt", 12000),
    "admin_orders": ("/api/v1/admin/orders/{id}", 12000),
    "users": ("/api/v1/users/{id}", 2500),
    "products": ("/api/v1/products/{id}", 600),
}
MAX_PRODUCT_ID = 600


@dataclass(frozen=True)
class Attacker:
    kind: str
    ips: tuple[str, ...]
    user_agent: str


@dataclass(frozen=True)
class HostileRequest:
    method: str
    path: str
    ip: str
    headers: dict[str, str] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None


def attack_rng(seed: int, kind: str) -> random.Random:
    return random.Random(f"{seed}:hostile:{kind}")


def _attacker(rng: random.Random, kind: str) -> Attacker:
    blocks = rng.sample(HOSTING_BLOCKS, 2)
    count = rng.randint(3, 6)
    ips: list[str] = []
    while len(ips) < count:
        ip = f"{rng.choice(blocks)}.{rng.randint(2, 254)}"
        if ip not in ips:
            ips.append(ip)
    return Attacker(kind, tuple(ips), rng.choice(USER_AGENTS[kind]))


def attacker(seed: int, kind: str) -> Attacker:
    """The fingerprint of this run's attacker of `kind`."""
    return _attacker(attack_rng(seed, kind), kind)


def attack_requests(seed: int, kind: str) -> Iterator[HostileRequest]:
    """The attack's endless request sequence; a function of the seed and kind only."""
    if kind not in ATTACKS:
        raise ValueError(f"unknown attack {kind!r}: use one of {', '.join(ATTACKS)}")
    rng = attack_rng(seed, kind)
    who = _attacker(rng, kind)
    steps = {
        "credential_stuffing": _stuffing,
        "id_enumeration": _enumeration,
        "scraping": _scraping,
    }[kind](rng)
    for method, path, extra in steps:
        headers = {"User-Agent": who.user_agent, **extra.pop("headers", {})}
        yield HostileRequest(method, path, rng.choice(who.ips), headers, **extra)


def _stuffing(rng: random.Random) -> Iterator[tuple[str, str, dict]]:
    """Leaked email/password pairs against the API's login and the storefront's login form."""
    while True:
        sep = rng.choice(("", ".", "_"))
        email = f"{rng.choice(FIRST)}{sep}{rng.choice(LAST)}{rng.randint(1, 999)}"
        email += f"@{rng.choice(EMAIL_DOMAINS)}"
        password = rng.choice(PASSWORDS)
        if rng.random() < 0.7:
            yield "POST", "/api/v1/sessions", {"json": {"email": email, "password": password}}
        else:
            form = {"email": email, "password": password, "next": "/account"}
            yield "POST", "/login", {"form": form}


def _enumeration(rng: random.Random) -> Iterator[tuple[str, str, dict]]:
    """Runs of sequential ids over one resource at a time, with a stolen, expired token."""
    token = "".join(rng.choice("0123456789abcdef") for _ in range(43))
    while True:
        resource = rng.choice(sorted(ENUMERATED))
        template, highest = ENUMERATED[resource]
        start = rng.randint(1, highest)
        auth = {"Authorization": f"Bearer {token}"} if rng.random() < 0.5 else {}
        for n in range(start, start + rng.randint(20, 80)):
            yield "GET", template.format(id=n), {"headers": dict(auth)}


def _scraping(rng: random.Random) -> Iterator[tuple[str, str, dict]]:
    """A crawl of the catalogue: product pages in id order, listing pages and searches."""
    product = rng.randint(1, MAX_PRODUCT_ID)
    for step in itertools.count():
        if step % 10 == 0:
            yield "GET", f"/products?page={step // 10 % 20 + 1}", {}
        elif step % 15 == 7:
            yield "GET", f"/search?q={rng.choice(SEARCH_TERMS)}", {}
        elif step % 25 == 3:
            yield "GET", f"/api/v1/products?page={rng.randint(1, 5)}&page_size=100", {}
        else:
            yield "GET", f"/products/{product}", {}
            product = product % MAX_PRODUCT_ID + 1


class _Attack:
    """One running attack: a greenlet pacing requests at `rate`, each sent from a pool."""

    def __init__(self, target: str, seed: int, kind: str, rate: float) -> None:
        import gevent
        import requests
        from gevent.pool import Pool

        self.kind = kind
        self.rate = rate
        self.sent = 0
        self.started_at = time.time()
        self.target = target.rstrip("/")
        self.requests = attack_requests(seed, kind)
        self.http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_IN_FLIGHT)
        self.http.mount("http://", adapter)
        self.http.mount("https://", adapter)
        self.pool = Pool(MAX_IN_FLIGHT)
        self.greenlet = gevent.spawn(self._run)

    def _run(self) -> None:
        import gevent

        next_at = time.monotonic()
        for req in self.requests:
            now = time.monotonic()
            if next_at > now:
                gevent.sleep(next_at - now)
            elif now - next_at > 1.0:
                next_at = now  # fell behind (a slow target): do not burst to catch up
            self.pool.spawn(self._send, req)  # waits while MAX_IN_FLIGHT are in flight
            self.sent += 1
            next_at += 1.0 / self.rate

    def _send(self, req: HostileRequest) -> None:
        import requests

        headers = {**req.headers, "X-Forwarded-For": req.ip}
        try:
            resp = self.http.request(
                req.method,
                self.target + req.path,
                headers=headers,
                json=req.json,
                data=req.form,
                timeout=TIMEOUT,
                allow_redirects=False,
            )
            status = str(resp.status_code)
            resp.close()
        except requests.RequestException:  # refused, reset, timed out: counted, never fatal
            status = "error"
        metrics.HOSTILE_REQUESTS.labels(self.kind, status).inc()

    def stop(self) -> None:
        self.greenlet.kill(block=True, timeout=2)
        self.pool.kill(block=True, timeout=2)
        self.http.close()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "sent": self.sent,
            "started_at": round(self.started_at, 3),
        }


class HostileTraffic:
    """The attacks running in this traffic process, by kind: start, change rate, stop, list."""

    def __init__(
        self, target: str, seed: int, emit: Callable[..., None] = lambda event, **fields: None
    ) -> None:
        self.target = target
        self.seed = seed
        self.emit = emit  # the process's event log (hidden from the agent's log search)
        self._attacks: dict[str, _Attack] = {}

    def start(self, kind: str, rate: float = DEFAULT_RATE) -> dict[str, Any]:
        """Start `kind` at `rate` req/s, from the start of its sequence; or change its rate."""
        if kind not in ATTACKS:
            raise KeyError(kind)
        attack = self._attacks.get(kind)
        if attack is None:
            attack = self._attacks[kind] = _Attack(self.target, self.seed, kind, rate)
            self.emit("hostile_started", kind=kind, rate=rate)
        elif attack.rate != rate:
            self.emit("hostile_rate_changed", kind=kind, rate=rate)
        attack.rate = rate
        metrics.HOSTILE_RATE.labels(kind).set(rate)
        return attack.describe()

    def stop(self, kind: str) -> dict[str, Any] | None:
        """Stop `kind`; None when it was not running."""
        if kind not in ATTACKS:
            raise KeyError(kind)
        attack = self._attacks.pop(kind, None)
        if attack is None:
            return None
        attack.stop()
        metrics.HOSTILE_RATE.labels(kind).set(0)
        self.emit("hostile_stopped", kind=kind, sent=attack.sent)
        return attack.describe()

    def active(self) -> list[dict[str, Any]]:
        return [self._attacks[k].describe() for k in ATTACKS if k in self._attacks]

    def stop_all(self) -> None:
        for kind in list(self._attacks):
            self.stop(kind)
