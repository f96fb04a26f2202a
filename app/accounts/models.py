from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app import bounds
from app.accounts.rules import Role
from app.db import UTCDateTime, utcnow


class UserProfile(bounds.NFCInput):
    full_name: str = Field(max_length=200)
    pen_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    organization: str | None = Field(default=None, max_length=300)
    press_card_number: str | None = Field(default=None, max_length=60)


class User(UserProfile, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    password_hash: str = Field(max_length=300)
    role: str = Field(default=Role.journalist, max_length=20, index=True)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# A password input is bounded generously: the password rule (app.accounts.rules) gives the
# real limit with its own message; this only caps what is read and hashed.
PasswordInput = Annotated[str, Field(max_length=16 * bounds.PASSWORD)]


class UserRegister(UserProfile):
    email: str = Field(max_length=bounds.EMAIL)
    password: PasswordInput


class UserCreate(bounds.NFCInput):
    email: str = Field(max_length=bounds.EMAIL)
    password: PasswordInput
    full_name: str = Field(max_length=bounds.NAME)
    role: str = Field(default=Role.journalist, max_length=bounds.SHORT_CODE)
    pen_name: str | None = Field(default=None, max_length=bounds.NAME)
    phone: str | None = Field(default=None, max_length=bounds.PHONE)
    organization: str | None = Field(default=None, max_length=bounds.ORGANIZATION)
    press_card_number: str | None = Field(default=None, max_length=bounds.PRESS_CARD)


class UserPublic(UserProfile):
    id: int
    email: str
    role: str
    is_active: bool
    created_at: datetime


class PasswordChange(bounds.NFCInput):
    current_password: PasswordInput
    new_password: PasswordInput


class WebSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a secret; the row holds its SHA-256."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    csrf_secret: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    user_agent: str | None = Field(default=None, max_length=300)
    ip: str | None = Field(default=None, max_length=64)


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins counted on one key (an account, an address, or the pair), shared by
    every app process. One row per key, locked while an attempt is checked and counted."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)
    key: str = Field(max_length=400)
    failures: int = 0
    first_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class KnownAddress(SQLModel, table=True):
    """An address the account has signed in from: failures elsewhere do not slow it down."""

    __tablename__ = "known_address"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    address: str = Field(max_length=64)
    last_login_at: datetime = Field(sa_type=UTCDateTime)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
