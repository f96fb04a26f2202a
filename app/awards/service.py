"""Awards and categories: the organizer's set-up, the public's view."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import nh3
from markdown_it import MarkdownIt
from sqlmodel import Session, func, select

from app.accounts.models import User
from app.accounts.rules import Role
from app.audit import service as audit
from app.awards import rules
from app.awards.models import (
    Award,
    AwardCreate,
    AwardUpdate,
    Category,
    CategoryCreate,
    CategoryUpdate,
)
from app.awards.rules import AwardStatus
from app.db import flush_unique, utcnow
from app.errors import N_, Conflict, Invalid, NotFound
from app.text import clean_line, nfc

# Award fields that a PATCH may set to null ("not announced yet"); others ignore a null.
CLEARABLE_FIELDS = frozenset(
    {"submission_opens_at", "submission_closes_at", "published_from", "published_to"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def render_rules(text: str) -> str:
    """The rules (thể lệ) as safe HTML: Markdown without raw HTML, then sanitised."""
    return nh3.clean(_markdown.render(text or ""), link_rel="noopener noreferrer nofollow")


def _aware(value: datetime | None, timezone: str) -> datetime | None:
    """A time without an offset is read in the award's own time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(timezone))


def _limits(award: Award) -> dict[str, int]:
    return {name: getattr(award, name) for name in rules.LIMITS}


def _check(award: Award) -> None:
    rules.check_timezone(award.timezone)
    rules.check_award_fields(
        title=award.title,
        year=award.year,
        opens=award.submission_opens_at,
        closes=award.submission_closes_at,
        published_from=award.published_from,
        published_to=award.published_to,
        limits=_limits(award),
    )


def _slug_taken() -> Conflict:
    return Conflict(N_("Another award already uses this address."), field="slug")


def _unique_slug(session: Session, slug: str, *, award_id: int | None) -> None:
    with session.no_autoflush:
        other = session.exec(select(Award.id).where(Award.slug == slug)).first()
    if other is not None and other != award_id:
        raise _slug_taken()


def _clean_award_values(values: dict, timezone: str) -> dict:
    if "title" in values:
        values["title"] = clean_line(values["title"])
    if "rules" in values:
        values["rules"] = nfc(values["rules"] or "")
    if "slug" in values and values["slug"] is not None:
        values["slug"] = rules.check_slug(values["slug"].strip().lower())
    for name in ("submission_opens_at", "submission_closes_at"):
        if name in values:
            values[name] = _aware(values[name], timezone)
    return values


def create_award(session: Session, data: AwardCreate, *, actor: User) -> Award:
    timezone = rules.check_timezone(data.timezone)
    values = _clean_award_values(data.model_dump(), timezone)
    slug = values.pop("slug") or rules.award_slug(values["title"], values["year"])
    rules.check_slug(slug)
    award = Award(slug=slug, **values)
    _check(award)
    _unique_slug(session, slug, award_id=None)
    session.add(award)
    flush_unique(session, _slug_taken())
    audit.record(session, actor=actor, action="award.create", obj=award, changes=values)
    return award


def update_award(
    session: Session, award: Award, data: AwardUpdate, *, actor: User, now: datetime | None = None
) -> Award:
    """Change settings and/or move the award along its state machine, all or nothing."""
    lock_award(session, award)
    previous_closes = award.submission_closes_at
    values = data.model_dump(exclude_unset=True)
    target = values.pop("status", None)
    reason = clean_line(values.pop("reason", None))
    timezone = rules.check_timezone(values.get("timezone") or award.timezone)
    values = {k: v for k, v in _clean_award_values(values, timezone).items()
              if v is not None or k in CLEARABLE_FIELDS}
    changes = audit.diff(award, values)
    if changes:
        rules.check_published_changes(award.status, set(changes))
        if "slug" in changes:
            _unique_slug(session, values["slug"], award_id=award.id)
        for name, value in values.items():
            setattr(award, name, value)
        _check(award)
        award.updated_at = now or utcnow()
        audit.record(session, actor=actor, action="award.update", obj=award, changes=changes,
                     reason=reason)
    if target is not None and target != award.status:
        _move(session, award, target, actor=actor, reason=reason, now=now,
              previous_closes=previous_closes)
    session.add(award)
    flush_unique(session, _slug_taken())
    return award


def lock_award(session: Session, award: Award) -> Award:
    """Reloads the award under its row lock (PostgreSQL; SQLite's write lock is already
    held): changes of one award wait for each other, and entries' submissions and
    withdrawals, which read it under a shared lock, wait for a status change to commit."""
    session.refresh(award, with_for_update={"key_share": True})  # FOR NO KEY UPDATE
    return award


def change_status(
    session: Session,
    award: Award,
    target: str,
    *,
    actor: User,
    reason: str | None = None,
    now: datetime | None = None,
    expected: str | None = None,
    closes_at: datetime | None = None,
) -> Award:
    """Moves the award along its state machine (one transition path: lock, check, set,
    stamp, audit).

    ``expected``: the status the organizer saw when asking for the move (a confirmation
    page, a second tab); if the award has moved since, nothing happens and Conflict says
    where it is now. ``closes_at``: the new closing time when reopening submissions."""
    lock_award(session, award)
    if expected is not None and award.status != expected:
        raise Conflict(
            N_("This award is now “{status}”: it changed after you opened this page (another "
               "tab or another organizer). Nothing more was done; check the page and try "
               "again if needed."), status=[rules.STATUS_LABELS[AwardStatus(award.status)]])
    previous_closes = award.submission_closes_at
    if closes_at is not None and rules.is_reopening(award.status, target):
        award.submission_closes_at = _aware(closes_at, award.timezone)
        _check(award)
    elif closes_at is not None and target in rules.AWARD_TRANSITIONS[AwardStatus(award.status)]:
        raise Invalid(N_("A new closing time is set here only when reopening submissions."),
                      field="submission_closes_at")
    return _move(session, award, target, actor=actor, reason=reason, now=now,
                 previous_closes=previous_closes)


def _move(session: Session, award: Award, target: str, *, actor: User, reason: str | None,
          now: datetime | None, previous_closes: datetime | None = None) -> Award:
    """The status change itself, for an award already locked by the caller. Reopening
    (closed → open) needs a closing time ahead and records the old and new deadline."""
    now = now or utcnow()
    count = session.exec(
        select(func.count()).select_from(Category).where(Category.award_id == award.id)
    ).one()
    new_status = rules.check_award_transition(
        award.status, target, category_count=count,
        window_set=award.submission_opens_at is not None
        and award.submission_closes_at is not None)
    changes: dict = {"status": [award.status, new_status]}
    if rules.is_reopening(award.status, new_status):
        rules.check_reopen(award.submission_closes_at, now)
        changes["submission_closes_at"] = [
            value.astimezone(UTC) if value else None
            for value in (previous_closes, award.submission_closes_at)]
    publishing = new_status == AwardStatus.published
    if publishing:
        # The results package decides when results may go out and what follows; imported
        # here because it builds on awards (an award change never needs it otherwise).
        from app.results import service as results
        results.check_publishable(session, award)
    award.status = new_status
    award.updated_at = now
    session.add(award)
    session.flush()
    audit.record(session, actor=actor, action="award.status", obj=award, changes=changes,
                 reason=reason)
    if publishing:
        results.after_publish(session, award, now=award.updated_at)
    return award


def _can_see_drafts(viewer: User | None) -> bool:
    return viewer is not None and viewer.role == Role.organizer


def get_award(session: Session, award_id: int, *, viewer: User | None) -> Award:
    award = session.get(Award, award_id)
    if award is None or (award.status == AwardStatus.draft and not _can_see_drafts(viewer)):
        raise NotFound(N_("No such award."))
    return award


def get_award_by_slug(session: Session, slug: str, *, viewer: User | None) -> Award:
    award = session.exec(select(Award).where(Award.slug == slug)).first()
    if award is None or (award.status == AwardStatus.draft and not _can_see_drafts(viewer)):
        raise NotFound(N_("No such award."))
    return award


def list_awards(
    session: Session, *, viewer: User | None, limit: int = 50, offset: int = 0
) -> tuple[list[Award], int]:
    query = select(Award)
    count = select(func.count()).select_from(Award)
    if not _can_see_drafts(viewer):
        query = query.where(Award.status != AwardStatus.draft)
        count = count.where(Award.status != AwardStatus.draft)
    awards = session.exec(
        query.order_by(Award.year.desc(), Award.id.desc()).offset(offset).limit(limit)
    ).all()
    return list(awards), session.exec(count).one()


def list_categories(session: Session, award: Award) -> list[Category]:
    return list(
        session.exec(
            select(Category)
            .where(Category.award_id == award.id)
            .order_by(Category.position, Category.id)
        ).all()
    )


def get_category(session: Session, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound(N_("No such category."))
    return category


def _clean_category_values(values: dict) -> dict:
    if "code" in values and values["code"] is not None:
        values["code"] = values["code"].strip().upper()
    if "name" in values:
        values["name"] = clean_line(values["name"])
    if "description" in values:
        values["description"] = nfc(values["description"] or "")
    if "accepted_kinds" in values and values["accepted_kinds"] is not None:
        values["accepted_kinds"] = sorted(set(values["accepted_kinds"]))
    if "prize_quota" in values and values["prize_quota"] is not None:
        values["prize_quota"] = {k: int(v) for k, v in values["prize_quota"].items()}
    return values


def _check_category(session: Session, category: Category) -> None:
    """Checks a category's values; runs with autoflush off so that a pending change is
    judged here, never written (and refused by the database) by the check's own query."""
    rules.check_category_fields(
        code=category.code,
        name=category.name,
        kinds=category.accepted_kinds,
        max_file_mb=category.max_file_mb,
        quota=category.prize_quota,
    )
    with session.no_autoflush:
        clash = session.exec(
            select(Category.id).where(
                Category.award_id == category.award_id, Category.code == category.code
            )
        ).first()
    if clash is not None and clash != category.id:
        raise _code_taken()


def _code_taken() -> Conflict:
    return Conflict(N_("Another category of this award already uses this code."), field="code")


def _require_editable_categories(award: Award) -> None:
    if not rules.category_editable(award.status):
        raise Conflict(N_("Categories cannot be changed once submissions have closed."))


def add_category(session: Session, award: Award, data: CategoryCreate, *, actor: User) -> Category:
    lock_award(session, award)  # serialised with status changes; positions do not collide
    _require_editable_categories(award)
    values = _clean_category_values(data.model_dump())
    position = session.exec(
        select(func.count()).select_from(Category).where(Category.award_id == award.id)
    ).one()
    category = Category(award_id=award.id, position=position, **values)
    _check_category(session, category)
    session.add(category)
    flush_unique(session, _code_taken())
    audit.record(session, actor=actor, action="category.create", obj=category, changes=values)
    return category


def update_category(
    session: Session, category: Category, data: CategoryUpdate, *, actor: User
) -> Category:
    award = lock_award(session, session.get(Award, category.award_id))
    _require_editable_categories(award)
    values = {
        k: v for k, v in _clean_category_values(data.model_dump(exclude_unset=True)).items()
        if v is not None
    }
    changes = audit.diff(category, values)
    if changes:
        for name, value in values.items():
            setattr(category, name, value)
        _check_category(session, category)
        session.add(category)
        flush_unique(session, _code_taken())
        audit.record(session, actor=actor, action="category.update", obj=category,
                     changes=changes)
    return category


def awards_by_ids(session: Session, ids: set[int]) -> list[Award]:
    if not ids:
        return []
    return list(session.exec(select(Award).where(Award.id.in_(ids))).all())


def categories_by_ids(session: Session, ids: set[int]) -> dict[int, Category]:
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(Category).where(Category.id.in_(ids))).all()}
