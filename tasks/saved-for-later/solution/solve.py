"""The oracle for saved-for-later: what a strong storefront engineer would do.

Read the ticket, the #eng thread and the Notion spec; add the `saved_items` table with an
Alembic revision after 0003 (and the manifest's head), the four endpoints (scoped to the
signed-in customer: anyone else's item is a 404), the price-drop job enqueued with the admin's
price change and idempotent through `notified_price_cents`, and the cart page's "Saved for
later" section; keep the monorepo's tests in step; deploy api (it migrates), then the worker,
then web; close the ticket and tell #eng.

The code change is `saved-for-later.patch` beside this file (made against the workspace HEAD).
"""

TESTS = ("tests/test_saved_items.py", "tests/test_worker.py", "tests/test_web.py",
         "tests/test_api_robustness.py", "tests/test_api_orders.py",
         "tests/test_services_manifest.py::test_manifest_head_matches_alembic",
         "tests/test_migrations_seed.py")


def solve(kit) -> None:
    ticket = kit.find_issue("Saved for later")
    kit.call("linear", "get_issue", id=ticket)
    kit.call("slack", "slack_get_channel_history", channel_id="eng")
    kit.call("notion", "search", query="Saved for later")

    kit.apply_patch("saved-for-later.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS)
    kit.commit(
        "Cart: Saved for later, with a price-drop email\n\n"
        "Customers move a cart line to Saved for later and back (GET/POST /api/v1/saved-items,\n"
        "POST /saved-items/{id}/move-to-cart, DELETE /saved-items/{id}); another customer's item\n"
        "is a 404. Saved items live in their own table (migration 0004_saved_items), keyed by\n"
        "customer, so cart expiry and checkout leave them alone. Lowering a price enqueues\n"
        "saved_items_price_drop with the change; the worker emails each saver once per lower\n"
        "price (notified_price_cents). The cart page lists them under #saved-for-later with\n"
        "Move to cart / Remove. Deploy api before worker and web."
    )
    kit.deploy(["api"])
    kit.deploy(["worker"])
    kit.deploy(["web"])

    kit.close_issue(
        ticket,
        "Deployed: api (with migration 0004_saved_items), then worker, then web. "
        "GET/POST /api/v1/saved-items, POST /api/v1/saved-items/{id}/move-to-cart and "
        "DELETE /api/v1/saved-items/{id}, scoped to the signed-in customer (others' items are "
        "404). Admin price drops enqueue saved_items_price_drop; the worker emails each saver "
        "once per lower price (template saved_item_price_drop). The cart page has the Saved for "
        "later section with Move to cart / Remove and Save for later on every line. Cart and "
        "checkout payloads are unchanged.",
    )
    kit.post_message(
        "eng",
        "Saved for later is live (api + worker + web deployed): shoppers can park a cart "
        "line, move it back or remove it from the cart page, and get one email when an admin "
        "lowers the price of something they saved. Cart and checkout APIs are unchanged.",
    )
