"""The oracle for flag-free-shipping-threshold: what the engineer on the ticket would do.

Read the ticket, the spec and the thread; make the free-shipping threshold per customer (one
helper used by the cart preview and checkout, cohort evaluated with the user id as targeting
key, the experiment's threshold from its own number flag, 0 = off); add
`free_shipping_threshold_cents` to cart responses and the "Add $X more for free shipping." line
to the cart and checkout pages; deploy api, then web; start the experiment by setting the
threshold flag to 3500; tell #eng and close the ticket.
"""


def solve(kit) -> None:
    ticket = kit.find_issue("Free-shipping threshold experiment")
    kit.call("slack", "slack_get_channel_history", channel_id="eng")
    kit.call("notion", "search", query="Free shipping at $35")
    kit.call("deploy", "get_flags")

    kit.apply_patch("free-shipping-experiment.patch")
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_free_shipping_experiment.py",
            "tests/test_api_orders.py", "tests/test_web.py", "tests/test_flags.py")
    kit.commit(
        "Free-shipping experiment: per-customer threshold behind flags\n\n"
        "Customers in the free_shipping_experiment cohort (evaluated per user id) get\n"
        "free_shipping_experiment_threshold_cents instead of the store's threshold while it is\n"
        "set (0 = off). One helper feeds both the cart preview and checkout; cart responses\n"
        "carry free_shipping_threshold_cents and the cart/checkout pages show how far the\n"
        "customer is from free shipping."
    )
    # web reads the new cart field: api first.
    kit.deploy(["api"])
    kit.deploy(["web"])
    kit.call("deploy", "set_flag", name="free_shipping_experiment_threshold_cents", value=3500)

    kit.post_message(
        "eng",
        "The free-shipping experiment is live: api and web are deployed and "
        "free_shipping_experiment_threshold_cents is 3500, so the 50% cohort gets free shipping "
        "from $35 (everyone else keeps $50). Set the flag to 0 to stop it.",
    )
    kit.close_issue(
        ticket,
        "Shipped: the cart and checkout use the customer's threshold (cohort = "
        "free_shipping_experiment by user id, threshold = free_shipping_experiment_threshold_cents, "
        "0 = off); cart responses carry free_shipping_threshold_cents; the cart and checkout pages "
        "show 'Add $X more for free shipping.'. Deployed api then web, and set the threshold flag "
        "to 3500 ($35) to start the experiment.",
    )
