"""The oracle for latency-search-missing-index: what the on-call engineer would do.

Read the ticket and the thread, see in the metrics that search is the slow route (api's
/api/v1/search and web's /search), read the popular ranking: it sums every active product's
units sold with one correlated lookup per product on order_items.product_id (twice: it also
orders by it). Last week's migration 0004 dropped ix_order_items_product_id as unused, so each
lookup scans all of order_items. 0004 is applied in production: re-create the index with a new
revision after it (the model declares it again, services.yaml's head and the healthz test
follow), deploy api (the deployer migrates), wait for the alert to clear, then close the
ticket, tell Data on their ticket and give #incidents the all-clear. The ranking, its flag and
its live numbers stay as they are.
"""


CHECK_PLAN = """
import sqlite3, tempfile, pathlib
from acme.common import migrate
path = pathlib.Path(tempfile.mkdtemp()) / "plan.db"
migrate.upgrade(f"sqlite:///{path}")
conn = sqlite3.connect(path)
plan = conn.execute(
    "EXPLAIN QUERY PLAN SELECT COALESCE(SUM(oi.quantity), 0) FROM order_items oi "
    "JOIN orders o ON o.id = oi.order_id WHERE oi.product_id = 1 "
    "AND o.status NOT IN ('pending', 'payment_failed', 'cancelled', 'refunded')").fetchall()
print(plan)
assert any("product_id=?" in row[-1] for row in plan), plan
"""


def solve(kit) -> None:
    ticket = kit.find_issue("Search slow since")
    kit.call("linear", "get_issue", id=ticket)
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")
    kit.call("monitoring", "query",
             query="topk(5, histogram_quantile(0.95, sum by (service, route, le) "
                   "(rate(http_request_duration_seconds_bucket[1m]))))")
    kit.run("git", "log", "--oneline", "-5")
    kit.run("git", "show", "--stat", "HEAD~1")
    data_ticket = kit.find_issue("Unused indexes on the orders tables")

    kit.apply_patch("restore-product-index.patch")
    kit.run("python", "-c", CHECK_PLAN)
    kit.run("python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
            "tests/test_migrations_seed.py", "tests/test_services_manifest.py",
            "tests/test_search_popular.py", "tests/test_api_auth_catalog.py",
            "tests/test_api_robustness.py")
    kit.commit(
        "migrations: re-create ix_order_items_product_id (search's popular ranking needs it)\n\n"
        "0004 dropped the index as unused, but the popular search ranking (live since this\n"
        "morning) sums units sold per active product with one lookup per product on\n"
        "order_items.product_id. Without the index each lookup scans all of order_items:\n"
        "~1000 scans per search (the query also orders by it), a second or more per request.\n"
        "0004 is applied in production, so 0005 re-creates the index after it; the model\n"
        "declares it again, services.yaml's head and the healthz test follow. Ranking, flag\n"
        "and live numbers unchanged."
    )
    kit.deploy(["api"])
    # Done is when production says so. On a saturated host the p95 window can take a while to
    # drain; report what we see rather than give up on the ticket and the thread.
    kit.wait_resolved("HighLatencyP95", timeout=480, interval=10, required=False)

    kit.close_issue(
        ticket,
        "Cause: migration 0004 (index audit) dropped ix_order_items_product_id, and the "
        "popular ranking sums units sold per active product with one lookup per product on "
        "order_items.product_id; without the index each lookup scanned all of order_items "
        "(~1000 scans per search), so every search took seconds. Fixed with migration 0005 "
        "re-creating the index (0004 stays as applied); model and services.yaml head updated. "
        "Deployed to api (migrated to 0005); search is back to milliseconds and HighLatencyP95 "
        "cleared. Ranking and flag unchanged, numbers still live.",
    )
    kit.call(
        "linear",
        "create_comment",
        issueId=data_ticket,
        body="Heads-up: ix_order_items_product_id is needed after all. Search's popular ranking "
        "(live since Nov 20) reads order_items by product; without the index search took "
        "seconds. Re-created by migration 0005 on top of 0004; please keep it off the "
        "drop list in the index audit.",
    )
    kit.post_message(
        "incidents",
        "All clear on search latency: the popular ranking looks up units sold per product "
        "on order_items.product_id, whose index 0004 had dropped. Migration 0005 re-creates it "
        "and is deployed (api). Search is back to milliseconds, HighLatencyP95 resolved; "
        "`popular` stays on with live numbers.",
    )

