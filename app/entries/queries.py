"""Reading entries: one entry for a viewer, the journalist's and the organizer's lists,
counts, duplicate files, exports and the author's history."""

from collections import defaultdict
from dataclasses import dataclass
from collections.abc import Callable, Iterator
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, tuple_, union
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, func, select
from app.accounts.models import User
from app.audit import service as audit
from app.awards.models import Award, Category
from app.entries.models import (
    DuplicatePublic,
    Entry,
    EntryAuthor,
    EntryFile,
)
from app.entries import counts
from app.entries.rules import (
    CURSOR_KEYS,
    DUPLICATE_CANDIDATES,
    NOT_COUNTED,
    EntryStatus,
    decode_cursor,
    encode_cursor,
    limit_reached,
)
from app.entries.access import may_view
from app.errors import N_, Invalid, NotFound
from app.text import fold, nfc


def with_children(query):
    return query.options(selectinload(Entry.authors), selectinload(Entry.files))


def get_entry(session: Session, entry_id: int, *, viewer: User) -> Entry:
    """The entry if the viewer may see it; otherwise 404, so that others' entries stay
    invisible (not even their existence is confirmed)."""
    entry = session.exec(with_children(select(Entry).where(Entry.id == entry_id))).first()
    if entry is None or not may_view(entry, viewer):
        raise NotFound(N_("No such entry."))
    return entry


def list_my_entries(session: Session, user: User, *, limit: int = 50,
                    offset: int = 0) -> tuple[list[Entry], int]:
    """The entries the user submitted and those they co-author (as a linked account)."""
    co_authored = select(EntryAuthor.entry_id).where(EntryAuthor.user_id == user.id)
    condition = or_(Entry.submitter_id == user.id, col(Entry.id).in_(co_authored))
    entries = session.exec(
        with_children(select(Entry).where(condition))
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


@dataclass
class EntryPage:
    """One page of the organizer's list: its entries, the number matching the filters,
    and the sort-key values of its last row when another page follows (the next cursor)."""

    entries: list[Entry]
    total: int
    next_after: tuple | None


def cursor_values(entry: Entry, sort: str) -> tuple:
    """The row's sort keys, as a cursor carries them (rules.CURSOR_KEYS)."""
    return tuple(getattr(entry, name) for name in CURSOR_KEYS[sort])


def _after(sort: str, values: tuple, *, nullable_code: bool, nulls_last: bool,
           one_category: bool = False):
    """The rows that come strictly after ``values`` in ``sort``'s order. One row
    comparison ``(key, id) > (…)`` that an index range serves; the code sort of a list that
    may hold drafts (whose code is NULL, sorted last on PostgreSQL and first on SQLite)
    spells it out."""
    columns = [getattr(Entry, name) for name in CURSOR_KEYS[sort]]
    if sort == "newest":
        return tuple_(*columns) < tuple_(*values)
    if sort != "code" or (values[1] is not None and not nullable_code):
        if sort == "code" and one_category:  # the category is fixed: (code, id) alone
            return tuple_(*columns[1:]) > tuple_(*values[1:])
        return tuple_(*columns) > tuple_(*values)
    category, code, entry_id = values
    same = Entry.category_id == category
    if code is None:
        later = and_(col(Entry.code).is_(None), Entry.id > entry_id)
        if not nulls_last:
            later = or_(col(Entry.code).is_not(None), later)
    else:
        later = or_(Entry.code > code, and_(Entry.code == code, Entry.id > entry_id))
        if nulls_last:
            later = or_(later, col(Entry.code).is_(None))
    return or_(Entry.category_id > category, and_(same, later))


def award_entries_page(
    session: Session, award: Award, *, status: str | None = None,
    category_id: int | None = None, q: str | None = None, sort: str = "code",
    include_drafts: bool = False, limit: int = 50, offset: int = 0,
    after: tuple | None = None,
) -> EntryPage:
    """The organizer's list: filters by status and category, searches title, authors and
    code with or without diacritics, sorts names in Vietnamese order.

    Every sort and filter reads an index in order (Entry's list indexes), so a page costs
    the same at any size; ``after`` (a cursor's values) starts the page after that row, so
    the last page costs what the first does (``offset`` still works, the index skipping
    the rows before it). The total comes from the counts (app.entries.counts), except for
    a text search, which counts its matches."""
    conditions = _award_entry_conditions(award, status=status, category_id=category_id, q=q,
                                         include_drafts=include_drafts)
    order = _sort_order(sort)
    query = select(Entry).where(*conditions)
    if after is not None:
        query = query.where(_after(
            sort, after, nullable_code=include_drafts or status == EntryStatus.draft,
            nulls_last=session.get_bind().dialect.name == "postgresql",
            one_category=bool(category_id)))
    rows = list(session.exec(
        with_children(query).order_by(*order).offset(offset).limit(limit + 1)).all())
    entries = rows[:limit]
    next_after = cursor_values(entries[-1], sort) if len(rows) > limit else None
    if q and q.strip():
        total = session.exec(select(func.count()).select_from(Entry).where(*conditions)).one()
    else:
        total = counts.total(session, award.id, status=status, category_id=category_id,
                             include_drafts=include_drafts)
    return EntryPage(entries, total, next_after)


def list_award_entries(session: Session, award: Award, **options) -> tuple[list[Entry], int]:
    """``award_entries_page`` as (entries, total)."""
    page = award_entries_page(session, award, **options)
    return page.entries, page.total


def status_counts(session: Session, award: Award) -> dict[int, dict[str, int]]:
    """{category_id: {status: number of entries}} for the organizer's overview, from the
    counts (one small query)."""
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for category_id, status, n in counts.cells(session, award.id):
        result[category_id][status] = n
    return result


def screening_queue(session: Session, award_id: int, *,
                    after: Entry | None = None) -> tuple[int | None, int]:
    """(the next entry waiting for screening in the award, how many are waiting), in the
    list's code order; ``after`` (the entry just screened) is skipped. Two queries."""
    waiting = [Entry.award_id == award_id, Entry.status == EntryStatus.submitted]
    if after is not None:
        waiting.append(Entry.id != after.id)
    count = session.exec(select(func.count()).select_from(Entry).where(*waiting)).one()
    if not count:
        return None, 0
    ordered = select(Entry.id).where(*waiting).order_by(*SORTS["code"])
    if after is not None and after.code:
        later = session.exec(ordered.where(
            or_(Entry.category_id > after.category_id,
                (Entry.category_id == after.category_id) & (Entry.code > after.code)))
            .limit(1)).first()
        if later is not None:
            return later, count
    return session.exec(ordered.limit(1)).first(), count


def duplicates_for(session: Session, entries: list[Entry]) -> dict[int, list[DuplicatePublic]]:
    """Files whose SHA-256 also appears in another entry of the same award, both entries
    submitted or accepted (rules.DUPLICATE_CANDIDATES: drafts, withdrawn and rejected
    entries are no competition, on either side), one query. The list page, the export and
    the screening page all flag duplicates through this one function.

    The entries' own files are already loaded (``with_children``): the one query looks
    their hashes up in the hash index (``sha256 IN (…)``), whatever the planner's statistics
    say, and the pairs are matched here."""
    candidates = {str(s) for s in DUPLICATE_CANDIDATES}
    mine = [e for e in entries if e.status in candidates]
    hashes = {f.sha256 for e in mine for f in e.files}
    if not hashes:
        return {}
    files = session.exec(select(EntryFile.sha256, EntryFile.id, EntryFile.entry_id)
                         .where(col(EntryFile.sha256).in_(sorted(hashes)))).all()
    holders_of = {row[2] for row in files}
    others = {row[0]: row[1:] for row in session.exec(
        select(Entry.id, Entry.award_id, Entry.status, Entry.code, Entry.title)
        .where(col(Entry.id).in_(sorted(holders_of)))).all()}
    holders: dict[str, list[tuple]] = defaultdict(list)
    for sha, file_id, entry_id in files:
        award_id, status, code, title = others.get(entry_id, (None, None, None, None))
        if status in candidates:
            holders[sha].append((entry_id, file_id, award_id, code, title))
    found: dict[int, list[DuplicatePublic]] = defaultdict(list)
    for entry in sorted(mine, key=lambda e: e.id):
        for file in sorted(entry.files, key=lambda f: f.id):
            for other_id, _other_file, award_id, code, title in sorted(
                    holders.get(file.sha256, ()), key=lambda h: (h[0], h[1])):
                if other_id != entry.id and award_id == entry.award_id:
                    found[entry.id].append(DuplicatePublic(
                        file_id=file.id, sha256=file.sha256, other_entry_id=other_id,
                        other_code=code, other_title=title))
    return found


# The columns of the organizer's export: (header msgid, width in characters).
EXPORT_COLUMNS: tuple[tuple[str, int], ...] = (
    (N_("Code"), 10), (N_("Title of the work"), 40), (N_("Category"), 24), (N_("Status"), 16),
    (N_("Submitted at"), 17), (N_("Authors"), 40), (N_("Press outlet"), 24),
    (N_("Published or broadcast on"), 12), (N_("Link"), 30), (N_("Number of files"), 8),
    (N_("Submitter's e-mail"), 28), (N_("Submitter's phone"), 14),
    (N_("Submitter's organization"), 28), (N_("Possible duplicate of"), 18),
)


@dataclass(frozen=True)
class ExportWords:
    """What the rows of an export say in the caller's language, translated while the
    request's language is known (the rows are written later, in another thread)."""

    statuses: dict[str, str]
    pen_name: str  # "pen name" → "Nguyễn Văn A (bút danh X)"


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


def export_batches(open_session: Callable[[], Session], award: Award, query: Select,
                   words: ExportWords) -> Iterator[list[tuple]]:
    """The rows of an export (see EXPORT_COLUMNS), EXPORT_BATCH entries at a time, so that
    memory does not grow with the award. Values keep their kind (the time of submission a
    datetime in the award's time zone, the publication a date, the number of files an int);
    the CSV and XLSX writers format them.

    Reads first the ids in order (at most MAX_EXPORT), then each batch of entries in a
    session of its own, closed before the batch is handed on: no connection nor
    transaction stays open while a slow client downloads. An entry changed meanwhile shows
    as it is when its batch is read, and is left out if it no longer matches the filters.
    Six statements per batch: entries, authors, files, submitters, then the duplicates'
    files by hash and their entries (none when no file of the batch is duplicate-eligible).
    """
    with open_session() as session:
        ids = session.exec(query.with_only_columns(Entry.id).limit(MAX_EXPORT)).all()
        categories = dict(session.exec(
            select(Category.id, Category.name).where(Category.award_id == award.id)).all())
    zone = ZoneInfo(award.timezone)
    # Plain columns, no ORM rows: building 13,000 entry, author and file objects was most of
    # the time of a 3,000-entry export.
    columns = (Entry.id, Entry.code, Entry.title, Entry.category_id, Entry.status,
               Entry.submitted_at, Entry.outlet, Entry.published_on, Entry.url,
               Entry.submitter_id)
    for start in range(0, len(ids), EXPORT_BATCH):
        batch = ids[start:start + EXPORT_BATCH]
        with open_session() as session:
            entries = session.execute(query.with_only_columns(*columns)
                                      .where(col(Entry.id).in_(batch)).order_by(None)).all()
            found = [e[0] for e in entries]
            authors: dict[int, list[tuple]] = defaultdict(list)
            for entry_id, full_name, pen_name in session.execute(
                    select(EntryAuthor.entry_id, EntryAuthor.full_name, EntryAuthor.pen_name)
                    .where(col(EntryAuthor.entry_id).in_(found))
                    .order_by(EntryAuthor.entry_id, EntryAuthor.position)):
                authors[entry_id].append((full_name, pen_name))
            files: dict[int, list[_HeldFile]] = defaultdict(list)
            for entry_id, file_id, sha256 in session.execute(
                    select(EntryFile.entry_id, EntryFile.id, EntryFile.sha256)
                    .where(col(EntryFile.entry_id).in_(found))):
                files[entry_id].append(_HeldFile(file_id, sha256))
            submitters = {row[0]: row for row in session.execute(
                select(User.id, User.email, User.phone, User.organization)
                .where(col(User.id).in_({e[9] for e in entries})))}
            duplicates = duplicates_for(session, [
                _Held(e[0], award.id, e[4], files[e[0]]) for e in entries])
        by_id = {e[0]: _export_row(e, categories, authors[e[0]], len(files[e[0]]),
                                   submitters[e[9]], duplicates.get(e[0], []), zone=zone,
                                   words=words)
                 for e in entries}
        yield [by_id[i] for i in batch if i in by_id]


@dataclass(frozen=True)
class _HeldFile:
    id: int
    sha256: str


@dataclass(frozen=True)
class _Held:
    """What duplicates_for reads of an entry (the export reads plain columns, no ORM rows)."""
    id: int
    award_id: int
    status: str
    files: list[_HeldFile]


def authors_line(entry: Entry, pen_name_word: str) -> str:
    """"Nguyễn Văn A (bút danh X); Trần Thị B"."""
    return _authors_line([(a.full_name, a.pen_name) for a in entry.authors], pen_name_word)


def _authors_line(authors: list[tuple], pen_name_word: str) -> str:
    return "; ".join(f"{full_name} ({pen_name_word} {pen_name})" if pen_name else full_name
                     for full_name, pen_name in authors)


def _export_row(e, category_names: dict[int, str], authors: list[tuple], files: int,
                submitter, duplicates: list[DuplicatePublic], *, zone: ZoneInfo,
                words: ExportWords) -> tuple:
    (_id, code, title, category_id, status, submitted_at, outlet, published_on, url,
     _submitter_id) = e
    _uid, email, phone, organization = submitter
    submitted = submitted_at.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) \
        if submitted_at else None
    return (code, title, category_names[category_id], words.statuses.get(status, status),
            submitted, _authors_line(authors, words.pen_name), outlet, published_on, url,
            files, email, phone, organization,
            ", ".join(sorted({d.other_code or f"#{d.other_entry_id}" for d in duplicates})))


def history(session: Session, entry: Entry) -> list[dict]:
    """What happened to the entry, for its author: status changes with their reasons."""
    items, _ = audit.list_entries(session, object_type="entry", object_id=entry.id, limit=200)
    return [
        {"at": i.at, "action": i.action, "status": (i.changes.get("status") or [None, None])[1],
         "reason": i.reason}
        for i in reversed(items)
        # Older rows are about a deleted draft that had this id (SQLite reuses the last id).
        if "status" in i.changes and i.at >= entry.created_at
    ]


def _counted_pairs(award_ids: list[int], people: set[int], *, exclude: int | None):
    """The (award, person, entry) triples that count towards the per-author limit: each
    person's own entries and the ones they are a linked co-author of, each once. Another
    person's draft does not count for its co-authors until it is submitted: otherwise
    anyone could use up a colleague's quota by listing them on drafts."""
    counted = [col(Entry.award_id).in_(award_ids), col(Entry.status).not_in(list(NOT_COUNTED))]
    if exclude is not None:
        counted.append(Entry.id != exclude)
    submitted = select(Entry.award_id.label("award_id"), Entry.submitter_id.label("person"),
                       Entry.id.label("entry_id")).where(
        *counted, col(Entry.submitter_id).in_(people))
    co_authored = (
        select(Entry.award_id.label("award_id"), EntryAuthor.user_id.label("person"),
               EntryAuthor.entry_id.label("entry_id"))
        .join(Entry, Entry.id == EntryAuthor.entry_id)
        .where(*counted, Entry.status != EntryStatus.draft,
               col(EntryAuthor.user_id).in_(people)))
    return union(submitted, co_authored).subquery()  # UNION: each triple once


def counted_entries(session: Session, award: Award, people: set[int], *,
                    exclude: int | None) -> dict[int, int]:
    """{user id: entries of the award that count towards the limit}, in one query."""
    pairs = _counted_pairs([award.id], people, exclude=exclude)
    rows = session.exec(select(pairs.c.person, func.count()).group_by(pairs.c.person)).all()
    return dict(rows)


def entries_counted(session: Session, award: Award, user: User) -> int:
    """The user's entries in the award that count towards its per-author limit, as the
    limit check counts them (shown as "2/3" before a form is filled)."""
    return counted_entries(session, award, {user.id}, exclude=None).get(user.id, 0)


def _limit(counted: int, award: Award) -> dict:
    return {"counted": counted, "maximum": award.max_entries_per_author,
            "reached": limit_reached(counted, award.max_entries_per_author)}


def limits_for(session: Session, awards: list[Award], user: User) -> dict[int, dict]:
    """``limit_for`` of several awards at once (one query), by award id."""
    if not awards:
        return {}
    pairs = _counted_pairs([a.id for a in awards], {user.id}, exclude=None)
    counts = dict(session.exec(select(pairs.c.award_id, func.count())
                               .group_by(pairs.c.award_id)).all())
    return {a.id: _limit(counts.get(a.id, 0), a) for a in awards}


def limit_for(session: Session, award: Award, user: User) -> dict:
    """What the pages show of the per-author limit before a form is filled: the count the
    limit check makes, the most allowed, and whether another entry is possible."""
    return _limit(entries_counted(session, award, user), award)


def _cursor_key() -> bytes:
    from app.config import get_settings

    return get_settings().secret_key.encode()


def list_scope(award: Award, *, status: str | None, category_id: int | None,
               q: str | None) -> str:
    """What names one list of the organizer's: the award and its filters (the search as
    it is matched, folded). A cursor is valid only in the list it was made in."""
    words = " ".join(fold(nfc(q)).split()) if q else ""
    return f"{award.id}|{status or ''}|{category_id or ''}|{words}"


def next_cursor(page: EntryPage, sort: str, *, scope: str) -> str | None:
    """The opaque token of the page after ``page`` (None on the last page)."""
    if page.next_after is None:
        return None
    return encode_cursor(sort, page.next_after, key=_cursor_key(), scope=scope)


def read_cursor(token: str | None, sort: str, *, scope: str) -> tuple | None:
    """A cursor's values (None without one); Invalid (422) when garbled, forged or made for
    another sort order or another list (``list_scope``)."""
    if token is None:
        return None
    _sort_order(sort)
    return decode_cursor(token, sort, key=_cursor_key(), scope=scope)
