"""Users and login sessions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session as DbSession

from acme.models import Session, User, utcnow


class UserRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def get(self, user_id: int) -> User | None:
        return self.db.get(User, user_id)

    def by_email(self, email: str) -> User | None:
        return self.db.scalar(select(User).where(User.email == email.strip().lower()))

    def add(self, email: str, name: str, password_hash: str, *, is_admin: bool = False) -> User:
        user = User(
            email=email.strip().lower(), name=name, password_hash=password_hash,
            is_admin=is_admin, created_at=utcnow(),
        )
        self.db.add(user)
        self.db.flush()
        return user

    def page(self, *, query: str | None, offset: int, limit: int) -> tuple[list[User], int]:
        stmt = select(User)
        if query:
            like = f"%{query.lower()}%"
            stmt = stmt.where(or_(func.lower(User.email).like(like), func.lower(User.name).like(like)))
        total = self.db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = self.db.scalars(stmt.order_by(User.id).offset(offset).limit(limit))
        return list(rows), int(total)

    def count(self) -> int:
        return int(self.db.scalar(select(func.count()).select_from(User)) or 0)


class SessionRepository:
    def __init__(self, db: DbSession) -> None:
        self.db = db

    def add(self, user_id: int, token_hash: str, expires_at: dt.datetime, user_agent: str | None) -> Session:
        row = Session(
            user_id=user_id, token_hash=token_hash, created_at=utcnow(), expires_at=expires_at,
            user_agent=(user_agent or "")[:255] or None,
        )
        self.db.add(row)
        self.db.flush()
        return row

    def active_user(self, token_hash: str, now: dt.datetime) -> tuple[Session, User] | None:
        row = self.db.execute(
            select(Session, User)
            .join(User, User.id == Session.user_id)
            .where(Session.token_hash == token_hash, Session.expires_at > now)
        ).first()
        return (row[0], row[1]) if row else None

    def delete(self, token_hash: str) -> int:
        result = self.db.execute(delete(Session).where(Session.token_hash == token_hash))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def delete_for_user(self, user_id: int, *, except_hash: str | None = None) -> int:
        stmt = delete(Session).where(Session.user_id == user_id)
        if except_hash:
            stmt = stmt.where(Session.token_hash != except_hash)
        return int(self.db.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
