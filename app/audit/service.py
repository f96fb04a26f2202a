"""The audit log: every state change and every organizer setting is recorded here."""

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, func, select

from app.accounts.models import User
from app.audit.models import AuditEntry, AuditEntryPublic
from app.bounds import LONG_TEXT
from app.errors import N_, Invalid
from app.text import nfc


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Adds an audit row. The reason, wherever it comes from (a form, the API), is kept in
    NFC without control characters, and at most LONG_TEXT characters (422 beyond)."""
    reason = clean_reason(reason)
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None),
        changes=_jsonable(changes or {}),
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry


def clean_reason(reason: str | None) -> str | None:
    reason = (nfc(reason) or "").strip() or None
    if reason is not None and len(reason) > LONG_TEXT:
        raise Invalid(N_("The reason may have at most {n} characters."), field="reason",
                      n=LONG_TEXT)
    return reason


def diff(obj: Any, updates: dict[str, Any]) -> dict[str, Any]:
    """The fields that ``updates`` would really change, as ``{field: [old, new]}``."""
    return {
        name: [getattr(obj, name), value]
        for name, value in updates.items()
        if getattr(obj, name) != value
    }


def list_entries(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntryPublic], int]:
    """Newest first. ``action``: one action ("entry.reject") or a family ("entry");
    ``actor``: part of the actor's e-mail address."""
    query = select(AuditEntry, User.email).join(User, isouter=True)
    count = select(func.count()).select_from(AuditEntry).join(User, isouter=True)
    if action:
        which = (AuditEntry.action == action) if "." in action \
            else col(AuditEntry.action).startswith(action + ".", autoescape=True)
        query, count = query.where(which), count.where(which)
    if actor and actor.strip():
        who = func.lower(User.email).contains(actor.strip().lower(), autoescape=True)
        query, count = query.where(who), count.where(who)
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
        count = count.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
        count = count.where(AuditEntry.object_id == object_id)
    rows = session.exec(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
    ).all()
    total = session.exec(count).one()
    items = [
        AuditEntryPublic(**entry.model_dump(), actor_email=email) for entry, email in rows
    ]
    return items, total
