"""Changing entries: create, edit, submit, withdraw, screen. Every status change goes
through ``move`` (the one ending: set, stamp, flush, audit, mail)."""

from datetime import datetime
from zoneinfo import ZoneInfo
from sqlalchemy import update
from sqlalchemy.exc import InvalidRequestError
from sqlmodel import Session, col, select
from app import i18n
from app.accounts.models import User
from app.accounts import service as accounts
from app.accounts.rules import MailScope, Role, normalize_email
from app.audit import service as audit
from app.awards.models import Award, Category
from app.entries import rules
from app.entries.models import (
    CoAuthorIn,
    Entry,
    EntryAuthor,
    EntryCreate,
    EntryUpdate,
)
from app.entries.rules import EntryAction, EntryStatus
from app.entries.access import require_submitter
from app.entries.queries import counted_entries, get_entry
from app.errors import N_, Conflict, Invalid, NotFound, collect, raise_all
from app.db import after_commit
from app.storage import get_storage
from app.mail import service as mail
from app.text import clean_line, fold, nfc, vi_name_sort_string, vi_sort_string


def own_entry(session: Session, entry_id: int, *, user: User) -> Entry:
    """The entry, locked, for a change only its submitter may make."""
    entry = get_entry(session, entry_id, viewer=user)
    require_submitter(entry, user)
    return lock(session, entry)


# FOR NO KEY UPDATE: rows that merely point at the locked one (an audit record's actor, a
# file's entry) take a KEY SHARE lock, which this one does not block — no deadlock between a
# request holding the author's lock and another writing an audit record about them.
ROW_LOCK = {"key_share": True}


def lock(session: Session, entry: Entry) -> Entry:
    """Locks the entry's row and reloads it; an entry deleted meanwhile (its author deleted
    the draft in another tab) is a missing entry, not a server error."""
    try:
        session.refresh(entry, with_for_update=ROW_LOCK)
    except InvalidRequestError:
        raise NotFound(N_("No such entry.")) from None
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


def _category_of(session: Session, award: Award, category_id: int) -> Category:
    category = session.get(Category, category_id)
    if category is None or category.award_id != award.id:
        raise Invalid(N_("Please choose a category of this award."), field="category_id")
    return category


def _check_limits(session: Session, award: Award, entry: Entry, *, people: set[int],
                  exclude: int | None) -> None:
    """The per-author limit, for each of ``people`` among the entry's authors (the
    submitter's message speaks to them; a co-author's names that co-author). Their
    accounts are locked by the caller."""
    counts = counted_entries(session, award, people, exclude=exclude)
    for author in entry.authors:
        if author.user_id in people:
            rules.check_entry_limit(
                counts.get(author.user_id, 0), award.max_entries_per_author,
                co_author=None if author.user_id == entry.submitter_id else author.full_name)


def _clean_co_authors(co_authors: list[CoAuthorIn]) -> tuple[list[dict | None], list]:
    """The co-author rows cleaned, in the form's order (None: an empty row, skipped), and
    every row's problems, each on its own field (``co_authors.<row>.full_name`` …)."""
    rows: list[dict | None] = []
    problems = []
    for i, author in enumerate(co_authors):
        name = clean_line(author.full_name)
        pen = clean_line(author.pen_name)
        email = clean_line(author.email)
        if not (name or pen or email):
            rows.append(None)
            continue
        if not name:
            problems.append(Invalid(N_("Please enter this co-author's full name."),
                                    field=f"co_authors.{i}.full_name"))
        if email:
            try:
                email = normalize_email(email)
            except Invalid:
                problems.append(Invalid(N_("This is not a valid e-mail address. Correct it, "
                                           "or leave it empty if you do not know it."),
                                        field=f"co_authors.{i}.email"))
                email = None
        rows.append({"full_name": name, "pen_name": pen, "email": email})
    return rows, problems


def _co_author_problems(rows: list[dict | None], problems: list, *, user: User,
                        award: Award) -> list:
    return problems + collect(
        lambda: rules.check_author_count(1 + sum(r is not None for r in rows),
                                         award.max_authors_per_entry),
        lambda: rules.check_distinct_emails(user.email, [r and r["email"] for r in rows]))


def _field_problems(values: dict, award: Award) -> list:
    """Every problem of the entry's own fields (``values``: all of them, cleaned)."""
    def required(name: str, message: str):
        def check():
            if not values.get(name):
                raise Invalid(message, field=name)
        return check

    return collect(
        required("title", N_("Please enter the title of the work.")),
        required("outlet", N_("Please enter the press outlet that published the work.")),
        lambda: rules.check_publication_date(values.get("published_on"), award.published_from,
                                             award.published_to),
        lambda: rules.check_series_parts(values.get("series_parts"), award.max_series_parts),
        lambda: rules.check_url(values.get("url"), required=False),
    )


def _clean_fields(values: dict) -> dict:
    values = dict(values)
    for name in ("title", "outlet", "url"):
        if name in values:
            values[name] = clean_line(values[name])
    if "summary" in values:
        values["summary"] = nfc(values["summary"] or "").strip()
    if values.get("series_parts") == 1:
        values["series_parts"] = None
    return values


def _apply_fields(entry: Entry, values: dict) -> None:
    for name, value in values.items():
        setattr(entry, name, value)


def _category_problems(session: Session, award: Award, category_id: int | None,
                       entry: Entry | None) -> list:
    def check():
        if entry is not None and (category_id is None or category_id == entry.category_id):
            return
        if entry is not None and entry.code:
            raise Conflict(N_("The category cannot change once the entry has a code."),
                           field="category_id")
        category = _category_of(session, award, category_id or 0)
        if entry is not None:
            _check_files_fit(entry, category)
    return collect(check)


def _problems(session: Session, award: Award, data: EntryCreate | EntryUpdate, *, user: User,
              entry: Entry | None) -> tuple[dict, list[dict | None] | None, list]:
    """Checks a whole form at once: (cleaned field values to set, co-author rows or None
    when unchanged, every problem). Nothing is changed."""
    values = _clean_fields(data.model_dump(exclude_unset=entry is not None,
                                           exclude={"category_id", "co_authors"}))
    current = {} if entry is None else {
        name: getattr(entry, name)
        for name in ("title", "outlet", "published_on", "series_parts", "url")}
    problems = _category_problems(session, award, data.category_id, entry)
    problems += _field_problems({**current, **values}, award)
    rows = None
    if data.co_authors is not None:
        rows, row_problems = _clean_co_authors(data.co_authors)
        problems += _co_author_problems(rows, row_problems, user=user, award=award)
    return values, rows, problems


def check_entry(session: Session, award: Award, data: EntryCreate | EntryUpdate, *,
                user: User, entry: Entry | None = None) -> list:
    """Every problem of a form for a new entry (``entry`` None) or a change to ``entry``,
    without changing anything: a page reports them all at once, beside their fields."""
    return _problems(session, award, data, user=user, entry=entry)[2]


def _verified_accounts(session: Session, co_authors: list[dict]) -> dict[str, int]:
    """{address: account id} for the co-authors' addresses that belong to an account which
    proved them (one query): those lines are linked. An unverified account holding an
    address is never matched."""
    emails = [c["email"] for c in co_authors if c["email"]]
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
    prepare a draft (it cannot submit it). Every invalid field is reported at once."""
    if user.role != Role.journalist:
        raise Conflict(N_("Only journalists' accounts can submit entries."))
    values, rows, problems = _problems(session, award, data, user=user, entry=None)
    raise_all(problems)
    co_authors = [r for r in rows if r is not None]
    accounts = _verified_accounts(session, co_authors)
    people = {user.id, *accounts.values()}
    _lock_people(session, people)
    award = _award_shared(session, award.id)
    rules.check_award_open(award.status)
    category = _category_of(session, award, data.category_id)
    entry = Entry(award_id=award.id, category_id=category.id, submitter_id=user.id,
                  created_at=now, updated_at=now, title="", outlet="",
                  published_on=data.published_on)
    _apply_fields(entry, values)
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
    Every invalid field is reported at once.

    A co-author newly linked by this change counts it towards their limit at once (as at
    creation); those already linked are checked again at submission."""
    require_submitter(entry, user)
    award = session.get(Award, entry.award_id)
    co_authors = None
    if data.co_authors is not None:
        rows, _ = _clean_co_authors(data.co_authors)
        co_authors = [r for r in rows if r is not None]
        accounts = _verified_accounts(session, co_authors)
        _lock_people(session, {user.id, *accounts.values()})
    award = _award_shared(session, entry.award_id)
    lock(session, entry)
    rules.check_editable(entry.status)
    rules.check_not_stale(opened_at, entry.updated_at)
    values, _, problems = _problems(session, award, data, user=user, entry=entry)
    raise_all(problems)
    if data.category_id is not None:
        values["category_id"] = data.category_id
    before = {k: getattr(entry, k) for k in values}
    authors_before = _author_names(entry)
    _apply_fields(entry, values)
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
    if co_authors is not None and authors_before != _author_names(entry):
        changes["authors"] = [authors_before, _author_names(entry)]
    if changes:  # a save that changed nothing (a submit's own save) leaves no empty line
        audit.record(session, actor=user, action="entry.update", obj=entry, changes=changes)
    return entry


def delete_draft(session: Session, entry_id: int, *, user: User, now: datetime) -> None:
    """Its submitter deletes a draft: the row and its authors and files go, the files'
    bytes leave storage once the deletion has committed, and the audit log keeps a record
    (code-less drafts are named by their title). Anything but a draft: 409."""
    entry = own_entry(session, entry_id, user=user)
    if entry.status != EntryStatus.draft:
        raise Conflict(N_("Only a draft can be deleted; a submitted entry can be withdrawn "
                          "instead."))
    stored = [f.stored_name for f in entry.files]
    audit.record(session, actor=user, action="entry.delete", obj=entry,
                 changes={"status": [entry.status, None], "title": entry.title,
                          "files": [f.filename for f in entry.files]})
    session.delete(entry)
    session.flush()
    storage = get_storage()
    after_commit(session, lambda: [storage.delete(name) for name in stored])


def _author_names(entry: Entry) -> list[str]:
    """The authors as the audit log records them: "Full name (pen name)", in order."""
    return [f"{a.full_name} ({a.pen_name})" if a.pen_name else a.full_name
            for a in entry.authors]


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
                          kinds=category.accepted_kinds, max_bytes=category.max_file_mb * rules.MB,
                          category=category.name)


def move(session: Session, entry: Entry, action: EntryAction, *, actor: User,
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
    code, and mails the receipt and the co-authors' notices (``move``).

    Locks the submitter and every linked co-author (id order) before counting their
    entries: parallel submissions cannot pass one person's limit together."""
    require_submitter(entry, user)
    locked = _linked_people(entry)
    _lock_people(session, locked)
    award = _award_shared(session, entry.award_id)
    lock(session, entry)
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
    # A returned entry sent again: the organizer's reason belongs to its history (the audit
    # record of the return), no longer to what the entry is now.
    entry.screening_reason = None
    return move(session, entry, EntryAction.submit, actor=user, now=now,
                        changes={"code": entry.code})


def withdraw_entry(session: Session, entry: Entry, *, user: User, now: datetime,
                   reason: str | None = None) -> Entry:
    require_submitter(entry, user)
    award = _award_shared(session, entry.award_id)
    lock(session, entry)
    rules.check_transition(entry.status, EntryAction.withdraw, role=user.role)
    rules.check_withdrawable(award.status)
    reason = clean_line(reason)
    return move(session, entry, EntryAction.withdraw, actor=user, now=now,
                        reason=reason)


def screen_entry(session: Session, entry: Entry, *, decision: str, reason: str | None,
                 actor: User, now: datetime) -> Entry:
    """The organizer accepts, returns (with a reason the author sees) or rejects an entry;
    the submitter is told by mail (``move``)."""
    reason = audit.clean_reason(reason)
    lock(session, entry)
    rules.check_transition(entry.status, decision, role=actor.role, reason=reason)
    entry.screening_reason = reason
    return move(session, entry, EntryAction(decision), actor=actor, now=now,
                        reason=reason)
