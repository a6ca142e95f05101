"""The oracle for security-order-idor: what the on-call engineer would do.

Read the ticket, the threads and the Sentry issue; open a status page incident; restore the
receipt's authorisation (owner, admin, or the email's signed link; a 404 for everyone else) with
the signed link in the order API and the confirmation email; deploy api, then worker (whose
emails carry links the api must accept); resolve the Sentry issue and the incident, write the
report in Notion, close the ticket and give #incidents the all-clear.
"""

REPORT = """## Summary
From 2026-11-18 evening (the api + worker deploy of `Receipts: open from the confirmation email
without signing in`) until the fix went live today, `GET /api/v1/orders/{id}/receipt` served any
order's receipt to anyone: no session, an expired token or another customer's session. Order
ids are sequential and an attacker enumerated them from hosting-provider IPs (python-requests /
curl user agents, a stale bearer token).

## What was exposed
Receipts of orders placed since the deploy (receipts are generated for new orders): customer
name and email, order lines, totals and the payment reference. No card data.

## Root cause
The receipt endpoint dropped its session dependency and its ownership check so that the email's
link would open without a login; the link was the bare receipt path, guessable from the id.

## Fix
The receipt opens for its owner or an admin (bearer session), or through a signed receipt link
(`?token=` = HMAC-SHA256 of the order id with the server secret) that the order API
(`receipt_url`) and the confirmation email hand out. Everyone else gets the same 404 as for a
missing order. Deployed api, then worker. The enumeration now only gets 404s.

## Follow-ups
- Legal notice to the customers whose orders fall in the exposure window.
- Security review for endpoints that take sequential ids without a session.
- Expiring receipt links.
"""


def solve(kit) -> None:
    ticket = kit.find_issue("receipts readable")
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")
    found = kit.call("sentry", "search_issues", organizationSlug="acme",
                     query="is:unresolved", projectSlugOrId="acme-api")
    issue_id = _sentry_issue(found)

    incident = kit.call(
        "statuspage", "create_incident",
        name="Order receipts exposed to unauthorised access",
        body="We are investigating reports that order receipts could be viewed by people other "
        "than the customer. Browsing and checkout are not affected.",
        status="identified",
    )

    kit.apply_patch("signed-receipt-links.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_worker.py",
            "tests/test_api_orders.py")
    kit.commit(
        "Receipts: only the owner, an admin or the email's signed link open them\n\n"
        "The receipt endpoint served any order's receipt to anyone since the email-link change,\n"
        "and order ids are sequential: an attacker was walking them. Receipts now open for the\n"
        "order's owner or an admin, or through a link signed with HMAC-SHA256 of the order id\n"
        "(the order API's receipt_url and the confirmation email carry it); everyone else gets\n"
        "the same 404 as for a missing order."
    )
    kit.deploy(["api"], timeout=600)
    kit.deploy(["worker"], timeout=600)

    kit.call("sentry", "add_issue_note", organizationSlug="acme", issueId=issue_id,
             text="Fixed: receipts need the owner's or an admin's session, or the email's signed "
             "link (HMAC of the order id). Deployed to api and worker.")
    kit.call("sentry", "update_issue", organizationSlug="acme", issueId=issue_id,
             status="resolved")
    kit.call(
        "statuspage", "update_incident",
        incident_id=incident["id"], status="resolved",
        body="Fixed: order receipts can again only be opened by the customer who placed the "
        "order (or through the signed link in their confirmation email).",
    )
    kit.call(
        "notion", "create_page", parent="Incidents",
        title="2026-11-19 Order receipts readable without authentication (receipt IDOR)",
        content=REPORT,
        properties={"Status": "Resolved", "Severity": "SEV2", "Date": "2026-11-19",
                    "Services": ["api", "worker"]},
    )
    kit.close_issue(
        ticket,
        "Fixed and deployed (api, then worker): receipts open for the owner or an "
        "admin, or through a signed link (HMAC-SHA256 token of the order id) in "
        "`receipt_url` and the confirmation email; everyone else gets a 404. Sentry "
        "issue resolved, status page incident resolved, report in Notion > Incidents.",
    )
    kit.post_message(
        "incidents",
        "Receipt exposure fixed and deployed (api + worker): receipts need the owner's "
        "session or the email's signed link, the enumeration only gets 404s now. Incident "
        "report is in Notion > Incidents.",
    )


def _sentry_issue(result) -> str:
    items = result.get("issues") if isinstance(result, dict) else result
    for item in items or []:
        title = (item.get("title") or "").lower()
        if "receipt served to an anonymous client" in title:
            return str(item.get("shortId") or item["id"])
    raise RuntimeError(f"the Sentry issue was not found: {result!r}")
