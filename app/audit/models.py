from datetime import datetime
from typing import Any

from sqlmodel import JSON, Column, Field, SQLModel

from app.db import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    """Who did what to which object, when, and why. Rows are only ever added."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    action: str = Field(max_length=60, index=True)
    object_type: str = Field(max_length=40)
    object_id: int | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str | None = None


class AuditEntryPublic(SQLModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_email: str | None = None
    action: str
    object_type: str
    object_id: int | None
    changes: dict[str, Any]
    reason: str | None
