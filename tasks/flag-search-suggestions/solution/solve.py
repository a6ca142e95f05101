"""The oracle for flag-search-suggestions: what the engineer on the ticket would do.

Read the ticket, the spec and the thread; add a `search_suggestions` string flag (off / staff /
all); `GET /api/v1/search` adds `suggestions` only for callers the flag lets in (the response
model excludes unset fields, so nobody else sees even a null); the web tier forwards the
shopper's token to `/search` and shows "Suggested searches"; deploy api, then web; turn it on
for staff; tell #eng and close the ticket.
"""


def solve(kit) -> None:
    ticket = kit.find_issue("Search suggestions for staff")
    kit.call("slack", "slack_get_channel_history", channel_id="eng")
    kit.call("notion", "search", query="Search suggestions")

    kit.apply_patch("search-suggestions.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_search_suggestions.py",
            "tests/test_api_auth_catalog.py", "tests/test_web.py", "tests/test_flags.py")
    kit.commit(
        "Search: staff-only suggestions behind search_suggestions\n\n"
        "GET /search adds `suggestions` (up to five distinct names of active products that\n"
        "contain every query word, in ranking order) for callers the flag lets in: off, staff\n"
        "(admins) or all. Everyone else gets the unchanged payload (no key at all). The web\n"
        "search page forwards the shopper's token and shows Suggested searches."
    )
    # web needs the API to know who is searching and to send suggestions: api first.
    kit.deploy(["api"])
    kit.deploy(["web"])
    kit.call("deploy", "set_flag", name="search_suggestions", value="staff")

    kit.post_message(
        "eng",
        "Search suggestions are on for staff (search_suggestions = staff): admins see "
        "'Suggested searches' on the search page and `suggestions` in GET /api/v1/search; "
        "customers and the iOS app get the unchanged payload.",
    )
    kit.close_issue(
        ticket,
        "Shipped: GET /api/v1/search adds `suggestions` (max 5 distinct active product "
        "names containing every query word) only when search_suggestions allows the caller "
        "(off/staff/all); others get exactly the old payload. The search page shows Suggested "
        "searches. Deployed api then web and set the flag to staff for dogfooding.",
    )
