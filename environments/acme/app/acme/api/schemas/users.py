"""Users and sessions."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, field_validator

from acme.api.schemas.common import ApiModel


class UserOut(ApiModel):
    id: int
    email: str
    name: str
    is_admin: bool
    created_at: dt.datetime


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$"


class RegisterIn(ApiModel):
    email: str = Field(max_length=255, pattern=EMAIL_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(min_length=8, max_length=128)

    @field_validator("name")
    @classmethod
    def _strip_name(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("name must not be blank")
        return v

    @field_validator("email")
    @classmethod
    def _lower_email(cls, v: str) -> str:
        return v.strip().lower()


class UserUpdateIn(ApiModel):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    password: str | None = Field(default=None, min_length=8, max_length=128)
    current_password: str | None = Field(default=None, max_length=128)


class LoginIn(ApiModel):
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=128)


class SessionOut(ApiModel):
    token: str
    expires_at: dt.datetime
    user: UserOut
