"""The oracle for api-migrate-recommendations-v2: retire `GET /products/{id}/related`.

Read the ticket and the thread, move the storefront's product page to
`GET /recommendations?product_id=` (cards with their reason, best-effort), deploy web, check
in monitoring that nothing calls the legacy route any more, replace it with a 410 Gone that
points at its successor, keep the monorepo's tests and README in step, deploy api, then close
the ticket and tell #eng.
"""

VIEWS = "acme/web/views.py"
TEMPLATE = "acme/web/templates/product.html"
ROUTES = "acme/api/routes/products.py"
SERVICE = "acme/api/services/catalog.py"
REPO = "acme/api/repositories/products.py"
TESTS = "tests/test_api_auth_catalog.py"
LEGACY = "/api/v1/products/{product_id}/related"

# -- web ------------------------------------------------------------------------------------
VIEWS_IMPORTS_OLD = "import contextlib\nimport math\n"
VIEWS_IMPORTS_NEW = "import contextlib\nimport logging\nimport math\n"
VIEWS_LOG_OLD = "router = APIRouter()\n"
VIEWS_LOG_NEW = "log = logging.getLogger(__name__)\nrouter = APIRouter()\n"
VIEWS_RECS = "RECOMMENDATIONS = 4\n"

PDP_OLD = '''    related = await api.get(f"/products/{product_id}/related")
    return await render(request, "product.html", product=product, reviews=reviews["items"],
                        review_total=reviews["total"], related=related)
'''
PDP_NEW = '''    recommendations = await _recommendations(request, product_id)
    return await render(request, "product.html", product=product, reviews=reviews["items"],
                        review_total=reviews["total"], recommendations=recommendations)


async def _recommendations(request: Request, product_id: int) -> list[dict[str, Any]]:
    """Recommendations v2 for the product page, best-effort: without them the page still renders."""
    try:
        result = await web(request).api.get("/recommendations", params={"product_id": product_id,
                                                                        "limit": RECOMMENDATIONS})
    except (ApiFailure, ApiUnavailable) as exc:
        log.warning("recommendations unavailable", extra={"product_id": product_id, "error": str(exc)})
        return []
    return list(result["items"])
'''

TEMPLATE_OLD = '''{% if related %}
<section>
  <h2>You might also like</h2>
  <div class="grid">{% for p in related %}{% include "_product_card.html" %}{% endfor %}</div>
</section>
{% endif %}
'''
TEMPLATE_NEW = '''{% if recommendations %}
<section class="recommendations">
  <h2>You might also like</h2>
  <div class="grid">
    {% for rec in recommendations %}{% with p = rec.product %}
    <div class="recommendation">
      {% include "_product_card.html" %}
      <p class="reason muted">{{ rec.reason }}</p>
    </div>
    {% endwith %}{% endfor %}
  </div>
</section>
{% endif %}
'''

# -- api ------------------------------------------------------------------------------------
ROUTES_IMPORTS_OLD = "from fastapi import APIRouter, Query, Response\n"
ROUTES_IMPORTS_NEW = "from fastapi import APIRouter, Query\nfrom fastapi.responses import JSONResponse\n"
ROUTES_ERRORS_OLD = "from acme.api.services.reviews import ReviewService\n"
ROUTES_ERRORS_NEW = (
    "from acme.api.services.reviews import ReviewService\nfrom acme.common.errors import error_response\n"
)
SUNSET_OLD = '''# `/products/{id}/related` is replaced by `/recommendations` (ENG: recommendations v2). Only the
# storefront calls it; per the API versioning policy an internal-only endpoint gets 90 days.
RELATED_SUNSET = "Wed, 18 Nov 2026 00:00:00 GMT"
'''
SUNSET_NEW = ""
RELATED_OLD = '''@router.get("/products/{product_id}/related", response_model=list[ProductOut], deprecated=True)
def related_products(
    product_id: ProductId,
    response: Response,
    ctx: Ctx,
    db: Db,
    limit: Annotated[int, Query(ge=1, le=12)] = 4,
) -> list[dict[str, Any]]:
    """Deprecated: use `GET /recommendations?product_id=` (Sunset 2026-11-18)."""
    response.headers["Deprecation"] = "true"
    response.headers["Sunset"] = RELATED_SUNSET
    response.headers["Link"] = f'</api/v1/recommendations?product_id={product_id}>; rel="successor-version"'
    return CatalogService(ctx, db).related(product_id, limit)
'''
RELATED_NEW = '''@router.get("/products/{product_id}/related", include_in_schema=False)
def related_products_removed(product_id: ProductId) -> JSONResponse:
    """Removed after its Sunset (2026-11-18): 410 Gone, pointing at the successor."""
    return error_response(
        410,
        "endpoint_removed",
        "GET /products/{id}/related was removed; use GET /recommendations?product_id=",
        headers={"Link": f'</api/v1/recommendations?product_id={product_id}>; rel="successor-version"'},
    )
'''
SERVICE_RELATED_OLD = '''    def related(self, product_id: int, limit: int = 4) -> list[dict[str, Any]]:
        product = self.get_product(product_id)
        if not self.ctx.flags.enabled("recommendations"):
            return []
        return self._cached(
            f"related:{product_id}:{limit}",
            lambda: [product_json(p) for p in self.products.related(product, limit)],
        )

'''
REPO_RELATED_OLD = '''    def related(self, product: Product, limit: int) -> list[Product]:
        stmt = (
            select(Product)
            .where(
                Product.category_id == product.category_id,
                Product.id != product.id,
                Product.is_active.is_(True),
            )
            .order_by(Product.rating_avg.desc(), Product.rating_count.desc(), Product.id)
            .limit(limit)
        )
        return list(self.db.scalars(stmt))

'''
TEST_RELATED_OLD = '''def test_product_detail_and_related(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    detail = shared_api.get(f"/api/v1/products/{product['id']}").json()
    assert detail["sku"] == product["sku"]
    related = shared_api.get(f"/api/v1/products/{product['id']}/related").json()
    assert all(r["category"]["id"] == detail["category"]["id"] and r["id"] != detail["id"] for r in related)
'''
TEST_RELATED_NEW = '''def test_product_detail(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    detail = shared_api.get(f"/api/v1/products/{product['id']}").json()
    assert detail["sku"] == product["sku"]
'''
TEST_DEPRECATED_OLD = '''def test_related_is_deprecated(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    resp = shared_api.get(f"/api/v1/products/{product['id']}/related")
    assert resp.status_code == 200
    assert resp.headers["Deprecation"] == "true" and "2026" in resp.headers["Sunset"]
    assert "/api/v1/recommendations" in resp.headers["Link"]
'''
TEST_DEPRECATED_NEW = '''def test_related_is_gone(shared_api: TestClient) -> None:
    product = in_stock_product(shared_api)
    resp = shared_api.get(f"/api/v1/products/{product['id']}/related")
    assert resp.status_code == 410
    assert resp.json()["error"]["code"] == "endpoint_removed"
    assert f"/api/v1/recommendations?product_id={product['id']}" in resp.headers["Link"]
'''
WEB_TEST = '''

def test_product_page_shows_recommendations_with_reasons(web: TestClient) -> None:
    pid = first_product_id(web)
    page = web.get(f"/products/{pid}")
    assert page.status_code == 200
    assert "You might also like" in page.text
    assert "Similar price" in page.text or "More in " in page.text
'''
README_FLAG_OLD = '''"You might also like" (`/recommendations`; the deprecated `/products/{id}/related` too)'''
README_FLAG_NEW = '''"You might also like" (`/recommendations`)'''
README_EP_OLD = (
    "`recommendations?product_id=` (v2; `products/{id}/related` is deprecated, Sunset 2026-11-18)"
)
README_EP_NEW = (
    "`recommendations?product_id=` (`products/{id}/related` was removed on 2026-11-19: 410 Gone)"
)


def edit_web(kit) -> None:
    kit.replace(VIEWS, VIEWS_IMPORTS_OLD, VIEWS_IMPORTS_NEW)
    kit.replace(VIEWS, VIEWS_LOG_OLD, VIEWS_LOG_NEW + VIEWS_RECS)
    kit.replace(VIEWS, PDP_OLD, PDP_NEW)
    kit.replace(TEMPLATE, TEMPLATE_OLD, TEMPLATE_NEW)
    kit.write("tests/test_web.py", kit.read("tests/test_web.py") + WEB_TEST)


def edit_api(kit) -> None:
    kit.replace(ROUTES, ROUTES_IMPORTS_OLD, ROUTES_IMPORTS_NEW)
    kit.replace(ROUTES, ROUTES_ERRORS_OLD, ROUTES_ERRORS_NEW)
    kit.replace(ROUTES, SUNSET_OLD, SUNSET_NEW)
    kit.replace(ROUTES, RELATED_OLD, RELATED_NEW)
    kit.replace(SERVICE, SERVICE_RELATED_OLD, "")
    kit.replace(REPO, REPO_RELATED_OLD, "")
    kit.replace(TESTS, TEST_RELATED_OLD, TEST_RELATED_NEW)
    kit.replace(TESTS, TEST_DEPRECATED_OLD, TEST_DEPRECATED_NEW)
    kit.replace("README.md", README_FLAG_OLD, README_FLAG_NEW)
    kit.replace("README.md", README_EP_OLD, README_EP_NEW)


def solve(kit) -> None:
    ticket = kit.find_issue("Retire GET /products/{id}/related")
    kit.call("slack", "slack_get_channel_history", channel_id="eng")

    # 1. The storefront moves first: the legacy route keeps answering until web is off it.
    edit_web(kit)
    kit.run("python", "-m", "pytest", "-q", "-x", "tests/test_web.py")
    kit.commit(
        "Web: product page recommendations from GET /recommendations\n\n"
        "The storefront was the last caller of the deprecated /products/{id}/related. Cards now\n"
        "come from recommendations v2 with the reason each was picked, and the section is\n"
        "best-effort: when the API cannot answer, the product page renders without it."
    )
    kit.deploy(["web"])
    # Nothing may call the legacy route any more before it goes away.
    kit.wait_until(lambda: _legacy_calls(kit) == 0, timeout=120, interval=5)

    # 2. Then the api: the legacy route answers 410 Gone with its successor.
    edit_api(kit)
    kit.run("python", "-m", "pytest", "-q", "-x", TESTS, "tests/test_web.py")
    kit.commit(
        "API: remove GET /products/{id}/related (410 Gone)\n\n"
        "Past its Sunset (2026-11-18) and without callers since the storefront moved to\n"
        "GET /recommendations: it now answers 410 endpoint_removed with a Link to the successor.\n"
        "The v1 related query and its cache entry go with it."
    )
    kit.deploy(["api"])

    kit.close_issue(
        ticket,
        "Done. The storefront's product page uses GET /recommendations (reason under each "
        "card, best-effort), deployed to web first; monitoring showed no more calls to "
        "/products/{id}/related, which now answers 410 Gone (endpoint_removed, Link to "
        "/recommendations), deployed to api.",
    )
    kit.post_message(
        "eng",
        "GET /api/v1/products/{id}/related is removed: it answers 410 Gone now. The product "
        "page uses GET /api/v1/recommendations?product_id= (web deployed first, no callers "
        "left on the old route).",
    )


def _legacy_calls(kit) -> float:
    query = f'sum(increase(http_requests_total{{service="api",route="{LEGACY}"}}[30s]))'
    series = kit.call("monitoring", "query", query=query)["series"]
    return sum(float(s["value"]) for s in series if s.get("value") is not None)
