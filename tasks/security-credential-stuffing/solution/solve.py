"""The oracle for security-credential-stuffing: what the on-call engineer would do.

Read the ticket and the threads; open a status page incident; throttle failed logins per client
address (10 in 10 min) and per account (5 in 15 min) with a 429 + Retry-After decided before
the password is checked; have the storefront's login form pass the shopper's address to the api
and show the 429; deploy web first (so the api never counts the web tier's own address), then
api; resolve the incident, write the report, close the ticket, give #incidents the all-clear.
"""

REPORT = """## Summary
From 07:50 UTC on 2026-11-19 an attacker replayed leaked email/password pairs against
`POST /api/v1/sessions` and the storefront's `/login` form (about a third), from a handful of
hosting-provider addresses with browser-like user agents. We had no login throttling: every
attempt got a password answer and cost the api a scrypt hash.

## Impact
Several failed logins per second; two customers reported unrecognised sign-ins (support #52390,
#52394) and were asked to reset their passwords. Login latency rose under the hashing load.

## Root cause
No limit on failed logins, per address or per account.

## Fix
Failed logins are counted per client address (10 in 10 minutes) and per account (5 in 15
minutes); over either limit, logins are refused with `429 too_many_login_attempts` and a
`Retry-After` header before the password is checked. Successful logins never count. The
storefront's login form passes the shopper's address (X-Forwarded-For) to the api and shows the
429. Deployed web first, then api, so the api never throttled the web tier's own address.

## Follow-ups
- Shared throttle state across api instances (today per process).
- Alert on the rate of 401/429 on the login routes.
- Password reset for accounts with a successful login from the attacker's addresses.
"""


def solve(kit) -> None:
    ticket = kit.find_issue("Credential stuffing")
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")
    incident = kit.call(
        "statuspage", "create_incident",
        name="Suspicious sign-in activity on customer accounts",
        body="We are seeing a large number of automated sign-in attempts against customer "
        "accounts and are putting protections in place. Shopping and checkout are not affected.",
        status="identified",
    )

    kit.apply_patch("login-throttle.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_api_auth_catalog.py",
            "tests/test_web.py")
    kit.commit(
        "Logins: throttle failed attempts per client address and per account\n\n"
        "Credential stuffing replays leaked passwords against the api and the storefront's\n"
        "login form. Failed logins now count per client address (10 in 10 min) and per account\n"
        "(5 in 15 min); over either limit the api answers 429 too_many_login_attempts with\n"
        "Retry-After before checking the password. Successful logins never count. The web\n"
        "tier passes the shopper's address on (X-Forwarded-For) and shows the 429."
    )
    kit.deploy(["web"], timeout=600)
    kit.deploy(["api"], timeout=600)

    kit.call(
        "statuspage", "update_incident",
        incident_id=incident["id"], status="resolved",
        body="Resolved: automated sign-in attempts are now blocked; customers can log in as "
        "usual. Customers who received an unrecognised sign-in notice should reset their "
        "password.",
    )
    kit.call(
        "notion", "create_page", parent="Incidents",
        title="2026-11-19 Credential stuffing against customer logins",
        content=REPORT,
        properties={"Status": "Resolved", "Severity": "SEV2", "Date": "2026-11-19",
                    "Services": ["api", "web"]},
    )
    kit.close_issue(
        ticket,
        "Fixed and deployed (web, then api): failed logins are throttled per client "
        "address (10 / 10 min) and per account (5 / 15 min) with 429 "
        "too_many_login_attempts + Retry-After, before the password check; successful "
        "logins never count; the storefront form forwards the shopper's address. Status "
        "page incident resolved, report in Notion > Incidents.",
    )
    kit.post_message(
        "incidents",
        "Credential stuffing mitigated: login throttling (per address and per account, "
        "429 + Retry-After) is deployed to web and api; the attack now gets 429s and "
        "customers log in normally. Report in Notion > Incidents.",
    )
