from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from sqlalchemy import Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from app import bounds
from app.accounts.rules import Role
from app.db import UTCDateTime, utcnow
from app.text import fold


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
    # When the account proved it receives mail at ``email``; None: not yet. Only a verified
    # address grants rights (submitting, being matched as a co-author).
    email_verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A new address asked for, waiting for its verification link to be opened.
    pending_email: str | None = Field(default=None, max_length=320)
    # The language of the mails the account receives ("vi" or "en").
    language: str = Field(default="vi", max_length=5, sa_column_kwargs={"server_default": "vi"})
    # The last successful sign-in (page or API token); None: never since it was recorded.
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Folded (no diacritics, lower-case) name, pen name and e-mail, for the organizer's
    # search; kept up to date on every flush (``_refresh_search`` below).
    search_text: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


def search_text_of(user: User) -> str:
    return fold(" ".join(v for v in (user.full_name, user.pen_name, user.email) if v))


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _refresh_search(_mapper, _connection, user: User) -> None:
    """Names and addresses change in several places (profile, address change, invitation,
    registration): the searchable text follows them all from this one place."""
    user.search_text = search_text_of(user)


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


class UserUpdate(UserProfile):
    """PATCH /me: only the fields given change (the profile page sends them all)."""

    full_name: str | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=bounds.SHORT_CODE)


class UserPublic(UserProfile):
    id: int
    email: str
    role: str
    is_active: bool
    created_at: datetime
    email_verified: bool
    pending_email: str | None
    language: str
    last_login_at: datetime | None = None


class AccountToken(SQLModel, table=True):
    """A secret link sent by mail: verify an address, reset a password, accept an
    invitation. The link holds a random secret; the row its HMAC under the server's key
    (``security.link_digest``), so neither a database copy nor a guess opens it. Single use:
    ``used_at`` is set by a conditional UPDATE, so two clicks cannot both use it."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    purpose: str = Field(max_length=20, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    # The account concerned; None for an invitation to an address with no account yet.
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True,
                                ondelete="CASCADE")
    # The address the link was sent to (the one it proves, for verification).
    email: str = Field(max_length=320, index=True)
    # Invitations: the invitee's name and the role they will have.
    full_name: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# A mailed link's secret as typed or pasted: bounded generously, so that a mangled one is
# answered "not valid" (400) rather than refused as a malformed field.
LinkTokenInput = Annotated[str, Field(max_length=bounds.URL)]


class LinkConfirm(bounds.NFCInput):
    token: LinkTokenInput


class EmailChange(bounds.NFCInput):
    email: str = Field(max_length=bounds.EMAIL)
    password: PasswordInput


class PasswordResetRequest(bounds.NFCInput):
    email: str = Field(max_length=bounds.EMAIL)


class PasswordResetConfirm(bounds.NFCInput):
    token: LinkTokenInput
    new_password: PasswordInput


class InvitationCreate(bounds.NFCInput):
    email: str = Field(max_length=bounds.EMAIL)
    full_name: str = Field(max_length=bounds.NAME)
    role: str = Field(max_length=bounds.SHORT_CODE)
    # An account with a verified address already holds it: give it the role directly.
    confirm_existing: bool = False


class InvitationAccept(bounds.NFCInput):
    token: LinkTokenInput
    password: PasswordInput


class InvitationPublic(BaseModel):
    """An invitation as the organizer sees it. ``status``: ``pending`` (the link works),
    ``accepted``, ``expired``, ``replaced`` (by a newer one), or ``granted`` (an account with a
    verified address was given the role directly: no link, so no ``id`` nor ``expires_at``)."""

    id: int | None
    email: str
    full_name: str
    role: str
    status: str
    created_at: datetime
    expires_at: datetime | None
    user_id: int | None


class Accepted(BaseModel):
    """A request taken on (202): what will happen, in the caller's language."""

    message: str


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
