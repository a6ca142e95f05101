"""Registration, login/logout and bearer-token authentication."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession

from acme.api.repositories.users import SessionRepository, UserRepository
from acme.api.schemas.users import RegisterIn, UserUpdateIn
from acme.api.services.context import ApiContext
from acme.common.errors import ApiError, Conflict, Unauthorized
from acme.common.security import hash_password, new_token, token_digest
from acme.models import User, utcnow


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown so response time does not reveal which emails
    exist. Computed on first use, not at import: scrypt is deliberately slow."""
    return hash_password("not-a-real-password", salt=b"acme-dummy-salt!")


@dataclass(frozen=True)
class IssuedSession:
    token: str
    expires_at: dt.datetime
    user: User


class AuthService:
    def __init__(self, ctx: ApiContext, db: DbSession) -> None:
        self.ctx = ctx
        self.db = db
        self.users = UserRepository(db)
        self.sessions = SessionRepository(db)

    def _hash(self, password: str) -> str:
        return self.ctx.hasher.hash(password)

    def _issue(self, user: User, user_agent: str | None) -> IssuedSession:
        token = new_token()
        expires = utcnow() + dt.timedelta(seconds=self.ctx.settings.session_ttl_seconds)
        self.sessions.add(user.id, token_digest(token), expires, user_agent)
        return IssuedSession(token, expires, user)

    def register(self, data: RegisterIn, user_agent: str | None) -> IssuedSession:
        password_hash = self._hash(data.password)  # CPU-heavy: do it before taking DB locks
        if self.users.by_email(data.email) is not None:
            raise Conflict("an account with this email already exists", code="email_taken")
        try:
            user = self.users.add(data.email, data.name, password_hash)
        except IntegrityError as exc:  # lost a race with a concurrent registration
            self.db.rollback()
            raise Conflict("an account with this email already exists", code="email_taken") from exc
        issued = self._issue(user, user_agent)
        self.db.commit()
        return issued

    def login(self, email: str, password: str, user_agent: str | None) -> IssuedSession:
        found = self.users.by_email(email)
        user_id, stored_hash = (found.id, found.password_hash) if found else (None, _dummy_hash())
        # End the transaction before the ~50 ms hash check so no lock is held meanwhile
        # (rollback expires ``found``, hence the copies above).
        self.db.rollback()
        if not self.ctx.hasher.verify(password, stored_hash) or user_id is None:
            raise Unauthorized("invalid email or password", code="invalid_credentials")
        user = self.users.get(user_id)
        if user is None:  # deleted in the meantime
            raise Unauthorized("invalid email or password", code="invalid_credentials")
        user.last_login_at = utcnow()
        issued = self._issue(user, user_agent)
        self.db.commit()
        return issued

    def authenticate(self, token: str) -> User | None:
        found = self.sessions.active_user(token_digest(token), utcnow())
        return found[1] if found else None

    def logout(self, token: str) -> None:
        self.sessions.delete(token_digest(token))
        self.db.commit()

    def update_profile(self, user: User, data: UserUpdateIn, token: str) -> User:
        if data.password is not None:
            if not data.current_password or not self.ctx.hasher.verify(data.current_password,
                                                                       user.password_hash):
                raise ApiError("current password is incorrect", code="invalid_current_password",
                               status_code=400)
            user.password_hash = self._hash(data.password)
            # A password change signs out every other device.
            self.sessions.delete_for_user(user.id, except_hash=token_digest(token))
        if data.name is not None:
            user.name = data.name.strip()
        self.db.commit()
        return user
