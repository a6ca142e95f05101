"""The oracle for latency-listing-n-plus-one: what the on-call engineer would do.

Read the ticket and the thread, see in the metrics that api's /api/v1/products is the slow
route, find this morning's commit: review summaries computed per product and per review (an
N+1 of an N+1) outside the catalogue cache. Replace them with two grouped queries per page,
built inside the cached page (a new review bumps the catalogue generation), deploy api, wait for
the alert to clear, then close the ticket and give #incidents the all-clear.
"""

def solve(kit) -> None:
    ticket = kit.find_issue("Storefront slow since")
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")
    kit.call("monitoring", "query",
             query="topk(5, histogram_quantile(0.95, sum by (service, route, le) "
                   "(rate(http_request_duration_seconds_bucket[1m]))))")
    kit.run("git", "log", "--oneline", "-5")

    kit.apply_patch("fix.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_listing_review_summary.py",
            "tests/test_api_auth_catalog.py")
    kit.commit(
        "Listings: review summaries in two grouped queries per page, cached with it\n\n"
        "The summaries loaded every review of every listed product and then ran one query per\n"
        "review to check the author's orders: ~1000 statements for the home page, outside the\n"
        "catalogue cache, so on every request. Now one GROUP BY per (product, stars) and one\n"
        "join for verified buyers per page, built with the cached page (a new review bumps\n"
        "the catalogue generation, so it still shows on the next load)."
    )
    kit.deploy(["api"])
    # Done is when production says so. On a saturated host the p95 window can take a while to
    # drain; report what we see rather than give up on the ticket and the thread.
    kit.wait_resolved("HighLatencyP95", timeout=480, interval=10, required=False)

    kit.close_issue(
        ticket,
        "Cause: the listing's review summaries ran an N+1 query per product and per review "
        "(~1000 queries for the home page) outside the catalogue cache. Fixed with two grouped "
        "queries per page (star counts, verified buyers), cached with the page; same numbers, "
        "flag stays on. Deployed to api; p95 is back under 500 ms and HighLatencyP95 cleared.",
    )
    kit.post_message(
        "incidents",
        "All clear on the storefront latency: the review-summary N+1 on listings is fixed "
        "(grouped queries, cached with the page) and deployed to api. p95 is back under 500 ms, "
        "HighLatencyP95 resolved, review cards stay on.",
    )
