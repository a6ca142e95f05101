"""Storefront and admin pages. Every view is a thin adapter over API calls."""

from __future__ import annotations

import contextlib
import math
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from acme.web.client import ApiFailure, ApiUnavailable
from acme.web.state import (
    SESSION_COOKIE,
    current_user,
    login_redirect,
    new_idempotency_key,
    redirect,
    render,
    safe_next,
    set_session,
    token_of,
    web,
)

router = APIRouter()
PAGE_SIZE = 24
SORTS = {"featured": "Featured", "price_asc": "Price: low to high", "price_desc": "Price: high to low",
         "rating": "Top rated", "newest": "Newest"}


def pages(result: dict[str, Any]) -> int:
    return max(1, math.ceil(int(result["total"]) / max(1, int(result["page_size"]))))


# -- catalogue -----------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    api = web(request).api
    featured = await api.get("/products", params={"sort": "featured", "page_size": 8})
    newest = await api.get("/products", params={"sort": "newest", "page_size": 4})
    categories = await api.get("/categories")
    return await render(request, "home.html", featured=featured["items"], newest=newest["items"],
                        categories=categories)


@router.get("/products", response_class=HTMLResponse)
async def catalog(
    request: Request,
    category: Annotated[str | None, Query(max_length=64)] = None,
    sort: str = "featured",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    api = web(request).api
    sort = sort if sort in SORTS else "featured"
    result = await api.get("/products", params={"category": category, "sort": sort, "page": page,
                                                "page_size": PAGE_SIZE})
    categories = await api.get("/categories")
    current = next((c for c in categories if c["slug"] == category), None)
    return await render(request, "catalog.html", products=result["items"], total=result["total"],
                        page=page, pages=pages(result), categories=categories, category=current,
                        sort=sort, sorts=SORTS)


@router.get("/search", response_class=HTMLResponse)
async def search(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> Response:
    result: dict[str, Any] = {"items": [], "total": 0, "page_size": PAGE_SIZE}
    error = None
    if q.strip():
        try:
            result = await web(request).api.get("/search", params={"q": q, "page": page,
                                                                   "page_size": PAGE_SIZE})
        except ApiFailure as exc:
            error = exc.message
    return await render(request, "search.html", q=q, hits=result["items"], total=result["total"],
                        page=page, pages=pages(result), error=error)


@router.get("/products/{product_id}", response_class=HTMLResponse)
async def product_page(request: Request, product_id: int) -> Response:
    api = web(request).api
    product = await api.get(f"/products/{product_id}")
    reviews = await api.get(f"/products/{product_id}/reviews", params={"page_size": 10})
    related = await api.get(f"/products/{product_id}/related")
    return await render(request, "product.html", product=product, reviews=reviews["items"],
                        review_total=reviews["total"], related=related)


@router.post("/products/{product_id}/reviews")
async def post_review(
    request: Request,
    product_id: int,
    rating: Annotated[int, Form(ge=1, le=5)],
    title: Annotated[str, Form(max_length=160)],
    body: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    token = token_of(request)
    if not token:
        return login_redirect(request)
    try:
        await web(request).api.post(f"/products/{product_id}/reviews", token=token,
                                    json={"rating": rating, "title": title, "body": body})
    except ApiFailure as exc:
        if exc.status == 401:
            return login_redirect(request)
        return redirect(f"/products/{product_id}", flash=exc.message)
    return redirect(f"/products/{product_id}", flash="Thanks for your review!")


# -- cart and checkout ---------------------------------------------------------------
@router.get("/cart", response_class=HTMLResponse)
async def cart_page(request: Request) -> Response:
    token = token_of(request)
    if not token or await current_user(request) is None:
        return login_redirect(request)
    cart = await web(request).api.get("/cart", token=token)
    return await render(request, "cart.html", cart=cart)


@router.post("/cart/add")
async def cart_add(
    request: Request,
    product_id: Annotated[int, Form(ge=1)],
    quantity: Annotated[int, Form(ge=1, le=100)] = 1,
) -> Response:
    token = token_of(request)
    if not token:
        return redirect(f"/login?next=/products/{product_id}", flash="Sign in to add items to your cart.")
    try:
        await web(request).api.post("/cart/items", token=token,
                                    json={"product_id": product_id, "quantity": quantity})
    except ApiFailure as exc:
        if exc.status == 401:
            return redirect(f"/login?next=/products/{product_id}")
        return redirect(f"/products/{product_id}", flash=exc.message)
    return redirect("/cart", flash="Added to your cart.")


@router.post("/cart/update")
async def cart_update(
    request: Request,
    product_id: Annotated[int, Form(ge=1)],
    quantity: Annotated[int, Form(ge=0, le=100)],
) -> Response:
    token = token_of(request)
    if not token:
        return login_redirect(request)
    try:
        await web(request).api.put(f"/cart/items/{product_id}", token=token, json={"quantity": quantity})
    except ApiFailure as exc:
        return redirect("/cart", flash=exc.message)
    return redirect("/cart")


@router.get("/checkout", response_class=HTMLResponse)
async def checkout_page(request: Request) -> Response:
    token = token_of(request)
    user = await current_user(request)
    if not token or user is None:
        return login_redirect(request)
    cart = await web(request).api.get("/cart", token=token)
    if not cart["items"]:
        return redirect("/cart", flash="Your cart is empty.")
    return await render(request, "checkout.html", cart=cart, idempotency_key=new_idempotency_key(),
                        form={"shipping_name": user["name"]}, error=None)


@router.post("/checkout")
async def checkout_submit(
    request: Request,
    idempotency_key: Annotated[str, Form(max_length=64)],
    shipping_name: Annotated[str, Form(max_length=120)],
    shipping_address: Annotated[str, Form(max_length=400)],
    card_number: Annotated[str, Form(max_length=23)],
    exp_month: Annotated[int, Form(ge=1, le=12)],
    exp_year: Annotated[int, Form(ge=2000, le=2100)],
    cvc: Annotated[str, Form(max_length=4)],
) -> Response:
    token = token_of(request)
    if not token:
        return login_redirect(request)
    api = web(request).api
    payload = {"shipping_name": shipping_name, "shipping_address": shipping_address,
               "card": {"number": card_number, "exp_month": exp_month, "exp_year": exp_year, "cvc": cvc}}
    try:
        order = await api.post("/orders", token=token, json=payload,
                               headers={"Idempotency-Key": idempotency_key})
    except ApiFailure as exc:
        if exc.status == 401:
            return login_redirect(request)
        cart = await api.get("/cart", token=token)
        message = exc.message
        if exc.code == "validation_error" and exc.details:
            message = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        # A failed attempt burns its key; the retry gets a fresh one.
        return await render(request, "checkout.html", status_code=exc.status if exc.status < 500 else 503,
                            cart=cart, idempotency_key=new_idempotency_key(), error=message,
                            form={"shipping_name": shipping_name, "shipping_address": shipping_address})
    return redirect(f"/account/orders/{order['id']}", flash="Thank you! Your order has been placed.")


# -- accounts ------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    return await render(request, "login.html", next=safe_next(next), error=None, email="")


@router.post("/login")
async def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=255)],
    password: Annotated[str, Form(max_length=128)],
    next: Annotated[str, Form(max_length=500)] = "/account",
) -> Response:
    try:
        session = await web(request).api.post("/sessions", json={"email": email, "password": password})
    except ApiFailure as exc:
        return await render(request, "login.html", status_code=401 if exc.status == 401 else 400,
                            next=safe_next(next), error=exc.message, email=email)
    response = redirect(safe_next(next), flash=f"Welcome back, {session['user']['name']}!")
    set_session(response, request, session["token"], web(request).settings.session_ttl_seconds)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = token_of(request)
    if token:
        # An already-expired session is fine: clearing the cookie is what matters.
        with contextlib.suppress(ApiFailure, ApiUnavailable):
            await web(request).api.delete("/sessions/current", token=token)
    response = redirect("/", flash="You have been signed out.")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/register", response_class=HTMLResponse)
async def register_page(request: Request) -> Response:
    return await render(request, "register.html", error=None, form={})


@router.post("/register")
async def register_submit(
    request: Request,
    name: Annotated[str, Form(max_length=120)],
    email: Annotated[str, Form(max_length=255)],
    password: Annotated[str, Form(max_length=128)],
) -> Response:
    try:
        session = await web(request).api.post("/users", json={"name": name, "email": email,
                                                              "password": password})
    except ApiFailure as exc:
        message = exc.message
        if exc.code == "validation_error" and exc.details:
            message = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        return await render(request, "register.html", status_code=exc.status, error=message,
                            form={"name": name, "email": email})
    response = redirect("/account", flash="Welcome to Acme!")
    set_session(response, request, session["token"], web(request).settings.session_ttl_seconds)
    return response


@router.get("/account", response_class=HTMLResponse)
async def account(request: Request, page: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    token = token_of(request)
    if not token or await current_user(request) is None:
        return login_redirect(request)
    orders = await web(request).api.get("/orders", token=token, params={"page": page, "page_size": 10})
    return await render(request, "account.html", orders=orders["items"], page=page,
                        pages=pages(orders))


@router.get("/account/orders/{order_id}", response_class=HTMLResponse)
async def order_page(request: Request, order_id: int) -> Response:
    token = token_of(request)
    if not token or await current_user(request) is None:
        return login_redirect(request)
    order = await web(request).api.get(f"/orders/{order_id}", token=token)
    return await render(request, "order.html", order=order)


# -- admin ---------------------------------------------------------------------------
async def _require_admin(request: Request) -> RedirectResponse | None:
    user = await current_user(request)
    if user is None:
        return login_redirect(request)
    if not user["is_admin"]:
        return redirect("/", flash="That page is for staff only.")
    return None


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(
    request: Request,
    status: Annotated[str | None, Query(max_length=24)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    denied = await _require_admin(request)
    if denied:
        return denied
    api, token = web(request).api, token_of(request)
    stats = await api.get("/admin/stats", token=token)
    settings = await api.get("/admin/settings", token=token)
    orders = await api.get("/admin/orders", token=token,
                           params={"status": status, "page": page, "page_size": 20})
    return await render(request, "admin/dashboard.html", stats=stats, settings=settings,
                        orders=orders["items"], status=status, page=page, pages=pages(orders))


@router.post("/admin/settings")
async def admin_settings(request: Request) -> Response:
    denied = await _require_admin(request)
    if denied:
        return denied
    form = await request.form()
    changes: dict[str, Any] = {}
    for key in ("store_name", "support_email", "maintenance_banner"):
        if key in form:
            changes[key] = str(form[key])
    for key in ("free_shipping_threshold_cents", "flat_shipping_cents", "tax_rate_bps", "max_quantity_per_item"):
        raw = str(form.get(key, "")).strip()
        if raw:
            if not raw.lstrip("-").isdigit():
                return redirect("/admin", flash=f"{key} must be a whole number")
            changes[key] = int(raw)
    try:
        await web(request).api.put("/admin/settings", token=token_of(request), json=changes)
    except ApiFailure as exc:
        detail = exc.message
        if exc.details and isinstance(exc.details, list):
            detail = "; ".join(f"{d['field']}: {d['message']}" for d in exc.details)
        return redirect("/admin", flash=f"Settings not saved: {detail}")
    return redirect("/admin", flash="Settings saved.")


@router.get("/admin/orders/{order_id}", response_class=HTMLResponse)
async def admin_order(request: Request, order_id: int) -> Response:
    denied = await _require_admin(request)
    if denied:
        return denied
    api, token = web(request).api, token_of(request)
    order = await api.get(f"/admin/orders/{order_id}", token=token)
    refunds = await api.get(f"/admin/orders/{order_id}/refunds", token=token)
    return await render(request, "admin/order.html", order=order, refunds=refunds)


@router.post("/admin/orders/{order_id}/refund")
async def admin_refund(
    request: Request,
    order_id: int,
    amount: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    denied = await _require_admin(request)
    if denied:
        return denied
    body: dict[str, Any] = {"reason": reason}
    if amount.strip():
        try:
            body["amount_cents"] = round(float(amount) * 100)
        except ValueError:
            return redirect(f"/admin/orders/{order_id}", flash="Amount must be a number of dollars.")
    try:
        await web(request).api.post(f"/admin/orders/{order_id}/refunds", token=token_of(request), json=body)
    except ApiFailure as exc:
        return redirect(f"/admin/orders/{order_id}", flash=f"Refund failed: {exc.message}")
    return redirect(f"/admin/orders/{order_id}", flash="Refund issued.")


@router.post("/admin/orders/{order_id}/ship")
async def admin_ship(request: Request, order_id: int) -> Response:
    denied = await _require_admin(request)
    if denied:
        return denied
    try:
        await web(request).api.post(f"/admin/orders/{order_id}/ship", token=token_of(request))
    except ApiFailure as exc:
        return redirect(f"/admin/orders/{order_id}", flash=exc.message)
    return redirect(f"/admin/orders/{order_id}", flash="Marked as shipped.")
