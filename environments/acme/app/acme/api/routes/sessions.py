"""Login and logout (token sessions)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from acme.api.deps import Ctx, CurrentUser, Db, bearer_token
from acme.api.schemas.users import LoginIn, SessionOut
from acme.api.services.auth import AuthService, IssuedSession

router = APIRouter(prefix="/sessions", tags=["sessions"])


def session_json(issued: IssuedSession) -> dict[str, object]:
    u = issued.user
    return {
        "token": issued.token,
        "expires_at": issued.expires_at,
        "user": {"id": u.id, "email": u.email, "name": u.name, "is_admin": u.is_admin,
                 "created_at": u.created_at},
    }


@router.post("", status_code=201, response_model=SessionOut)
def login(body: LoginIn, request: Request, ctx: Ctx, db: Db) -> dict[str, object]:
    issued = AuthService(ctx, db).login(body.email, body.password, request.headers.get("user-agent"))
    return session_json(issued)


@router.delete("/current", status_code=204)
def logout(request: Request, user: CurrentUser, ctx: Ctx, db: Db) -> Response:
    token = bearer_token(request)
    assert token is not None  # current_user already required it
    AuthService(ctx, db).logout(token)
    return Response(status_code=204)
