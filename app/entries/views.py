"""What each audience sees of an entry. Every shape names the fields it keeps: a column
added to ``Entry`` reaches nobody until a view here lists it, and a judge's view of a blind
round has no field that could carry an author's name (not even a file's original name).

Pages and API answers are built from these shapes, never from rows.
"""

from pathlib import PurePosixPath

from pydantic_core import to_json
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.rules import Role
from app.entries.access import viewer_role
from app.entries.models import (
    AuthorPublic,
    DuplicatePublic,
    Entry,
    EntryFile,
    EntryJudgeView,
    EntryOrganizerView,
    EntryOutcome,
    EntryPublic,
    FilePublic,
    JudgeAuthor,
    JudgeFile,
)
from app.entries.queries import duplicates_for
from app.results.outcomes import outcome_for, outcomes_for


def _authors(entry: Entry) -> list[AuthorPublic]:
    return [AuthorPublic(full_name=a.full_name, pen_name=a.pen_name, email=a.email,
                         is_submitter=a.user_id == entry.submitter_id and a.position == 0,
                         linked=a.user_id is not None)
            for a in entry.authors]


def _files(entry: Entry) -> list[FilePublic]:
    return [FilePublic(id=f.id, filename=f.filename, size=f.size, sha256=f.sha256,
                       kind=f.kind, content_type=f.content_type, created_at=f.created_at)
            for f in entry.files]


def _entry_fields(entry: Entry) -> dict:
    return {
        "id": entry.id, "award_id": entry.award_id, "category_id": entry.category_id,
        "status": entry.status, "code": entry.code, "title": entry.title,
        "summary": entry.summary, "outlet": entry.outlet, "published_on": entry.published_on,
        "url": entry.url, "series_parts": entry.series_parts,
        "screening_reason": entry.screening_reason, "created_at": entry.created_at,
        "updated_at": entry.updated_at, "submitted_at": entry.submitted_at,
    }


def for_author(entry: Entry, viewer: User | None = None, *,
               outcome: EntryOutcome | None = None) -> EntryPublic:
    """The entry as its authors see it: their own words, files and screening outcome.
    Judging's ``outcome`` is not an entry field: it is given only by ``view_for`` and
    ``for_authors``, from results.outcomes, which is empty until the award is published."""
    return EntryPublic(**_entry_fields(entry), authors=_authors(entry), files=_files(entry),
                       viewer_role=viewer_role(entry, viewer), outcome=outcome)


def for_authors(session: Session, entries: list[Entry], viewer: User) -> list[EntryPublic]:
    """The author's list of entries, each with its published outcome (a fixed number of
    queries, whatever the number of entries)."""
    outcomes = outcomes_for(session, entries)
    return [for_author(e, viewer, outcome=outcomes.get(e.id)) for e in entries]


def for_organizer(entry: Entry, duplicates: list[DuplicatePublic], *,
                  outcome: EntryOutcome | None = None) -> EntryOrganizerView:
    flags = [f"duplicate file: same SHA-256 as {d.other_code or f'entry #{d.other_entry_id}'}"
             for d in duplicates]
    return EntryOrganizerView(**_entry_fields(entry), authors=_authors(entry),
                              files=_files(entry), submitter_id=entry.submitter_id,
                              duplicates=duplicates, flags=flags, outcome=outcome)


def judge_file_name(code: str | None, position: int, original: str) -> str:
    """``<code>-<n>.<ext>``: the name a judge of a blind round gets for the entry's n-th
    file (the extension is the one the sniffed content was given at upload)."""
    suffix = PurePosixPath(original).suffix.lower()
    return f"{code or 'entry'}-{position}{suffix}"


def judge_file_names(entry: Entry, *, blind: bool) -> dict[int, str]:
    """{file id: the name the judge sees}, positions counted in upload order."""
    return {f.id: judge_file_name(entry.code, n, f.filename) if blind else f.filename
            for n, f in enumerate(entry.files, start=1)}


def for_judge(entry: Entry, *, blind: bool, category: str) -> EntryJudgeView:
    """What a judge needs to score the work. In a blind round: no author, pen name, e-mail,
    submitter, nor original file name — only the code, the work and its files by position."""
    names = judge_file_names(entry, blind=blind)
    return EntryJudgeView(
        id=entry.id, code=entry.code, title=entry.title, category_id=entry.category_id,
        category=category, summary=entry.summary, outlet=entry.outlet,
        published_on=entry.published_on, url=entry.url, series_parts=entry.series_parts,
        blind=blind,
        authors=None if blind else [JudgeAuthor(full_name=a.full_name, pen_name=a.pen_name)
                                    for a in entry.authors],
        files=[JudgeFile(id=f.id, name=names[f.id], size=f.size, kind=f.kind,
                         content_type=f.content_type) for f in entry.files],
    )


def file_name_for(row: EntryFile, entry: Entry, *, blind: bool) -> str:
    return judge_file_names(entry, blind=blind)[row.id]


def view_for(session: Session, entry: Entry, viewer: User) -> EntryPublic:
    """The author's or the organizer's view (judges' views are built by judging, which
    knows the round)."""
    outcome = outcome_for(session, entry)
    if viewer.role == Role.organizer:
        return for_organizer(entry, duplicates_for(session, [entry]).get(entry.id, []),
                             outcome=outcome)
    return for_author(entry, viewer, outcome=outcome)


def organizer_rows(entries: list[Entry],
                   duplicates: dict[int, list[DuplicatePublic]]) -> list[dict]:
    """The organizer's list as plain values, field for field (and in the same order) what
    ``for_organizer`` gives without an outcome: the list's answer is built once from the
    rows and encoded once (``organizer_list_json``), with no model in between."""
    rows = []
    for e in entries:
        found = duplicates.get(e.id, [])
        rows.append({
            "title": e.title, "summary": e.summary, "outlet": e.outlet,
            "published_on": e.published_on, "url": e.url, "series_parts": e.series_parts,
            "id": e.id, "award_id": e.award_id, "category_id": e.category_id,
            "status": e.status, "code": e.code, "screening_reason": e.screening_reason,
            "created_at": e.created_at, "updated_at": e.updated_at,
            "submitted_at": e.submitted_at,
            "authors": [{"full_name": a.full_name, "pen_name": a.pen_name, "email": a.email,
                         "is_submitter": a.user_id == e.submitter_id and a.position == 0,
                         "linked": a.user_id is not None} for a in e.authors],
            "files": [{"id": f.id, "filename": f.filename, "size": f.size, "sha256": f.sha256,
                       "kind": f.kind, "content_type": f.content_type,
                       "created_at": f.created_at} for f in e.files],
            "viewer_role": None, "outcome": None, "submitter_id": e.submitter_id,
            "duplicates": [{"file_id": d.file_id, "sha256": d.sha256,
                            "other_entry_id": d.other_entry_id, "other_code": d.other_code,
                            "other_title": d.other_title} for d in found],
            "flags": [f"duplicate file: same SHA-256 as "
                      f"{d.other_code or f'entry #{d.other_entry_id}'}" for d in found],
        })
    return rows


def organizer_list_json(entries: list[Entry],
                        duplicates: dict[int, list[DuplicatePublic]]) -> bytes:
    """``list[EntryOrganizerView]`` as JSON, the same bytes FastAPI's response model gives."""
    return to_json(organizer_rows(entries, duplicates))
