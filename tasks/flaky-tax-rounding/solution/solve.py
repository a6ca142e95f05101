"""The oracle for flaky-tax-rounding: what the engineer on CI duty would do.

Read the ticket and finance's thread, find the cause in the pricing service (`percent_of` went
through float division and `round()`, which rounds half to even, so exact half cents rounded
down on some subtotals), restore integer half-up rounding, leave the random test as it is,
deploy api, then close the ticket with the cause.
"""

PRICING = "acme/api/services/pricing.py"

BUGGY = '''def percent_of(amount_cents: int, bps: int) -> int:
    """``bps`` basis points of an amount, to the nearest cent (shared by tax and, soon, fees)."""
    return round(amount_cents * bps / 10_000)
'''
FIXED = '''def percent_of(amount_cents: int, bps: int) -> int:
    """``bps`` basis points of an amount, to the cent, half a cent rounding up.

    Integer arithmetic on purpose: ``round()`` rounds half to even (16.5 -> 16), so a float
    version puts tax a cent low on every subtotal that lands on an exact half cent.
    """
    return (amount_cents * bps + 5_000) // 10_000
'''


def solve(kit) -> None:
    ticket = kit.find_issue("test_tax_is_rounded_half_up_on_the_subtotal")
    kit.call("slack", "slack_get_channel_history", channel_id="eng")

    kit.replace(PRICING, BUGGY, FIXED)
    kit.replace(PRICING, 'tax on goods, to the nearest cent."""', 'tax on goods, rounded half up."""')
    kit.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_pricing.py")
    kit.commit(
        "Pricing: round tax half up again (fixes flaky pricing test)\n\n"
        "percent_of used float division and round(), which rounds half to even: every subtotal\n"
        "with exactly half a cent of tax and an even cent below it (1 in 800 at 8.25%, e.g.\n"
        "$2.00 -> 16.5c) got a cent too little, which the random property test hit now and then.\n"
        "Integer half-up arithmetic, as finance's rule says."
    )
    kit.deploy(["api"])

    kit.close_issue(
        ticket,
        "Cause: percent_of computed tax with float division and round(), and Python's "
        "round() is banker's rounding (half to even), so exact half cents rounded down on "
        "about 1 subtotal in 800; the random test only sampled one now and then. Fixed with "
        "integer half-up arithmetic in the service; the test is unchanged. Deployed to api.",
    )
    kit.post_message(
        "eng",
        "Tax rounding is fixed and deployed to api: half cents round up again (the "
        "helper used round(), i.e. half to even). The flaky pricing test was right.",
    )
