"""Registration and the caller's own profile."""

from __future__ import annotations

from fastapi import APIRouter, Request

from acme.api.deps import Ctx, CurrentUser, Db, bearer_token
from acme.api.routes.sessions import session_json
from acme.api.schemas.users import RegisterIn, SessionOut, UserOut, UserUpdateIn
from acme.api.services.auth import AuthService
from acme.models import User

router = APIRouter(prefix="/users", tags=["users"])


def user_json(u: User) -> dict[str, object]:
    return {"id": u.id, "email": u.email, "name": u.name, "is_admin": u.is_admin,
            "created_at": u.created_at}


@router.post("", status_code=201, response_model=SessionOut)
def register(body: RegisterIn, request: Request, ctx: Ctx, db: Db) -> dict[str, object]:
    """Create an account and sign it in (the response carries a session token)."""
    issued = AuthService(ctx, db).register(body, request.headers.get("user-agent"))
    return session_json(issued)


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> dict[str, object]:
    return user_json(user)


@router.patch("/me", response_model=UserOut)
def update_me(body: UserUpdateIn, request: Request, user: CurrentUser, ctx: Ctx, db: Db) -> dict[str, object]:
    token = bearer_token(request) or ""
    return user_json(AuthService(ctx, db).update_profile(user, body, token))
