"""Entry rules: the entry state machine (one table), limits, windows and codes.

Pure functions: ``now`` and every fact they need are passed in, so they are tested without
a database.
"""

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from app.accounts.rules import Role
from app.errors import N_, Conflict, Forbidden, Invalid, raise_all


MB = 1024 * 1024


class EntryStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"
    rejected = "rejected"
    withdrawn = "withdrawn"


class EntryAction(StrEnum):
    submit = "submit"
    withdraw = "withdraw"
    accept = "accept"
    return_ = "return"
    reject = "reject"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[EntryStatus]
    target: EntryStatus
    role: Role
    reason_required: bool = False
    # The mail (app/mail templates) the submitter receives after the move, if any.
    mail: str | None = None


S = EntryStatus
# Every move an entry can make, who may make it, whether it needs a reason, and the mail
# the submitter then receives. Judging outcomes (in a round, shortlisted, a prize) are not
# entry statuses: they live in the judging and results tables, sealed from the authors.
ENTRY_TRANSITIONS: dict[EntryAction, Transition] = {
    EntryAction.submit: Transition(frozenset({S.draft, S.returned}), S.submitted, Role.journalist,
                                   mail="entry_receipt"),
    EntryAction.withdraw: Transition(frozenset({S.submitted, S.accepted}), S.withdrawn,
                                     Role.journalist),
    EntryAction.accept: Transition(frozenset({S.submitted}), S.accepted, Role.organizer,
                                   mail="entry_accepted"),
    EntryAction.return_: Transition(frozenset({S.submitted}), S.returned, Role.organizer,
                                    reason_required=True, mail="entry_returned"),
    EntryAction.reject: Transition(frozenset({S.submitted}), S.rejected, Role.organizer,
                                   reason_required=True, mail="entry_rejected"),
}

STATUS_LABELS = {
    S.draft: N_("Draft"),
    S.submitted: N_("Submitted"),
    S.accepted: N_("Accepted"),
    S.returned: N_("Returned for changes"),
    S.rejected: N_("Rejected"),
    S.withdrawn: N_("Withdrawn"),
}

EDITABLE = frozenset({S.draft, S.returned})
# Entries in competition: another entry's file identical to one of theirs is a duplicate.
DUPLICATE_CANDIDATES = frozenset({S.submitted, S.accepted})
# Entries that no longer count towards the per-author limit.
NOT_COUNTED = frozenset({S.withdrawn, S.rejected})
# Award statuses in which judging has started: authors can no longer withdraw.
JUDGING_STARTED = frozenset({"judging", "published"})


def check_transition(status: str, action: EntryAction | str, *, role: str,
                     reason: str | None = None) -> EntryStatus:
    """The status an entry moves to, or the reason it cannot."""
    try:
        action = EntryAction(action)
    except ValueError:
        raise Invalid(N_("Unknown decision."), field="decision") from None
    rule = ENTRY_TRANSITIONS[action]
    if role != rule.role:
        raise Forbidden(N_("You do not have permission to do this."))
    if EntryStatus(status) not in rule.sources:
        raise Conflict(N_("This cannot be done to an entry that is “{status}”."),
                       status=[STATUS_LABELS[EntryStatus(status)]])
    if rule.reason_required and not (reason or "").strip():
        raise Invalid(N_("Please give a reason; the author will see it."), field="reason")
    return rule.target


def check_editable(status: str) -> None:
    if status not in EDITABLE:
        raise Conflict(N_("The entry can only be changed while it is a draft or returned."))


def check_not_stale(opened_at: datetime | None, updated_at: datetime) -> None:
    """A form opened on an older version of the entry must not overwrite a newer one."""
    if opened_at is not None and opened_at != updated_at:
        raise Conflict(N_("This entry was changed in another tab or window after you opened "
                          "this form, so your changes were not saved. Your text is kept below: "
                          "check it and save again."))


def check_award_open(award_status: str) -> None:
    if award_status != "open":
        raise Conflict(N_("This award is not accepting entries."))


def check_window(now: datetime, opens: datetime | None, closes: datetime | None) -> None:
    if opens is not None and now < opens:
        raise Conflict(N_("Submissions have not opened yet."))
    if closes is not None and now >= closes:
        raise Conflict(N_("The submission deadline has passed."))


def withdrawable(award_status: str) -> bool:
    """Authors may withdraw until judging starts (the page offers it only then)."""
    return award_status not in JUDGING_STARTED


def check_withdrawable(award_status: str) -> None:
    if not withdrawable(award_status):
        raise Conflict(N_("Entries cannot be withdrawn once judging has started."))


def check_publication_date(published_on: date | None, start: date | None,
                           end: date | None) -> None:
    if published_on is None:
        raise Invalid(N_("Please give the date the work was published or broadcast."),
                      field="published_on")
    if (start and published_on < start) or (end and published_on > end):
        raise Invalid(
            N_("The work must have been published between {start} and {end}."),
            field="published_on",
            start=start.strftime("%d/%m/%Y") if start else "…",
            end=end.strftime("%d/%m/%Y") if end else "…",
        )


def check_author_count(count: int, maximum: int) -> None:
    if count > maximum:
        raise Invalid(N_("An entry may have at most {n} authors."), field="co_authors", n=maximum)


def check_series_parts(parts: int | None, maximum: int) -> None:
    if parts is None:
        return
    if parts < 1:
        raise Invalid(N_("A series has at least one part."), field="series_parts")
    if parts > maximum:
        raise Invalid(N_("A series may have at most {n} parts."), field="series_parts", n=maximum)


def limit_reached(counted: int, maximum: int) -> bool:
    """Whether a person with ``counted`` entries in an award (as ``counted_entries`` counts
    them) may add no other: the page says so before a form is filled, the check refuses."""
    return counted >= maximum


def check_entry_limit(other_counted: int, maximum: int, *, co_author: str | None = None) -> None:
    """``other_counted``: a person's other entries in the award that still count, submitted
    or co-authored (as a linked account). ``co_author``: their name, when the person is not
    the one acting but a co-author listed on the entry."""
    if not limit_reached(other_counted, maximum):
        return
    if co_author is None:
        raise Conflict(
            N_("You already have {n} entries in this award, the most it allows."),
            field="category_id", n=maximum,
        )
    raise Conflict(
        N_("The co-author {name} already has {n} entries in this award (submitted or "
           "co-authored), the most it allows."),
        field="co_authors", name=co_author, n=maximum,
    )


def check_distinct_emails(own: str, co_author_emails: list[str | None]) -> None:
    """Each co-author's address (already normalised) is theirs alone: not the submitter's,
    not another co-author's, so that one account is never listed twice on an entry.
    ``co_author_emails`` follows the form's rows (None: no address); each repeated address
    is reported on its own row."""
    seen = {own}
    problems = []
    for row, email in enumerate(co_author_emails):
        if email is None:
            continue
        if email in seen:
            problems.append(Invalid(N_("Each co-author's e-mail address must be their own: not "
                                       "yours, and not another co-author's."),
                                    field=f"co_authors.{row}.email"))
        seen.add(email)
    raise_all(problems)


def check_may_submit(email_verified: bool) -> None:
    """Only a proven address grants the right to submit (drafts may be prepared before)."""
    if not email_verified:
        raise Forbidden(N_("Please confirm your e-mail address before submitting."))


def check_url(url: str | None, required: bool) -> None:
    if url and not url.startswith(("http://", "https://")):
        raise Invalid(N_("The link must start with http:// or https://."), field="url")
    if required and not url:
        raise Conflict(N_("This category needs a link to the published work."), field="url")


def check_has_files(count: int) -> None:
    if count == 0:
        raise Conflict(N_("Upload at least one file of the work before submitting."))


def check_files_fit(files: list[tuple[str, str, int]], *, kinds: list[str], max_bytes: int,
                    category: str) -> None:
    """Every file of the entry — (name, kind, size) — is of a kind the category accepts and
    within its size: checked when a draft moves to another category and again at submission
    (the organizer may have changed the category's rules meanwhile)."""
    misfits = [name for name, kind, size in files if kind not in kinds or size > max_bytes]
    if misfits:
        raise Conflict(
            N_("These files do not meet the rules of the category “{category}” (kind of file "
               "or size): {files}. Remove them, or choose another category."),
            field="category_id", category=category, files="; ".join(misfits))


MAX_FILES_PER_ENTRY = 20


def check_room_for_file(file_count: int) -> None:
    if file_count >= MAX_FILES_PER_ENTRY:
        raise Conflict(N_("An entry can hold at most {n} files."), field="file",
                       n=MAX_FILES_PER_ENTRY)


def check_new_file(existing_hashes: list[str], sha256: str) -> None:
    """A file may be attached once per entry, and an entry holds a bounded number of files."""
    if sha256 in existing_hashes:
        raise Conflict(N_("This file is already attached to the entry."), field="file")
    check_room_for_file(len(existing_hashes))


def entry_code(category_code: str, number: int) -> str:
    return f"{category_code}-{number:03d}"


# --- Keyset pagination of the organizer's list ---------------------------------------------

# The sort keys a cursor carries, per sort (queries.SORTS orders by them, then by id).
CURSOR_KEYS = {"code": ("category_id", "code", "id"), "author": ("author_sort", "id"),
               "title": ("title_sort", "id"), "newest": ("created_at", "id")}
_CURSOR_TYPES = {"category_id": int, "id": int, "code": (str, type(None)), "author_sort": str,
                 "title_sort": str, "created_at": str}


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _cursor_mac(payload: bytes, key: bytes) -> bytes:
    import hashlib
    import hmac

    return hmac.new(key, b"entry-list-cursor:" + payload, hashlib.sha256).digest()[:16]


# Ids and category ids a cursor may carry: what a 64-bit integer column holds.
_CURSOR_INT_MAX = 2**63 - 1


def encode_cursor(sort: str, values: tuple, *, key: bytes, scope: str = "") -> str:
    """An opaque, signed token naming the last row of a page: the next page starts after it.
    ``values`` are the row's CURSOR_KEYS of ``sort`` (a datetime as ISO text); ``scope``
    names the list it belongs to (award and filters), so that it is refused on another."""
    import json

    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    payload = json.dumps([sort, plain, scope], separators=(",", ":"),
                         ensure_ascii=False).encode()
    return f"{_b64(payload)}.{_b64(_cursor_mac(payload, key))}"


def decode_cursor(token: str, sort: str, *, key: bytes, scope: str = "") -> tuple:
    """The sort-key values a cursor carries (a datetime back as an aware datetime).
    Refused (Invalid, field ``cursor``) when it is garbled, forged (its signature does not
    match), made for another sort order, or for another list (``scope``: award, filters)."""
    import hmac
    import json

    garbled = Invalid(N_("This cursor is not valid: use the address given by the previous "
                         "page (Link or X-Next-Cursor)."), field="cursor")
    if not isinstance(token, str) or len(token) > 4096 or token.count(".") != 1:
        raise garbled
    body, mac = token.split(".")
    try:
        payload, signature = _unb64(body), _unb64(mac)
    except ValueError:
        raise garbled from None
    if not hmac.compare_digest(signature, _cursor_mac(payload, key)):
        raise garbled
    try:
        made_for, values, made_in = json.loads(payload)
    except (ValueError, TypeError):
        raise garbled from None
    if made_for != sort:
        raise Invalid(N_("This cursor belongs to another sort order."), field="cursor")
    if made_in != scope:
        raise Invalid(N_("This cursor belongs to another list (another award or other "
                         "filters): start again from the list's first page."), field="cursor")
    names = CURSOR_KEYS.get(sort)
    if names is None or not isinstance(values, list) or len(values) != len(names) or not all(
            isinstance(v, _CURSOR_TYPES[n]) and not isinstance(v, bool)
            for n, v in zip(names, values, strict=True)) or any(
            isinstance(v, int) and not 0 <= v <= _CURSOR_INT_MAX for v in values):
        raise garbled
    if sort == "newest":
        try:
            values[0] = datetime.fromisoformat(values[0])
        except ValueError:
            raise garbled from None
    return tuple(values)
