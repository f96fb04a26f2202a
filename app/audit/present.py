"""The audit log in plain language: what each action and field is called, how each value
reads (local dates, Có/Không, labels instead of codes, lists as added and removed), and which
object a row is about, named by its code or title and linked.

Rows store machine values (``{field: [old, new]}`` for a change, ``{field: value}`` for a
creation); this module is the one place that turns them into sentences. The formatting is
pure (``describe_changes``); ``present`` reads the objects' names, one query per kind.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app import zones
from app.accounts.models import User
from app.accounts.rules import ROLE_LABELS
from app.audit.models import AuditEntryPublic
from app.awards.models import Award, Category
from app.awards.rules import KIND_LABELS
from app.awards.rules import STATUS_LABELS as AWARD_STATUS_LABELS
from app.entries.models import Entry
from app.entries.rules import STATUS_LABELS as ENTRY_STATUS_LABELS
from app.errors import N_
from app.i18n import current_language
from app.judging.models import Round
from app.judging.rules import AGGREGATION_LABELS, ROUND_STATUS_LABELS
from app.mail.models import MAIL_STATUS_LABELS
from app.results.rules import LEVEL_LABELS

ACTION_LABELS: dict[str, str] = {
    "award.create": N_("Created the award"),
    "award.update": N_("Changed the award's settings"),
    "award.status": N_("Moved the award to another stage"),
    "category.create": N_("Created a category"),
    "category.update": N_("Changed a category"),
    "entry.create": N_("Started an entry"),
    "entry.update": N_("Edited an entry"),
    "entry.delete": N_("Deleted a draft entry"),
    "entry.file_add": N_("Added a file to an entry"),
    "entry.file_delete": N_("Removed a file from an entry"),
    "entry.submit": N_("Submitted an entry"),
    "entry.withdraw": N_("Withdrew an entry"),
    "entry.accept": N_("Accepted an entry"),
    "entry.return": N_("Returned an entry for changes"),
    "entry.reject": N_("Rejected an entry"),
    "round.create": N_("Created a judging round"),
    "round.update": N_("Changed a judging round"),
    "round.start": N_("Started scoring in a round"),
    "round.close": N_("Closed a round's scoring"),
    "round.panel": N_("Set a judge's categories in a round"),
    "round.panel_remove": N_("Removed a judge from a round"),
    "round.assign": N_("Assigned entries to judges"),
    "round.conflict": N_("A judge declared a conflict of interest"),
    "round.remind": N_("Reminded judges to score"),
    "round.shortlist": N_("Shortlisted entries"),
    "score.save": N_("Saved a score"),
    "prizes.allocate": N_("Proposed the prizes"),
    "prize.set": N_("Set an entry's prize"),
    "mail.resend": N_("Sent a failed e-mail again"),
    "user.register": N_("Registered an account"),
    "user.create": N_("Created an account"),
    "user.invite": N_("Invited someone"),
    "user.invitation_accepted": N_("Accepted an invitation"),
    "user.role": N_("Changed an account's role"),
    "user.profile": N_("Changed a profile"),
    "user.email": N_("Changed an e-mail address"),
    "user.email_change_requested": N_("Asked to change an e-mail address"),
    "user.verify_email": N_("Confirmed an e-mail address"),
    "user.password": N_("Changed a password"),
    "user.password_reset": N_("Reset a password"),
    "user.password_reset_sent": N_("Sent a password-reset link"),
    "user.deactivate": N_("Deactivated an account"),
    "user.reactivate": N_("Reactivated an account"),
}

# The log's action filter: a family of actions, then its actions one by one.
FAMILY_LABELS: dict[str, str] = {
    "award": N_("Awards"), "category": N_("Categories"), "entry": N_("Entries"),
    "round": N_("Judging rounds"), "score": N_("Scores"), "prize": N_("Prizes"),
    "prizes": N_("Prize proposals"), "mail": N_("E-mails"), "user": N_("Accounts"),
}
ACTION_FILTERS: dict[str, list[str]] = {
    family: [a for a in ACTION_LABELS if a.split(".")[0] == family] for family in FAMILY_LABELS
}
ACTION_FILTERS = {**ACTION_FILTERS, **{a: [] for a in ACTION_LABELS}}

OBJECT_LABELS: dict[str, str] = {
    "award": N_("Award"), "category": N_("Category"), "entry": N_("Entry"),
    "round": N_("Round"), "user": N_("Account"), "mail": N_("E-mail"),
    "invitation": N_("Invitation"),
}

FIELD_LABELS: dict[str, str] = {
    "status": N_("Status"), "title": N_("Title"), "year": N_("Year"), "slug": N_("Web address"),
    "rules": N_("Rules"), "timezone": N_("Time zone"),
    "submission_opens_at": N_("Submissions open"),
    "submission_closes_at": N_("Submissions close"),
    "published_from": N_("Works published from"), "published_to": N_("Works published until"),
    "max_entries_per_author": N_("Entries per author"),
    "max_authors_per_entry": N_("Authors per entry"),
    "max_series_parts": N_("Parts of a series"),
    "special_prize_quota": N_("Special prizes"),
    "code": N_("Code"), "name": N_("Name"), "description": N_("Description"),
    "accepted_kinds": N_("Accepted kinds of file"), "max_file_mb": N_("Largest file (MB)"),
    "position": N_("Order"), "summary": N_("Summary"), "outlet": N_("Press outlet"),
    "published_on": N_("Published or broadcast on"), "url": N_("Link"),
    "series_parts": N_("Parts"), "category_id": N_("Category"), "authors": N_("Authors"),
    "file": N_("File"), "size": N_("Size"), "sha256": "SHA-256",
    "blind": N_("Blind judging"), "judges_per_entry": N_("Judges per entry"),
    "aggregation": N_("How scores are combined"), "criteria": N_("Criteria"),
    "judge_id": N_("Judge"), "judge": N_("Judge"), "categories": N_("Categories"),
    "assignments_dropped": N_("Assignments dropped"), "assignments": N_("Assignments"),
    "added": N_("Added"), "removed": N_("Removed"), "entry_id": N_("Entry"),
    "total": N_("Total"), "final": N_("Final"), "replaced_by": N_("Replaced by"),
    "judges": N_("Judges"), "top_n": N_("Top entries per category"),
    "min_score": N_("Lowest score"), "shortlisted": N_("Shortlisted"), "round_id": N_("Round"),
    "levels": N_("Prizes"), "level": N_("Prize"), "proposed": N_("Proposed prize"),
    "role": N_("Role"), "email": N_("E-mail"), "pending_email": N_("New e-mail waiting"),
    "email_verified": N_("E-mail confirmed"), "full_name": N_("Full name"),
    "pen_name": N_("Pen name"), "phone": N_("Phone"), "organization": N_("Organization"),
    "press_card_number": N_("Press card number"), "language": N_("Language"),
    "invitation": N_("Invitation"),
    "is_active": N_("Account active"), "url_required": N_("Link required"),
    "prize_quota": N_("Prize quotas"), "forced": N_("Closed before every score was in"),
    "missing_scores": N_("Scores missing"),
}

# Actions whose changes are the values set (a creation, a record of an event), not pairs of
# (before, after) — except their "status", which is always a pair.
VALUE_ACTIONS = frozenset({
    "award.create", "category.create", "round.create", "user.create", "user.invite",
    "user.register", "entry.file_add", "entry.file_delete", "round.panel_remove",
    "round.assign", "round.remind", "round.shortlist", "prizes.allocate", "round.conflict",
    "user.verify_email", "user.password_reset",
})
# Fields holding a list: a change is a pair of lists; a plain list is a value (older rows of
# "entry.update" stored the authors after the change only).
LIST_FIELDS = frozenset({"accepted_kinds", "authors", "criteria", "categories", "judges"})
DATETIME_FIELDS = frozenset({"submission_opens_at", "submission_closes_at", "published_at",
                             "at"})
DATE_FIELDS = frozenset({"published_on", "published_from", "published_to"})
STATUS_BY_OBJECT = {"award": AWARD_STATUS_LABELS, "entry": ENTRY_STATUS_LABELS,
                    "round": ROUND_STATUS_LABELS, "mail": MAIL_STATUS_LABELS}
LABELLED_FIELDS: dict[str, dict] = {
    "accepted_kinds": KIND_LABELS, "role": ROLE_LABELS, "aggregation": AGGREGATION_LABELS,
    "level": LEVEL_LABELS, "proposed": LEVEL_LABELS,
}
# Fields naming another object: shown by its name (see ``Names``).
REFERENCES = {"entry_id": "entry", "judge_id": "user", "replaced_by": "user",
              "category_id": "category", "round_id": "round"}


@dataclass
class Names:
    """Display names and links of the objects a page of the log mentions."""

    names: dict[tuple[str, int], str] = field(default_factory=dict)
    links: dict[tuple[str, int], str] = field(default_factory=dict)
    # When each named object was created: a row older than that is about an earlier object
    # that had the same id (SQLite may give a deleted draft's id to the next entry).
    born: dict[tuple[str, int], datetime] = field(default_factory=dict)

    def same_object(self, kind: str, object_id: int | None, at: datetime) -> bool:
        created = self.born.get((kind, object_id))
        return created is None or at >= created

    def name(self, kind: str, object_id: int | None) -> str | None:
        return self.names.get((kind, object_id)) if object_id is not None else None


@dataclass(frozen=True)
class Change:
    field: str  # the field's label, translated
    text: str   # what happened to it, in words


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: datetime
    actor: str | None
    actor_id: int | None
    action: str         # the action's label, translated
    action_code: str
    object_kind: str    # "Entry", translated
    object_name: str    # "C1-003 · Làng chài", an award's title …
    object_url: str | None
    changes: list[Change]
    reason: str | None


Translate = Callable[[str], str]


def _is_pair(action: str, name: str, value: Any) -> bool:
    if not isinstance(value, list) or len(value) != 2:
        return False
    if name == "status":
        return True
    if action in VALUE_ACTIONS:
        return False
    if name in LIST_FIELDS:
        return all(v is None or isinstance(v, list) for v in value)
    return True


def format_value(name: str, value: Any, *, gettext: Translate, object_type: str = "",
                 tz: str = zones.VIETNAM, names: Names | None = None) -> str:
    """One stored value as people read it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext(N_("Yes") if value else N_("No"))
    if isinstance(value, list):
        return "; ".join(format_value(name, v, gettext=gettext, object_type=object_type,
                                      tz=tz, names=names) for v in value) \
            if name != "criteria" or not _is_criterion(value) else _criterion(value, gettext)
    if isinstance(value, dict):
        return ", ".join(f"{format_value('level', k, gettext=gettext)}: {v}"
                         for k, v in value.items()) if name == "levels" else \
            ", ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, float):
        text = f"{value:g}"
        return text.replace(".", ",") if current_language.get() == "vi" else text
    if name == "status":
        labels = STATUS_BY_OBJECT.get(object_type, {})
        return gettext(labels[value]) if value in labels else str(value)
    if name in LABELLED_FIELDS and value in LABELLED_FIELDS[name]:
        return gettext(LABELLED_FIELDS[name][value])
    if name == "timezone" and isinstance(value, str):
        return zones.label(value)
    if name in DATETIME_FIELDS and isinstance(value, str):
        return local_time(value, tz)
    if name in DATE_FIELDS and isinstance(value, str):
        try:
            return date.fromisoformat(value[:10]).strftime("%d/%m/%Y")
        except ValueError:
            return value
    if name == "sha256" and isinstance(value, str):
        return value[:12] + "…"
    if name == "size" and isinstance(value, int):
        from app.web import _filesize
        return _filesize(value)
    if name in REFERENCES and isinstance(value, int) and names is not None:
        return names.name(REFERENCES[name], value) or f"#{value}"
    return str(value)


def _is_criterion(value: list) -> bool:
    return len(value) == 2 and isinstance(value[0], str) and isinstance(value[1], int | float)


def _criterion(value: list, gettext: Translate) -> str:
    return gettext(N_("{name} ({points} points)")).format(name=value[0], points=value[1])


def local_time(value: str | datetime, tz: str) -> str:
    """"30/11/2026 17:00 giờ Việt Nam (GMT+7)"."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return f"{moment.astimezone(ZoneInfo(tz)).strftime('%d/%m/%Y %H:%M')} " \
           f"{zones.label(tz, moment)}"


def _items(value: list | None) -> list:
    return [tuple(v) if isinstance(v, list) else v for v in (value or [])]


def describe_change(action: str, name: str, value: Any, *, gettext: Translate,
                    object_type: str = "", tz: str = zones.VIETNAM,
                    names: Names | None = None) -> str | None:
    """What happened to one field, in words; None when nothing changed."""
    def fmt(v):
        return format_value(name, v, gettext=gettext, object_type=object_type, tz=tz,
                            names=names)

    if not _is_pair(action, name, value):
        return None if value is None or value in ("", [], {}) else fmt(value)
    old, new = value
    if old == new:
        return None
    if name in LIST_FIELDS or isinstance(old, list) or isinstance(new, list):
        before, after = _items(old), _items(new)
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        parts = []
        if added:
            parts.append(gettext(N_("added: {items}")).format(
                items="; ".join(fmt(list(v) if isinstance(v, tuple) else v) for v in added)))
        if removed:
            parts.append(gettext(N_("removed: {items}")).format(
                items="; ".join(fmt(list(v) if isinstance(v, tuple) else v)
                                for v in removed)))
        if not parts:
            parts.append(gettext(N_("new order: {items}")).format(items=fmt(new)))
        return " · ".join(parts)
    return f"{fmt(old)} → {fmt(new)}"


def describe_changes(action: str, changes: dict[str, Any], *, gettext: Translate,
                     object_type: str = "", tz: str = zones.VIETNAM,
                     names: Names | None = None) -> list[Change]:
    """Every field that really changed, labelled and in words (unchanged fields omitted)."""
    out = []
    for name, value in changes.items():
        text = describe_change(action, name, value, gettext=gettext, object_type=object_type,
                               tz=tz, names=names)
        if text is not None:
            out.append(Change(field=gettext(FIELD_LABELS[name]) if name in FIELD_LABELS
                              else name, text=text))
    return out


def action_label(action: str, gettext: Translate) -> str:
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def _wanted(items: Iterable[AuditEntryPublic]) -> dict[str, set[int]]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for item in items:
        if item.object_id is not None:
            wanted[item.object_type].add(item.object_id)
        for name, kind in REFERENCES.items():
            value = item.changes.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                wanted[kind].add(value)
    return wanted


def load_names(session: Session, items: list[AuditEntryPublic]) -> Names:
    """Names and links of the objects the rows mention: one query per kind of object."""
    wanted = _wanted(items)
    names = Names()

    def put(kind, object_id, name, link):
        names.names[(kind, object_id)] = name
        if link:
            names.links[(kind, object_id)] = link

    if wanted.get("entry"):
        for e_id, code, title, created in session.exec(
                select(Entry.id, Entry.code, Entry.title, Entry.created_at).where(
                    col(Entry.id).in_(wanted["entry"]))):
            put("entry", e_id, f"{code} · {title}" if code else title, f"/admin/entries/{e_id}")
            names.born[("entry", e_id)] = created
    if wanted.get("award"):
        for a_id, title in session.exec(select(Award.id, Award.title).where(
                col(Award.id).in_(wanted["award"]))):
            put("award", a_id, title, f"/admin/awards/{a_id}")
    if wanted.get("category"):
        for c_id, code, name in session.exec(select(Category.id, Category.code, Category.name)
                                             .where(col(Category.id).in_(wanted["category"]))):
            put("category", c_id, f"{code} — {name}", f"/admin/categories/{c_id}")
    if wanted.get("round"):
        for r_id, name in session.exec(select(Round.id, Round.name).where(
                col(Round.id).in_(wanted["round"]))):
            put("round", r_id, name, f"/admin/rounds/{r_id}")
    if wanted.get("user"):
        for u_id, full_name, email in session.exec(select(User.id, User.full_name, User.email)
                                                   .where(col(User.id).in_(wanted["user"]))):
            put("user", u_id, f"{full_name} ({email})", f"/admin/users/{u_id}")
    for m_id in wanted.get("mail", ()):
        put("mail", m_id, f"#{m_id}", f"/admin/outbox/{m_id}")
    return names


def present(session: Session, items: list[AuditEntryPublic], *, gettext: Translate,
            tz: str = zones.VIETNAM) -> list[AuditLine]:
    """The rows of a page of the log, ready to show (a fixed number of queries)."""
    names = load_names(session, items)
    lines = []
    for item in items:
        kind_label = gettext(OBJECT_LABELS.get(item.object_type, item.object_type))
        same = names.same_object(item.object_type, item.object_id, item.at)
        name = names.name(item.object_type, item.object_id) if same else None
        if name is None and item.object_type == "entry":
            name = item.changes.get("title") if isinstance(item.changes.get("title"),
                                                           str) else None
        if name is None and item.object_type == "invitation":
            name = item.changes.get("email")
        if name is None and item.object_id is not None:
            name = f"#{item.object_id}"
        lines.append(AuditLine(
            id=item.id, at=item.at, actor=item.actor_email, actor_id=item.actor_id,
            action=action_label(item.action, gettext), action_code=item.action,
            object_kind=kind_label, object_name=name or "",
            object_url=names.links.get((item.object_type, item.object_id)) if same else None,
            changes=describe_changes(item.action, item.changes, gettext=gettext,
                                     object_type=item.object_type, tz=tz, names=names),
            reason=item.reason))
    return lines
