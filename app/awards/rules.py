"""Award rules: the award's state machine, and what a valid award and category are."""

import re
from datetime import date, datetime
from enum import StrEnum

from app.errors import N_, Conflict, Invalid
from app.text import slugify


class AwardStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"
    judging = "judging"
    published = "published"


# The only moves an award can make. Anything else is refused with 409.
AWARD_TRANSITIONS: dict[AwardStatus, frozenset[AwardStatus]] = {
    AwardStatus.draft: frozenset({AwardStatus.open}),
    AwardStatus.open: frozenset({AwardStatus.closed}),
    # Back to open (a new, later deadline) until judging starts: see check_reopen.
    AwardStatus.closed: frozenset({AwardStatus.judging, AwardStatus.open}),
    AwardStatus.judging: frozenset({AwardStatus.published}),
    AwardStatus.published: frozenset(),
}

STATUS_LABELS = {
    AwardStatus.draft: N_("Draft"),
    AwardStatus.open: N_("Open for entries"),
    AwardStatus.closed: N_("Closed for entries"),
    AwardStatus.judging: N_("Judging"),
    AwardStatus.published: N_("Results published"),
}


# Each move named by what it does (the buttons say this, not the next status).
MOVE_LABELS: dict[tuple[AwardStatus, AwardStatus], str] = {
    (AwardStatus.draft, AwardStatus.open): N_("Open submissions"),
    (AwardStatus.open, AwardStatus.closed): N_("Close submissions"),
    (AwardStatus.closed, AwardStatus.open): N_("Reopen submissions"),
    (AwardStatus.closed, AwardStatus.judging): N_("Start judging"),
    (AwardStatus.judging, AwardStatus.published): N_("Publish the results"),
}
# Moves that ask first on a confirmation page saying what follows (publishing has its own).
ASKS_FIRST = frozenset({(AwardStatus.open, AwardStatus.closed),
                        (AwardStatus.closed, AwardStatus.judging),
                        (AwardStatus.judging, AwardStatus.published)})


def award_actions(status: str) -> list[dict]:
    """The moves offered from ``status``, in the order shown: the one that can be undone
    first, the ones that cannot (``danger``) after it."""
    moves = [(AwardStatus(status), target) for target in AWARD_TRANSITIONS[AwardStatus(status)]]
    moves.sort(key=lambda move: (move in ASKS_FIRST, move[1]))
    return [{"target": target.value, "label": MOVE_LABELS[(source, target)],
             "danger": (source, target) in ASKS_FIRST,
             "reopen": is_reopening(source, target)} for source, target in moves]


def check_award_transition(current: str, target: str, *, category_count: int,
                           window_set: bool = True) -> AwardStatus:
    try:
        target_status = AwardStatus(target)
    except ValueError:
        raise Invalid(N_("Unknown award status."), field="status") from None
    if target_status == AwardStatus.open and current in (AwardStatus.judging,
                                                         AwardStatus.published):
        raise Conflict(N_("Submissions cannot be reopened once judging has started."))
    if target_status not in AWARD_TRANSITIONS[AwardStatus(current)]:
        raise Conflict(
            N_("An award cannot move from “{current}” to “{target}”."),
            current=[STATUS_LABELS[AwardStatus(current)]],
            target=[STATUS_LABELS[target_status]],
        )
    if target_status == AwardStatus.open and category_count == 0:
        raise Conflict(N_("Add at least one category before opening the award."))
    if target_status == AwardStatus.open and not window_set:
        raise Conflict(N_("Set the submission window before opening the award."))
    return target_status


def is_reopening(current: str, target: str) -> bool:
    return current == AwardStatus.closed and target == AwardStatus.open


def check_reopen(closes: datetime | None, now: datetime) -> None:
    """Submissions reopen only towards a closing time still ahead: otherwise the award
    would be open with its deadline already passed."""
    if closes is None or closes <= now:
        raise Invalid(N_("To reopen submissions, set a new closing time in the future."),
                      field="submission_closes_at")


class Phase(StrEnum):
    """What the public sees of an award: its status read against the submission window."""
    draft = "draft"
    upcoming = "upcoming"
    open = "open"
    ended = "ended"
    closed = "closed"
    judging = "judging"
    published = "published"


PHASE_LABELS = {
    Phase.draft: N_("Draft"),
    Phase.upcoming: N_("Opening soon"),
    Phase.open: N_("Open for entries"),
    Phase.ended: N_("Submissions have ended"),
    Phase.closed: N_("Closed for entries"),
    Phase.judging: N_("Judging"),
    Phase.published: N_("Results published"),
}


def phase(status: str, opens: datetime | None, closes: datetime | None,
          now: datetime) -> Phase:
    """An open award is "opening soon" before its window, open inside it and "ended"
    after it, whatever its stored status says; the other statuses are what they are."""
    if status != AwardStatus.open:
        return Phase(status)
    if opens is not None and now < opens:
        return Phase.upcoming
    if closes is not None and now >= closes:
        return Phase.ended
    return Phase.open


def phase_of(award, now: datetime) -> Phase:
    """``phase`` of an award row."""
    return phase(award.status, award.submission_opens_at, award.submission_closes_at, now)


def award_slug(title: str | None, year: int, *, limit: int = 120) -> str:
    """The award's address made from its title, with the year once ("Giải báo chí tỉnh X
    năm 2026" + 2026 → "giai-bao-chi-tinh-x-nam-2026"), cut at a word to fit ``limit``."""
    words = [w for w in slugify(title or "").split("-") if w]
    suffix = [] if str(year) in words else [str(year)]
    room = limit - sum(len(w) + 1 for w in suffix)
    kept: list[str] = []
    for word in words:
        if sum(len(w) + 1 for w in kept) + len(word) > room:
            break
        kept.append(word)
    return "-".join(kept + suffix) or str(year)


# What the published results, their files and the certificates print: fixed once published.
FROZEN_WHEN_PUBLISHED = frozenset({"title", "year", "slug", "timezone", "special_prize_quota"})


def check_published_changes(status: str, changed: set[str]) -> None:
    if status == AwardStatus.published and changed & FROZEN_WHEN_PUBLISHED:
        raise Conflict(N_("The results are published: the award's title, year, address, time "
                          "zone and special prizes can no longer change."))


class FileKind(StrEnum):
    pdf = "pdf"
    image = "image"
    audio = "audio"
    video = "video"


KIND_LABELS = {
    FileKind.pdf: N_("PDF documents"),
    FileKind.image: N_("Photos (JPEG, PNG, TIFF)"),
    FileKind.audio: N_("Audio (MP3, M4A, WAV)"),
    FileKind.video: N_("Video (MP4, MOV)"),
}

PRIZE_LEVELS = ("A", "B", "C", "KK")
PRIZE_LABELS = {
    "A": N_("A prize"),
    "B": N_("B prize"),
    "C": N_("C prize"),
    "KK": N_("Consolation prize"),
}

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
MAX_FILE_MB = 4096

LIMITS = {
    "max_entries_per_author": (1, 50),
    "max_authors_per_entry": (1, 50),
    "max_series_parts": (1, 100),
}


def check_slug(slug: str) -> str:
    if not SLUG_RE.match(slug) or len(slug) > 120:
        raise Invalid(
            N_("The address may contain only lower-case letters, digits and hyphens."),
            field="slug",
        )
    return slug


def check_timezone(name: str) -> str:
    from app.zones import known

    if not known(name):
        raise Invalid(N_("Unknown time zone."), field="timezone")
    return name


def check_award_fields(
    *,
    title: str | None,
    year: int,
    opens: datetime | None,
    closes: datetime | None,
    published_from: date | None,
    published_to: date | None,
    limits: dict[str, int],
) -> None:
    """Everything that must hold of an award's settings, whichever of them changed."""
    if not title:
        raise Invalid(N_("Please enter the award's title."), field="title")
    if not 2000 <= year <= 2100:
        raise Invalid(N_("The year must be between 2000 and 2100."), field="year")
    if opens and closes and opens >= closes:
        raise Invalid(
            N_("Submissions must close after they open."), field="submission_closes_at"
        )
    if published_from and published_to and published_from > published_to:
        raise Invalid(
            N_("The eligible publication period must end after it starts."),
            field="published_to",
        )
    for name, (low, high) in LIMITS.items():
        value = limits[name]
        if not low <= value <= high:
            raise Invalid(
                N_("This limit must be between {low} and {high}."), field=name, low=low, high=high
            )


def check_category_fields(
    *, code: str, name: str | None, kinds: list[str], max_file_mb: int, quota: dict[str, int]
) -> None:
    if not CODE_RE.match(code):
        raise Invalid(
            N_("The code must be 1 to 10 capital letters or digits, starting with a letter."),
            field="code",
        )
    if not name:
        raise Invalid(N_("Please enter the category's name."), field="name")
    if not kinds:
        raise Invalid(N_("Choose at least one accepted file kind."), field="accepted_kinds")
    unknown = [k for k in kinds if k not in FileKind.__members__]
    if unknown:
        raise Invalid(
            N_("Unknown file kind: {kinds}."), field="accepted_kinds", kinds=", ".join(unknown)
        )
    if not 1 <= max_file_mb <= MAX_FILE_MB:
        raise Invalid(
            N_("The size limit must be between 1 and {high} MB."),
            field="max_file_mb",
            high=MAX_FILE_MB,
        )
    for level, count in quota.items():
        if level not in PRIZE_LEVELS:
            raise Invalid(N_("Unknown prize level: {level}."), field="prize_quota", level=level)
        if not 0 <= count <= 100:
            raise Invalid(
                N_("A prize quota must be between 0 and 100."), field="prize_quota"
            )


def category_editable(status: str) -> bool:
    """Categories are set up before and during submissions, and frozen once they close."""
    return status in (AwardStatus.draft, AwardStatus.open)
