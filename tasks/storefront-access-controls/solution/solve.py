"""The oracle for storefront-access-controls: what a strong storefront engineer would do.

Read the ticket, the #eng thread and the Notion spec; replace `allow_anonymous_browsing` with
four controls (catalog, search, reviews, prices) backed by an audited history table and an
Alembic revision that carries the old value over; update the admin page, the navigation and
the product page; keep the monorepo's tests in step; deploy api (it migrates), then web; close
the ticket and tell #eng.

The code change is `access-controls.patch` beside this file (made against the setup commit).
"""

TESTS = ("tests/test_store_access.py", "tests/test_web.py", "tests/test_api_robustness.py",
         "tests/test_services_manifest.py::test_manifest_head_matches_alembic",
         "tests/test_migrations_seed.py")


def solve(kit) -> None:
    ticket = kit.find_issue("Storefront access controls")
    kit.call("linear", "get_issue", id=ticket)
    kit.call("slack", "slack_get_channel_history", channel_id="eng")
    kit.call("notion", "search", query="Storefront access controls")

    kit.apply_patch("access-controls.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *TESTS)
    kit.commit(
        "Storefront: four access controls replace allow_anonymous_browsing\n\n"
        "Anonymous visitors' access to the catalogue, search, reviews and prices is now set per\n"
        "control (admin API /admin/access-controls, admin page 'Storefront access'); signed-in\n"
        "customers are never restricted. Every change is recorded in access_control_changes.\n"
        "Migration 0004 creates that table and carries allow_anonymous_browsing over to the\n"
        "four controls, so a closed store stays closed. /store publishes `access` and the\n"
        "storefront's navigation and product pages follow it. Deploy api before web."
    )
    kit.deploy(["api"])
    kit.deploy(["web"])

    kit.close_issue(
        ticket,
        "Deployed: api (with migration 0004_storefront_access_controls) then web. Four "
        "controls (catalog, search, reviews, prices) under /api/v1/admin/access-controls with a "
        "change history; /api/v1/store publishes `access`; the admin page has a Storefront "
        "access form; navigation and product pages follow the controls. All four are open in "
        "production, ready for Monday's prices pilot.",
    )
    kit.post_message(
        "eng",
        "Storefront access controls are live (api + web deployed): catalog, search, reviews "
        "and prices can be closed to anonymous visitors one by one from the admin page, and every "
        "change is recorded. Everything is open for now; flip `prices` for the pilot on Monday.",
    )
