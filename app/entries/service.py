"""Entries and their files: the journalist's submission journey and the organizer's screening."""

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime

from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, union, update
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select

from app import i18n
from app.accounts.models import User
from app.accounts import service as accounts
from app.accounts.rules import MailScope, Role, normalize_email
from app.audit import service as audit
from app.awards.models import Award, Category
from app.awards.rules import KIND_LABELS
from app.db import after_commit, after_rollback
from app.entries import rules
from app.entries.models import (
    AuthorPublic,
    CoAuthorIn,
    DuplicatePublic,
    Entry,
    EntryAuthor,
    EntryCreate,
    EntryFile,
    EntryOrganizerView,
    EntryPublic,
    EntryUpdate,
    FilePublic,
)
from app.entries.rules import EntryAction, EntryStatus
from app.errors import N_, Conflict, Forbidden, Invalid, NotFound, TooLarge, UnsupportedKind
from app.mail import service as mail
from app.storage import StoredFile, download_name, get_storage
from app.text import clean_line, fold, nfc, vi_name_sort_string, vi_sort_string

MB = 1024 * 1024
logger = logging.getLogger("giaibao")


# --- Reading -------------------------------------------------------------------------------

def _with_children(query):
    return query.options(selectinload(Entry.authors), selectinload(Entry.files))


def is_submitter(entry: Entry, user: User) -> bool:
    return entry.submitter_id == user.id


def is_author(entry: Entry, user: User) -> bool:
    """The submitter, or a co-author whose line is linked to this account. Never by
    comparing addresses: a line is linked only to an account that proved its address
    (``_set_authors``, ``link_co_author_accounts``), so registering someone else's address
    grants nothing."""
    return is_submitter(entry, user) or any(a.user_id == user.id for a in entry.authors)


def _may_view(entry: Entry, viewer: User) -> bool:
    return viewer.role == Role.organizer or is_author(entry, viewer)


def get_entry(session: Session, entry_id: int, *, viewer: User) -> Entry:
    """The entry if the viewer may see it; otherwise 404, so that others' entries stay
    invisible (not even their existence is confirmed)."""
    entry = session.exec(_with_children(select(Entry).where(Entry.id == entry_id))).first()
    if entry is None or not _may_view(entry, viewer):
        raise NotFound(N_("No such entry."))
    return entry


def _require_submitter(entry: Entry, user: User) -> None:
    """Changes are for the submitter alone: a co-author, who sees the entry, is refused
    (403); to anyone else the entry does not exist (404)."""
    if is_submitter(entry, user):
        return
    if is_author(entry, user):
        raise Forbidden(N_("Only the author who submitted the entry can change it."))
    raise NotFound(N_("No such entry."))


def _own_entry(session: Session, entry_id: int, *, user: User) -> Entry:
    """The entry, locked, for a change only its submitter may make."""
    entry = get_entry(session, entry_id, viewer=user)
    _require_submitter(entry, user)
    return _lock(session, entry)


# --- Locks: every check-then-act on an entry runs under its row lock ------------------------
#
# On PostgreSQL, SELECT … FOR UPDATE makes concurrent changes of one entry wait for each
# other, and reloads the row (and its files and authors) as last committed, so the checks
# that follow judge the truth. On SQLite the request already holds the database's write
# lock (BEGIN IMMEDIATE) and FOR UPDATE is not rendered. Order, to avoid deadlocks:
# author, then award (shared), then entry.

# FOR NO KEY UPDATE: rows that merely point at the locked one (an audit record's actor, a
# file's entry) take a KEY SHARE lock, which this one does not block — no deadlock between a
# request holding the author's lock and another writing an audit record about them.
ROW_LOCK = {"key_share": True}


def _lock(session: Session, entry: Entry) -> Entry:
    session.refresh(entry, with_for_update=ROW_LOCK)
    return entry


def _lock_people(session: Session, user_ids: set[int]) -> None:
    """Locks the accounts whose per-author limit a change affects (the submitter and every
    linked co-author), in id order so that two requests never wait on each other in a
    circle: their creations and submissions are serialised, and the limit cannot be passed
    by two at once. Reloads those already in the session."""
    if user_ids:
        session.exec(select(User).where(col(User.id).in_(sorted(user_ids)))
                     .order_by(User.id).with_for_update(**ROW_LOCK)
                     .execution_options(populate_existing=True)).all()


def _linked_people(entry: Entry) -> set[int]:
    return {entry.submitter_id} | {a.user_id for a in entry.authors if a.user_id is not None}


def _award_shared(session: Session, award_id: int) -> Award:
    """The award, read under a shared lock: its status cannot change until we commit."""
    award = session.get(Award, award_id)
    session.refresh(award, with_for_update={"read": True})
    return award


def viewer_role(entry: Entry, viewer: User | None) -> str | None:
    if viewer is None:
        return None
    if is_submitter(entry, viewer):
        return "submitter"
    return "co_author" if is_author(entry, viewer) else None


def to_public(entry: Entry, viewer: User | None = None) -> EntryPublic:
    return EntryPublic(
        **entry.model_dump(exclude={"authors", "files"}),
        authors=[AuthorPublic(full_name=a.full_name, pen_name=a.pen_name, email=a.email,
                              is_submitter=a.user_id == entry.submitter_id and a.position == 0,
                              linked=a.user_id is not None)
                 for a in entry.authors],
        files=[FilePublic(**f.model_dump()) for f in entry.files],
        viewer_role=viewer_role(entry, viewer),
    )


def duplicates_for(session: Session, entries: list[Entry]) -> dict[int, list[DuplicatePublic]]:
    """Files whose SHA-256 also appears in another entry of the same award (one query)."""
    if not entries:
        return {}
    ids = [e.id for e in entries]
    mine = EntryFile.__table__.alias("mine")
    other_file = EntryFile.__table__.alias("other_file")
    mine_entry = Entry.__table__.alias("mine_entry")
    other_entry = Entry.__table__.alias("other_entry")
    rows = session.exec(
        select(mine.c.entry_id, mine.c.id, mine.c.sha256, other_entry.c.id, other_entry.c.code,
               other_entry.c.title)
        .select_from(mine)
        .join(mine_entry, mine_entry.c.id == mine.c.entry_id)
        .join(other_file, (other_file.c.sha256 == mine.c.sha256)
              & (other_file.c.entry_id != mine.c.entry_id))
        .join(other_entry, (other_entry.c.id == other_file.c.entry_id)
              & (other_entry.c.award_id == mine_entry.c.award_id))
        .where(mine.c.entry_id.in_(ids))
        .order_by(mine.c.entry_id, mine.c.id, other_entry.c.id)
    ).all()
    found: dict[int, list[DuplicatePublic]] = defaultdict(list)
    for entry_id, file_id, sha, other_id, other_code, other_title in rows:
        found[entry_id].append(DuplicatePublic(file_id=file_id, sha256=sha,
                                               other_entry_id=other_id, other_code=other_code,
                                               other_title=other_title))
    return found


def to_organizer_view(entry: Entry, duplicates: list[DuplicatePublic]) -> EntryOrganizerView:
    flags = [f"duplicate file: same SHA-256 as {d.other_code or f'entry #{d.other_entry_id}'}"
             for d in duplicates]
    return EntryOrganizerView(**to_public(entry).model_dump(), submitter_id=entry.submitter_id,
                              duplicates=duplicates, flags=flags)


def view_for(session: Session, entry: Entry, viewer: User) -> EntryPublic:
    if viewer.role == Role.organizer:
        return to_organizer_view(entry, duplicates_for(session, [entry]).get(entry.id, []))
    return to_public(entry, viewer)


def list_my_entries(session: Session, user: User, *, limit: int = 50,
                    offset: int = 0) -> tuple[list[Entry], int]:
    """The entries the user submitted and those they co-author (as a linked account)."""
    co_authored = select(EntryAuthor.entry_id).where(EntryAuthor.user_id == user.id)
    condition = or_(Entry.submitter_id == user.id, col(Entry.id).in_(co_authored))
    entries = session.exec(
        _with_children(select(Entry).where(condition))
        .order_by(Entry.created_at.desc(), Entry.id.desc()).offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(Entry).where(condition)).one()
    return list(entries), total


SORTS = {
    "code": (Entry.category_id, Entry.code, Entry.id),
    "author": (Entry.author_sort, Entry.id),
    "title": (Entry.title_sort, Entry.id),
    "newest": (Entry.created_at.desc(), Entry.id.desc()),
}


def _award_entry_conditions(award: Award, *, status: str | None, category_id: int | None,
                            q: str | None, include_drafts: bool) -> list:
    conditions = [Entry.award_id == award.id]
    if status:
        try:
            conditions.append(Entry.status == EntryStatus(status))
        except ValueError:
            raise Invalid(N_("Unknown status."), field="status") from None
    elif not include_drafts:
        conditions.append(Entry.status != EntryStatus.draft)
    if category_id:
        conditions.append(Entry.category_id == category_id)
    if q and q.strip():
        for word in fold(nfc(q)).split():
            conditions.append(col(Entry.search_text).contains(word, autoescape=True))
    return conditions


def _sort_order(sort: str) -> tuple:
    if sort not in SORTS:
        raise Invalid(N_("Unknown sort order."), field="sort")
    return SORTS[sort]


def list_award_entries(
    session: Session, award: Award, *, status: str | None = None,
    category_id: int | None = None, q: str | None = None, sort: str = "code",
    include_drafts: bool = False, limit: int = 50, offset: int = 0,
) -> tuple[list[Entry], int]:
    """The organizer's list: filters by status and category, searches title, authors and
    code with or without diacritics, sorts names in Vietnamese order."""
    conditions = _award_entry_conditions(award, status=status, category_id=category_id, q=q,
                                         include_drafts=include_drafts)
    order = _sort_order(sort)
    entries = session.exec(
        _with_children(select(Entry).where(*conditions)).order_by(*order)
        .offset(offset).limit(limit)
    ).all()
    total = session.exec(select(func.count()).select_from(Entry).where(*conditions)).one()
    return list(entries), total


def status_counts(session: Session, award: Award) -> dict[int, dict[str, int]]:
    """{category_id: {status: number of entries}} for the organizer's overview (one query)."""
    rows = session.exec(
        select(Entry.category_id, Entry.status, func.count())
        .where(Entry.award_id == award.id).group_by(Entry.category_id, Entry.status)
    ).all()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    for category_id, status, n in rows:
        counts[category_id][status] = n
    return counts


EXPORT_HEADER = (
    "code", "category", "title", "authors", "pen_names", "outlet", "published_on", "url",
    "series_parts", "status", "screening_reason", "submitted_at", "files", "duplicate_of",
)


# Entries read (with their authors, files and duplicate flags) per batch of an export.
EXPORT_BATCH = 500
MAX_EXPORT = 100_000


def export_query(award: Award, *, status: str | None = None, category_id: int | None = None,
                 q: str | None = None, sort: str = "code") -> Select:
    """The entries an export lists, in the list's order (drafts only when asked for by
    status). Checks the filters now (Invalid), before any byte of the file is sent."""
    conditions = _award_entry_conditions(award, status=status, category_id=category_id, q=q,
                                         include_drafts=status == "draft")
    return select(Entry).where(*conditions).order_by(*_sort_order(sort))


def export_batches(open_session: Callable[[], Session], award: Award,
                   query: Select) -> Iterator[list[tuple]]:
    """The rows of an export (see EXPORT_HEADER), EXPORT_BATCH entries at a time, so that
    memory does not grow with the award.

    Reads first the ids in order (at most MAX_EXPORT), then each batch of entries in a
    session of its own, closed before the batch is handed on: no connection nor
    transaction stays open while a slow client downloads. An entry changed meanwhile shows
    as it is when its batch is read, and is left out if it no longer matches the filters.
    """
    with open_session() as session:
        ids = session.exec(query.with_only_columns(Entry.id).limit(MAX_EXPORT)).all()
        categories = dict(session.exec(
            select(Category.id, Category.code).where(Category.award_id == award.id)).all())
    for start in range(0, len(ids), EXPORT_BATCH):
        batch = ids[start:start + EXPORT_BATCH]
        with open_session() as session:
            entries = session.exec(
                _with_children(query.where(col(Entry.id).in_(batch)).order_by(None))).all()
            duplicates = duplicates_for(session, list(entries))
            by_id = {e.id: _export_row(e, categories, duplicates.get(e.id, []))
                     for e in entries}
        yield [by_id[i] for i in batch if i in by_id]


def _export_row(e: Entry, category_codes: dict[int, str],
                duplicates: list[DuplicatePublic]) -> tuple:
    return (e.code, category_codes[e.category_id], e.title,
            "; ".join(a.full_name for a in e.authors),
            "; ".join(a.pen_name or "" for a in e.authors), e.outlet,
            e.published_on.isoformat(), e.url, e.series_parts, e.status, e.screening_reason,
            e.submitted_at.isoformat() if e.submitted_at else None,
            "; ".join(f"{f.filename} ({f.sha256})" for f in e.files),
            "; ".join(sorted({d.other_code or f"#{d.other_entry_id}" for d in duplicates})))


def history(session: Session, entry: Entry) -> list[dict]:
    """What happened to the entry, for its author: status changes with their reasons."""
    items, _ = audit.list_entries(session, object_type="entry", object_id=entry.id, limit=200)
    return [
        {"at": i.at, "action": i.action, "status": (i.changes.get("status") or [None, None])[1],
         "reason": i.reason}
        for i in reversed(items) if "status" in i.changes
    ]


# --- Writing -------------------------------------------------------------------------------

def _category_of(session: Session, award: Award, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None or category.award_id != award.id:
        raise Invalid(N_("Please choose a category of this award."), field="category_id")
    return category


def _counted_entries(session: Session, award: Award, people: set[int], *,
                     exclude: int | None) -> dict[int, int]:
    """{user id: entries of the award that count towards the limit}, each person's
    own entries and the ones they are a linked co-author of, together, in one query.
    Another person's draft does not count for its co-authors until it is submitted:
    otherwise anyone could use up a colleague's quota by listing them on drafts."""
    counted = [Entry.award_id == award.id, col(Entry.status).not_in(list(rules.NOT_COUNTED))]
    if exclude is not None:
        counted.append(Entry.id != exclude)
    submitted = select(Entry.submitter_id.label("person"), Entry.id.label("entry_id")).where(
        *counted, col(Entry.submitter_id).in_(people))
    co_authored = (
        select(EntryAuthor.user_id.label("person"), EntryAuthor.entry_id.label("entry_id"))
        .join(Entry, Entry.id == EntryAuthor.entry_id)
        .where(*counted, Entry.status != EntryStatus.draft,
               col(EntryAuthor.user_id).in_(people)))
    pairs = union(submitted, co_authored).subquery()  # UNION: each (person, entry) once
    rows = session.exec(select(pairs.c.person, func.count()).group_by(pairs.c.person)).all()
    return dict(rows)


def _check_limits(session: Session, award: Award, entry: Entry, *, people: set[int],
                  exclude: int | None) -> None:
    """The per-author limit, for each of ``people`` among the entry's authors (the
    submitter's message speaks to them; a co-author's names that co-author). Their
    accounts are locked by the caller."""
    counts = _counted_entries(session, award, people, exclude=exclude)
    for author in entry.authors:
        if author.user_id in people:
            rules.check_entry_limit(
                counts.get(author.user_id, 0), award.max_entries_per_author,
                co_author=None if author.user_id == entry.submitter_id else author.full_name)


def _clean_co_authors(co_authors: list[CoAuthorIn]) -> list[dict]:
    cleaned = []
    for i, author in enumerate(co_authors):
        name = clean_line(author.full_name)
        pen = clean_line(author.pen_name)
        email = clean_line(author.email)
        if not name:
            if pen or email:
                raise Invalid(N_("Please give each co-author's full name."),
                              field=f"co_authors.{i}.full_name")
            continue
        cleaned.append({"full_name": name, "pen_name": pen,
                        "email": normalize_email(email) if email else None})
    return cleaned


def _apply_fields(entry: Entry, values: dict, award: Award) -> None:
    for name in ("title", "outlet", "url"):
        if name in values:
            values[name] = clean_line(values[name])
    if "summary" in values:
        values["summary"] = nfc(values["summary"] or "").strip()
    if values.get("series_parts") == 1:
        values["series_parts"] = None
    for name, value in values.items():
        setattr(entry, name, value)
    if not entry.title:
        raise Invalid(N_("Please enter the title of the work."), field="title")
    if not entry.outlet:
        raise Invalid(N_("Please enter the press outlet that published the work."),
                      field="outlet")
    rules.check_publication_date(entry.published_on, award.published_from, award.published_to)
    rules.check_series_parts(entry.series_parts, award.max_series_parts)
    rules.check_url(entry.url, required=False)


def _verified_accounts(session: Session, co_authors: list[dict], *, user: User,
                       award: Award) -> dict[str, int]:
    """Checks the list of co-authors and gives {address: account id} for the addresses
    that belong to an account which proved them (one query): those lines are linked.
    An unverified account holding an address is never matched."""
    rules.check_author_count(1 + len(co_authors), award.max_authors_per_entry)
    emails = [c["email"] for c in co_authors]
    rules.check_distinct_emails(user.email, emails)
    emails = [e for e in emails if e]
    if not emails:
        return {}
    return dict(session.exec(select(User.email, User.id).where(
        col(User.email).in_(emails), col(User.email_verified_at).is_not(None))).all())


def _set_authors(entry: Entry, user: User, co_authors: list[dict],
                 accounts: dict[str, int]) -> None:
    """The submitter first, then the co-authors, linked to the verified accounts of their
    addresses. An address already on the entry keeps its ``notified_at``: its co-author is
    told once per entry, however often the list is edited."""
    notified = {a.email: a.notified_at for a in entry.authors[1:] if a.email}
    people = [{"full_name": user.full_name, "pen_name": user.pen_name, "email": user.email,
               "user_id": user.id}] + [
        {**c, "user_id": accounts.get(c["email"]), "notified_at": notified.get(c["email"])}
        for c in co_authors]
    entry.authors = [EntryAuthor(position=i, **p) for i, p in enumerate(people)]


def link_co_author_accounts(session: Session, user: User) -> int:
    """Gives a just-verified account its co-authorships: every co-author line listing its
    address and not yet linked. Called when an address is proven (verification, a changed
    address confirmed, an invitation accepted); returns the number of lines linked."""
    if not user.email_verified:
        return 0
    result = session.exec(
        update(EntryAuthor)
        .where(EntryAuthor.email == user.email, col(EntryAuthor.user_id).is_(None),
               EntryAuthor.position > 0)
        .values(user_id=user.id)
    )
    return result.rowcount


def _refresh_search(entry: Entry) -> None:
    names = " ".join(f"{a.full_name} {a.pen_name or ''}" for a in entry.authors)
    entry.search_text = fold(f"{entry.code or ''} {entry.title} {names}")
    entry.author_sort = vi_name_sort_string(entry.authors[0].full_name) if entry.authors else ""
    entry.title_sort = vi_sort_string(entry.title)


def create_entry(session: Session, award: Award, data: EntryCreate, *, user: User,
                 now: datetime) -> Entry:
    """A draft, with its co-authors linked to their verified accounts; the per-author limit
    is checked for the submitter and for each linked co-author. An unverified account may
    prepare a draft (it cannot submit it)."""
    if user.role != Role.journalist:
        raise Conflict(N_("Only journalists' accounts can submit entries."))
    co_authors = _clean_co_authors(data.co_authors)
    accounts = _verified_accounts(session, co_authors, user=user, award=award)
    people = {user.id, *accounts.values()}
    _lock_people(session, people)
    award = _award_shared(session, award.id)
    rules.check_award_open(award.status)
    category = _category_of(session, award, data.category_id)
    entry = Entry(award_id=award.id, category_id=category.id, submitter_id=user.id,
                  created_at=now, updated_at=now, title="", outlet="",
                  published_on=data.published_on)
    _apply_fields(entry, data.model_dump(exclude={"category_id", "co_authors"}), award)
    _set_authors(entry, user, co_authors, accounts)
    _check_limits(session, award, entry, people=people, exclude=None)
    _refresh_search(entry)
    session.add(entry)
    session.flush()
    audit.record(session, actor=user, action="entry.create", obj=entry,
                 changes={"status": [None, entry.status], "title": entry.title})
    return entry


def update_entry(session: Session, entry: Entry, data: EntryUpdate, *, user: User,
                 now: datetime, opened_at: datetime | None = None) -> Entry:
    """``opened_at``: the entry's ``updated_at`` when the form was opened; a save made on an
    older version (another tab saved meanwhile) is refused rather than undoing that save.

    A co-author newly linked by this change counts it towards their limit at once (as at
    creation); those already linked are checked again at submission."""
    _require_submitter(entry, user)
    co_authors = data.co_authors
    if co_authors is not None:
        co_authors = _clean_co_authors(co_authors)
        award = session.get(Award, entry.award_id)
        accounts = _verified_accounts(session, co_authors, user=user, award=award)
        _lock_people(session, {user.id, *accounts.values()})
    award = _award_shared(session, entry.award_id)
    _lock(session, entry)
    rules.check_editable(entry.status)
    rules.check_not_stale(opened_at, entry.updated_at)
    values = data.model_dump(exclude_unset=True, exclude={"co_authors"})
    if "category_id" in values:
        if values["category_id"] is None:
            values.pop("category_id")
        elif entry.code and values["category_id"] != entry.category_id:
            raise Conflict(N_("The category cannot change once the entry has a code."),
                           field="category_id")
        else:
            category = _category_of(session, award, values["category_id"])
            if category.id != entry.category_id:
                _check_files_fit(entry, category)
    before = {k: getattr(entry, k) for k in values}
    _apply_fields(entry, values, award)
    if co_authors is not None:
        linked_before = _linked_people(entry)
        _set_authors(entry, user, co_authors, accounts)
        _check_limits(session, award, entry, people=_linked_people(entry) - linked_before,
                      exclude=entry.id)
    _refresh_search(entry)
    entry.updated_at = now
    session.add(entry)
    session.flush()
    changes = {k: [before[k], getattr(entry, k)] for k in values if before[k] != getattr(entry, k)}
    if co_authors is not None:
        changes["authors"] = [a.full_name for a in entry.authors]
    audit.record(session, actor=user, action="entry.update", obj=entry, changes=changes)
    return entry


def _next_code(session: Session, category: Category) -> str:
    """Atomically takes the category's next number: concurrent submissions never share it
    (a row lock on PostgreSQL, the write lock on SQLite)."""
    number = session.exec(
        update(Category).where(Category.id == category.id)
        .values(last_code_number=Category.last_code_number + 1)
        .returning(Category.last_code_number)
    ).scalar_one()
    return rules.entry_code(category.code, number)


def _check_files_fit(entry: Entry, category: Category) -> None:
    rules.check_files_fit([(f.filename, f.kind, f.size) for f in entry.files],
                          kinds=category.accepted_kinds, max_bytes=category.max_file_mb * MB,
                          category=category.name)


def _record_move(session: Session, entry: Entry, action: EntryAction, *, actor: User,
                 now: datetime, reason: str | None = None, changes: dict | None = None) -> Entry:
    """The one ending of every status change of an entry (checked before, under its lock):
    set, stamp, flush, audit, and queue the mails of the move (in this transaction: a
    change rolled back sends nothing)."""
    old = entry.status
    entry.status = rules.ENTRY_TRANSITIONS[action].target
    entry.updated_at = now
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action=f"entry.{action.value}", obj=entry,
                 changes={"status": [old, entry.status], **(changes or {})}, reason=reason)
    _mail_move(session, entry, action, now=now)
    return entry


def _mail_move(session: Session, entry: Entry, action: EntryAction, *, now: datetime) -> None:
    """The submitter's mail of the move (ENTRY_TRANSITIONS), in their language, with the
    award's title and a link to the entry; on submission, also the co-authors' notices."""
    template = rules.ENTRY_TRANSITIONS[action].mail
    if template is None:
        return
    award = session.get(Award, entry.award_id)
    submitter = session.get(User, entry.submitter_id)
    context = {
        "award": award, "entry": entry, "code": entry.code or "", "title": entry.title,
        "category": session.get(Category, entry.category_id),
        "reason": entry.screening_reason,
        "submitted_at": local_time(entry.submitted_at, award.timezone),
        "url": mail.link(f"/entries/{entry.id}"),
    }
    mail.queue_for_user(session, submitter, template=template, context=context, now=now,
                        award_id=award.id)
    if action == EntryAction.submit:
        _tell_co_authors(session, entry, award, submitter, now=now)


def local_time(moment: datetime | None, timezone: str) -> str:
    """A moment as the award's people read it: local time, with the zone named."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    return f"{local:%H:%M:%S %d/%m/%Y} (UTC{offset[:3]}:{offset[3:]}, {timezone})"


def _tell_co_authors(session: Session, entry: Entry, award: Award, submitter: User, *,
                     now: datetime) -> None:
    """Tells each co-author with an address, once per entry and address (``notified_at``),
    that they were listed. Sent at submission, not before: a draft of an unverified account
    must not mail arbitrary addresses. A linked co-author gets the link to the entry, in
    their language; any other address the link to register (and confirm the address)."""
    for author in entry.authors[1:]:
        if not author.email or author.notified_at is not None:
            continue
        author.notified_at = now
        session.add(author)
        if not accounts.may_mail(session, MailScope.co_author, author.email, now=now):
            continue  # this address was told often enough today
        account = session.get(User, author.user_id) if author.user_id else None
        context = {"award": award, "entry": entry, "title": entry.title,
                   "name": author.full_name, "submitter": submitter.full_name,
                   "linked": account is not None, "email": author.email,
                   "url": mail.link(f"/entries/{entry.id}" if account else "/register")}
        if account is not None:
            mail.queue_for_user(session, account, template="co_author_listed", context=context,
                                now=now, award_id=award.id)
        else:
            mail.queue(session, to=author.email, template="co_author_listed", context=context,
                       lang=i18n.DEFAULT_LANGUAGE, now=now, award_id=award.id)
    session.flush()


def submit_entry(session: Session, entry: Entry, *, user: User, now: datetime) -> Entry:
    """Checks every rule of the award again (now, under the locks), gives the entry its
    code, and mails the receipt and the co-authors' notices (``_record_move``).

    Locks the submitter and every linked co-author (id order) before counting their
    entries: parallel submissions cannot pass one person's limit together."""
    _require_submitter(entry, user)
    locked = _linked_people(entry)
    _lock_people(session, locked)
    award = _award_shared(session, entry.award_id)
    _lock(session, entry)
    people = _linked_people(entry)
    # A co-author linked since the entry was read (their address just verified): rare, and
    # out of id order, but they must be counted too.
    _lock_people(session, people - locked)
    rules.check_may_submit(user.email_verified)
    rules.check_transition(entry.status, EntryAction.submit, role=user.role)
    category = session.get(Category, entry.category_id)
    rules.check_award_open(award.status)
    rules.check_window(now, award.submission_opens_at, award.submission_closes_at)
    rules.check_publication_date(entry.published_on, award.published_from, award.published_to)
    rules.check_series_parts(entry.series_parts, award.max_series_parts)
    rules.check_author_count(len(entry.authors), award.max_authors_per_entry)
    rules.check_url(entry.url, required=category.url_required)
    rules.check_has_files(len(entry.files))
    _check_files_fit(entry, category)
    _check_limits(session, award, entry, people=people, exclude=entry.id)
    if entry.code is None:
        entry.code = _next_code(session, category)
        _refresh_search(entry)
    entry.submitted_at = now
    return _record_move(session, entry, EntryAction.submit, actor=user, now=now,
                        changes={"code": entry.code})


def withdraw_entry(session: Session, entry: Entry, *, user: User, now: datetime,
                   reason: str | None = None) -> Entry:
    _require_submitter(entry, user)
    award = _award_shared(session, entry.award_id)
    _lock(session, entry)
    rules.check_transition(entry.status, EntryAction.withdraw, role=user.role)
    rules.check_withdrawable(award.status)
    reason = clean_line(reason)
    return _record_move(session, entry, EntryAction.withdraw, actor=user, now=now,
                        reason=reason)


def screen_entry(session: Session, entry: Entry, *, decision: str, reason: str | None,
                 actor: User, now: datetime) -> Entry:
    """The organizer accepts, returns (with a reason the author sees) or rejects an entry;
    the submitter is told by mail (``_record_move``)."""
    reason = audit.clean_reason(reason)
    _lock(session, entry)
    rules.check_transition(entry.status, decision, role=actor.role, reason=reason)
    entry.screening_reason = reason
    return _record_move(session, entry, EntryAction(decision), actor=actor, now=now,
                        reason=reason)


# --- Files ---------------------------------------------------------------------------------

def upload_limits(session: Session, entry_id: int, *, user: User) -> tuple[int, list[str]]:
    """Checks that the user may add a file now and gives (max bytes, accepted kinds).
    A full entry is refused here, before any byte is read.

    Then ends the read transaction, so that no database transaction (nor SQLite's write
    lock) stays open while a large file streams in.
    """
    entry = get_entry(session, entry_id, viewer=user)  # checked again, locked, on attaching
    _require_submitter(entry, user)
    rules.check_editable(entry.status)
    rules.check_room_for_file(len(entry.files))
    category = session.get(Category, entry.category_id)
    limits = (category.max_file_mb * MB, list(category.accepted_kinds))
    session.commit()
    return limits


def attach_file(session: Session, entry_id: int, stored: StoredFile, filename: str, *,
                user: User, now: datetime) -> EntryFile:
    """Records a fully stored file on the entry, checking again that the entry may change.

    If this or anything later in the request fails, the stored file is deleted with the
    rollback: a file never outlives the row that would point at it.
    """
    storage = get_storage()
    after_rollback(session, lambda: storage.delete(stored.name))
    filename = download_name(filename, stored.content_type)
    entry = _own_entry(session, entry_id, user=user)
    rules.check_editable(entry.status)
    rules.check_new_file([f.sha256 for f in entry.files], stored.sha256)
    row = EntryFile(entry_id=entry.id, stored_name=stored.name, filename=filename,
                    size=stored.size, sha256=stored.sha256, kind=stored.kind,
                    content_type=stored.content_type, created_at=now)
    entry.files.append(row)
    entry.updated_at = now
    session.add(entry)
    session.flush()
    audit.record(session, actor=user, action="entry.file_add", obj=entry,
                 changes={"file": filename, "size": stored.size, "sha256": stored.sha256})
    return row


def delete_file(session: Session, entry_id: int, file_id: int, *, user: User,
                now: datetime) -> None:
    entry = _own_entry(session, entry_id, user=user)
    rules.check_editable(entry.status)
    row = next((f for f in entry.files if f.id == file_id), None)
    if row is None:
        raise NotFound(N_("No such file."))
    entry.files.remove(row)
    entry.updated_at = now
    session.add(entry)
    session.flush()
    storage = get_storage()
    name = row.stored_name
    after_commit(session, lambda: storage.delete(name))
    audit.record(session, actor=user, action="entry.file_delete", obj=entry,
                 changes={"file": row.filename, "sha256": row.sha256})


def get_file(session: Session, file_id: int, *, viewer: User) -> EntryFile:
    """A file the viewer may download. Its bytes missing from storage (a restored backup
    without its files, a folder lost) is a 404 that says so, logged for the operator."""
    row = session.get(EntryFile, file_id)
    if row is None:
        raise NotFound(N_("No such file."))
    get_entry(session, row.entry_id, viewer=viewer)
    if not get_storage().exists(row.stored_name):
        logger.error("stored file %s of entry file %s is missing", row.stored_name, row.id)
        raise NotFound(N_("The contents of this file cannot be found on the server. Please "
                          "tell the organizer."))
    return row


def refuse_size(max_bytes: int) -> TooLarge:
    return TooLarge(N_("The file is larger than this category allows ({mb} MB)."),
                    mb=max_bytes // MB)


def refuse_kind(kinds: list[str]) -> UnsupportedKind:
    return UnsupportedKind(
        N_("This kind of file is not accepted here. Accepted: {kinds}."),
        kinds=[KIND_LABELS[k] for k in sorted(kinds)])


def referenced_files(session: Session) -> set[str]:
    return set(session.exec(select(EntryFile.stored_name)).all())

