"""The oracle for recommendations-fallback: what the on-call engineer would do.

Read the ticket, the thread and Sentry; fix the co-purchase recommendations (never recommend,
or crash on, a deactivated product), make the web's product page treat recommendations as
optional (500 ms timeout, render without them on any failure), deploy api then web, then close
the ticket and give #incidents the all-clear.
"""

REPO = "acme/api/repositories/products.py"
CLIENT = "acme/web/client.py"
VIEWS = "acme/web/views.py"


def solve(kit) -> None:
    ticket = kit.find_issue("Product pages fail")
    kit.call("slack", "slack_get_channel_history", channel_id="incidents")

    # 1. api: co-purchases among active products only; never index with an id we do not have.
    kit.replace(
        REPO,
        "                OrderItem.product_id != product.id,\n"
        "            )\n"
        "            .group_by(OrderItem.product_id)\n",
        "                OrderItem.product_id != product.id,\n"
        "                Product.is_active.is_(True),  # deactivated since: never recommended\n"
        "            )\n"
        "            .join(Product, Product.id == OrderItem.product_id)\n"
        "            .group_by(OrderItem.product_id)\n",
    )
    kit.replace(REPO, "        picks = sorted((active[pid] for pid in ids),\n",
                "        picks = sorted((active[pid] for pid in ids if pid in active),\n")

    # 2. web: a per-call timeout on the API client...
    kit.replace(
        CLIENT,
        "        headers: dict[str, str] | None = None,\n    ) -> Any:\n",
        "        headers: dict[str, str] | None = None,\n"
        "        timeout: float | None = None,\n    ) -> Any:\n",
    )
    kit.replace(
        CLIENT,
        "            resp = await self.http.request(method, f\"/api/v1{path}\", params=clean, json=json, headers=hdrs)\n",
        "            resp = await self.http.request(\n"
        "                method, f\"/api/v1{path}\", params=clean, json=json, headers=hdrs,\n"
        "                timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout,\n"
        "            )\n",
    )
    # ... and recommendations as an optional part of the product page.
    kit.replace(
        VIEWS,
        "import contextlib\nimport math\n",
        "import contextlib\nimport logging\nimport math\n",
    )
    kit.replace(
        VIEWS,
        "router = APIRouter()\n",
        "log = logging.getLogger(__name__)\nrouter = APIRouter()\n"
        "# Recommendations are optional: the product page never waits longer than this for them.\n"
        "RECOMMENDATIONS_TIMEOUT_SECONDS = 0.5\n",
    )
    kit.replace(
        VIEWS,
        "    related = await api.get(f\"/products/{product_id}/related\")\n",
        "    related = await _recommendations(request, product_id)\n",
    )
    kit.replace(
        VIEWS,
        "@router.post(\"/products/{product_id}/reviews\")\n",
        "async def _recommendations(request: Request, product_id: int) -> list[dict[str, Any]]:\n"
        "    \"\"\"Related products, or none when the API fails or is slow: never fail the page.\"\"\"\n"
        "    try:\n"
        "        related = await web(request).api.get(f\"/products/{product_id}/related\",\n"
        "                                             timeout=RECOMMENDATIONS_TIMEOUT_SECONDS)\n"
        "    except (ApiFailure, ApiUnavailable) as exc:\n"
        "        log.warning(\"recommendations unavailable, rendering without them\",\n"
        "                    extra={\"product_id\": product_id, \"error\": str(exc)})\n"
        "        return []\n"
        "    return related if isinstance(related, list) else []\n\n\n"
        "@router.post(\"/products/{product_id}/reviews\")\n",
    )
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_web.py", "tests/test_api_auth_catalog.py")
    kit.commit(
        "Recommendations: skip deactivated products; product page degrades without them\n\n"
        "The co-purchase query could return products deactivated since they were bought, and\n"
        "looking them up among active products raised KeyError (500 on /related, so an error\n"
        "page on the product). Join on active products instead. The web now calls /related\n"
        "with a 500 ms timeout and renders the product page without recommendations when it\n"
        "fails or is slow, logging a warning."
    )
    kit.deploy(["api"])
    kit.deploy(["web"])

    kit.close_issue(
        ticket,
        "Fixed: co-purchase recommendations only consider active products (a deactivated "
        "one raised KeyError on /related), and the product page treats recommendations as "
        "optional: 500 ms timeout, fallback to no recommendations on any failure. Deployed "
        "to api and web; product pages render again.",
    )
    kit.post_message(
        "incidents",
        "All clear on the failing product pages: recommendations skip deactivated products "
        "and the page no longer fails or waits on them (500 ms timeout, fallback). Deployed "
        "to api and web.",
    )
