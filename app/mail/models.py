from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlmodel import Field, SQLModel, Text

from app.db import UTCDateTime, utcnow
from app.errors import N_


class MailStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"


MAIL_STATUS_LABELS = {
    MailStatus.queued: N_("Queued"),
    MailStatus.sent: N_("Sent"),
    MailStatus.failed: N_("Failed"),
}


class Mail(SQLModel, table=True):
    """One message in the outbox, written in the transaction of the change that causes it:
    a rolled-back request leaves none, a committed one is never lost. A sender claims it
    (``claimed_by`` until ``claimed_until``), delivers it, and records every attempt."""

    id: int | None = Field(default=None, primary_key=True)
    to: str = Field(max_length=320, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True,
                                ondelete="SET NULL")
    award_id: int | None = Field(default=None, foreign_key="award.id", index=True,
                                 ondelete="SET NULL")
    # The template it was written from ("verify_email", "entry_receipt", ...).
    template: str = Field(max_length=40, index=True)
    language: str = Field(max_length=5)
    subject: str = Field(max_length=300)
    text: str = Field(sa_type=Text)
    html: str = Field(sa_type=Text)
    # Holds a secret link (verification, reset, invitation): masked outside development.
    secret: bool = False
    status: str = Field(default=MailStatus.queued, max_length=10, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Not tried again before this time (exponential backoff after a failure).
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    # Marked failed when still not delivered at this time.
    give_up_at: datetime = Field(sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MailAttempt(SQLModel, table=True):
    """One delivery attempt: when, by which sender, and the server's answer if it failed."""

    __tablename__ = "mail_attempt"

    id: int | None = Field(default=None, primary_key=True)
    mail_id: int = Field(foreign_key="mail.id", index=True, ondelete="CASCADE")
    at: datetime = Field(sa_type=UTCDateTime)
    worker: str = Field(max_length=80)
    ok: bool
    error: str | None = Field(default=None, sa_type=Text)


class MailPublic(BaseModel):
    id: int
    to: str
    subject: str
    template: str
    language: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class MailAttemptPublic(BaseModel):
    at: datetime
    worker: str
    ok: bool
    error: str | None


class MailDetail(MailPublic):
    text: str
    html: str
    attempts_log: list[MailAttemptPublic] = []
