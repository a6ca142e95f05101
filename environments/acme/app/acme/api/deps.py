"""FastAPI dependencies: per-request DB session, authentication, pagination."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from sqlalchemy.orm import Session as DbSession

from acme.api.services.auth import AuthService
from acme.api.services.context import ApiContext
from acme.common.errors import Forbidden, Unauthorized
from acme.models import User

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_ID = 2_147_483_647  # ids are 32-bit on every backend; larger values are simply unknown

# Path ids validated up front so absurd values are a 422, not a database overflow.
ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_ctx(request: Request) -> ApiContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def get_db(request: Request) -> Iterator[DbSession]:
    """One session per request; read requests avoid taking SQLite's write lock.

    Bound with ``scope="function"`` so the session closes as soon as the endpoint
    returns, not after the response has been sent to a possibly slow client.
    """
    ctx = get_ctx(request)
    session = ctx.db.new_session(write=request.method not in READ_METHODS)
    try:
        yield session
    finally:
        session.close()


Ctx = Annotated[ApiContext, Depends(get_ctx)]
Db = Annotated[DbSession, Depends(get_db, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def optional_user(request: Request, ctx: Ctx, db: Db) -> User | None:
    token = bearer_token(request)
    if token is None:
        return None
    return AuthService(ctx, db).authenticate(token)


def current_user(request: Request, ctx: Ctx, db: Db) -> User:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("authentication required", code="authentication_required")
    user = AuthService(ctx, db).authenticate(token)
    if user is None:
        raise Unauthorized("session is invalid or expired", code="invalid_token")
    request.state.user_id = user.id
    return user


def require_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("admin access required", code="admin_required")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
AdminUser = Annotated[User, Depends(require_admin)]


@dataclass(frozen=True)
class Pagination:
    page: int
    page_size: int


def pagination(
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 24,
) -> Pagination:
    return Pagination(page, page_size)


Paging = Annotated[Pagination, Depends(pagination)]
