"""The oracle for payments-retry-backoff: what the on-call engineer would do.

Read the ticket and the thread, restore retries with exponential backoff (4 attempts with the
flag on, 1 with it off; declines never retried; same idempotency keys), keep the monorepo's own
test in step, deploy api, then close the ticket and give #incidents the all-clear.
"""

ORDERS = "acme/api/services/orders.py"

ONE_CALL = '''    def _with_retry(self, call: Any) -> Charge:
        """One call to the processor: retries made slow cards look like outages (INC-112)."""
        return call()  # type: ignore[no-any-return]
'''

WITH_BACKOFF = '''    def _with_retry(self, call: Any) -> Charge:
        """Retry transient processor failures with exponential backoff (PAY ticket).

        Safe because every authorize/capture carries the order's idempotency key; declines
        (`PaymentDeclined`) are the card's answer and never retried. `payments_retry` off
        means a single attempt.
        """
        attempts = PAYMENT_ATTEMPTS if self.ctx.flags.enabled("payments_retry") else 1
        for attempt in range(1, attempts + 1):
            try:
                return call()  # type: ignore[no-any-return]
            except PaymentUnavailable as exc:
                if attempt == attempts:
                    raise
                delay = PAYMENT_BACKOFF_SECONDS * 2 ** (attempt - 1)
                log.warning(
                    "payment call failed, retrying",
                    extra={"reason": exc.reason, "attempt": attempt, "delay": delay},
                )
                time.sleep(delay)
        raise AssertionError("unreachable")
'''

CONSTANTS_ANCHOR = "log = logging.getLogger(__name__)\n"
CONSTANTS = (
    CONSTANTS_ANCHOR
    + "\n# Transient processor failures: attempts in total, and the first backoff (doubling).\n"
    + "PAYMENT_ATTEMPTS = 4\nPAYMENT_BACKOFF_SECONDS = 0.05\n"
)


def solve(kit) -> None:
    ticket = kit.find_issue("Checkout failures spiking")
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")

    kit.replace(ORDERS, ONE_CALL, WITH_BACKOFF)
    kit.replace(ORDERS, CONSTANTS_ANCHOR, CONSTANTS)
    kit.replace(
        "tests/test_api_orders.py",
        "assert _injected(payments_client) == 2  # payments_retry defaults on: one retry",
        "assert _injected(payments_client) == 4  # payments_retry defaults on: 4 attempts",
    )
    kit.replace(
        "tests/test_api_orders.py",
        "    assert _injected(payments_client) == 3\n",
        "    assert _injected(payments_client) == 5\n",
    )
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_api_orders.py")
    kit.commit(
        "Checkout: retry processor blips with exponential backoff\n\n"
        "Transient PaymentUnavailable errors get up to 4 attempts (50/100/200 ms backoff)\n"
        "when payments_retry is on, one when it is off; declines are never retried and\n"
        "every attempt reuses the order's idempotency key, so a retry cannot charge twice."
    )
    kit.deploy(["api"])
    # Done is when production says so: wait for the payment alert to clear (polling every 5 s).
    kit.wait_resolved("PaymentFailuresHigh", timeout=240, interval=5)

    kit.close_issue(
        ticket,
        "Fixed: transient processor failures are retried with exponential backoff again "
        "(4 attempts, 50/100/200 ms; declines never retried; same idempotency keys). "
        "Deployed to api; payment failures are back under the alert threshold.",
    )
    kit.post_message(
        "incidents",
        "All clear on checkout failures: retries with backoff are deployed to api and "
        "payment failures are back to normal while the processor is degraded.",
    )
