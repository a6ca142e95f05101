"""Hidden tests against production (through the ingress) while the credential stuffing goes
on: failed logins are throttled per client address (the storefront's form included) and per
account, real customers keep logging in, and the attack stops getting password answers.

Every test speaks from its own documentation-range address (X-Forwarded-For, which the ingress
passes on as the attacker's does), so tests and attackers never share a counter."""

from __future__ import annotations

import itertools
import random
import time
import uuid

import httpx

_ADDRESSES = itertools.count(random.SystemRandom().randrange(0, 200) * 50)


def _ip() -> str:
    n = next(_ADDRESSES)
    block = ("198.51.100", "203.0.113", "192.0.2")[n // 250 % 3]
    return f"{block}.{n % 250 + 2}"


def _user(acme: httpx.Client) -> tuple[str, str]:
    email = f"grader-{uuid.uuid4().hex[:10]}@example.com"
    password = "s3cure-pass-123"
    resp = acme.post("/api/v1/users", json={"email": email, "name": "Grace Hopper",
                                            "password": password},
                     headers={"X-Forwarded-For": _ip()})
    assert resp.status_code == 201, resp.text
    return email, password


def _login(acme: httpx.Client, email: str, password: str, ip: str | None) -> httpx.Response:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return acme.post("/api/v1/sessions", json={"email": email, "password": password},
                     headers=headers)


def _form(acme: httpx.Client, email: str, password: str, ip: str | None) -> httpx.Response:
    headers = {"X-Forwarded-For": ip} if ip else {}
    return acme.post("/login", data={"email": email, "password": password, "next": "/account"},
                     headers=headers)


def _stranger() -> str:
    return f"nobody-{uuid.uuid4().hex[:10]}@example.com"


# After the agent's last change to production, how long the attack may still get answers: every
# new api process starts with empty counters, so each attacking address gets its first ten
# failures answered (a few seconds of the attack), and Prometheus scrapes every 2 s.
SETTLE_S = 15.0
WINDOW_S = 30.0  # the least the attack is measured over
MAX_WINDOW_S = 60.0


def test_the_attack_is_refused(prometheus, agent_changed_production_at) -> None:
    """Once the agent's change is live, the api turns the stuffing away: failed logins get 429s,
    and (almost) no attempt gets as far as a password answer (401). The window starts after the
    last production change (plus a settle time) and ends before the other tests send their own
    failed logins (this test runs first); the attack's own metrics are the attacker's, so this
    reads the api's."""
    changed = agent_changed_production_at()
    now = time.time()
    start = now - MAX_WINDOW_S if changed is None else max(changed + SETTLE_S, now - MAX_WINDOW_S)
    if now - start < WINDOW_S:
        time.sleep(start + WINDOW_S - now)
    window = f"{int(time.time() - start)}s"

    def count(status: str) -> float:
        result = prometheus(
            f'sum(increase(http_requests_total{{service="api",route="/api/v1/sessions",'
            f'method="POST",status="{status}"}}[{window}]))'
        )
        return float(result[0]["value"][1]) if result else 0.0

    refused, answered = count("429"), count("401")
    assert refused > 20, f"only {refused:.0f} logins were throttled in {window}: is it blocked?"
    assert answered / (refused + answered) < 0.2, (
        f"{answered:.0f} of {refused + answered:.0f} failed logins still got a 401 in the "
        f"{window} after the change was live"
    )


def test_client_address_is_throttled_after_ten_failures(acme: httpx.Client) -> None:
    ip = _ip()
    first = [_login(acme, _stranger(), "letmein", ip).status_code for _ in range(9)]
    assert first == [401] * 9, first
    after = [_login(acme, _stranger(), "letmein", ip) for _ in range(3)]
    assert after[-1].status_code == 429, [r.status_code for r in after]
    assert after[-1].json()["error"]["code"] == "too_many_login_attempts"
    assert int(after[-1].headers.get("retry-after", "0")) > 0
    email, password = _user(acme)
    assert _login(acme, email, password, ip).status_code == 429  # the address is blocked
    assert _login(acme, email, password, _ip()).status_code == 201  # the account is not


def test_account_is_throttled_after_five_failures(acme: httpx.Client) -> None:
    email, password = _user(acme)
    wrong = [_login(acme, email, "wrong-password", _ip()).status_code for _ in range(5)]
    assert wrong == [401] * 5, wrong
    after = [_login(acme, email, password, _ip()) for _ in range(2)]
    assert after[-1].status_code == 429, [r.status_code for r in after]
    assert after[-1].json()["error"]["code"] == "too_many_login_attempts"


def test_storefront_form_is_throttled_by_the_shoppers_address(acme: httpx.Client) -> None:
    ip = _ip()
    first = [_form(acme, _stranger(), "letmein", ip).status_code for _ in range(9)]
    assert first == [401] * 9, first
    after = [_form(acme, _stranger(), "letmein", ip) for _ in range(3)]
    assert after[-1].status_code == 429, [r.status_code for r in after]
    # The api counted them against the shopper's address, not the web tier's.
    email, password = _user(acme)
    assert _login(acme, email, password, ip).status_code == 429


def test_customers_keep_logging_in_under_attack(acme: httpx.Client) -> None:
    """Guards a regression: real logins (API and storefront form, with and without a proxy
    address) succeed while the attack runs, however many of them there are."""
    email, password = _user(acme)
    ip = _ip()
    for _ in range(15):
        assert _login(acme, email, password, ip).status_code == 201
    for _ in range(5):
        assert _login(acme, email, password, None).status_code == 201
    for source in (ip, None):
        resp = _form(acme, email, password, source)
        assert resp.status_code == 303, f"{resp.status_code}: {resp.text[:200]}"
        assert "set-cookie" in resp.headers
