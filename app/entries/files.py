"""An entry's files: upload limits, attaching a stored file, deleting, and finding a file
the viewer may download."""

import logging
from datetime import datetime
from sqlmodel import Session, select
from app.accounts.models import User
from app.audit import service as audit
from app.awards.models import Category
from app.awards.rules import KIND_LABELS
from app.db import after_commit, after_rollback
from app.entries import rules
from app.entries.models import (
    EntryFile,
)
from app.entries.access import require_submitter
from app.entries.queries import get_entry
from app.entries.writes import own_entry
from app.accounts.rules import Role
from app.judging import queries as judging
from app.errors import N_, NotFound, TooLarge, UnsupportedKind
from app.storage import StoredFile, download_name, get_storage




logger = logging.getLogger("giaibao")


def upload_limits(session: Session, entry_id: int, *, user: User) -> tuple[int, list[str]]:
    """Checks that the user may add a file now and gives (max bytes, accepted kinds).
    A full entry is refused here, before any byte is read.

    Then ends the read transaction, so that no database transaction (nor SQLite's write
    lock) stays open while a large file streams in.
    """
    entry = get_entry(session, entry_id, viewer=user)  # checked again, locked, on attaching
    require_submitter(entry, user)
    rules.check_editable(entry.status)
    rules.check_room_for_file(len(entry.files))
    category = session.get(Category, entry.category_id)
    limits = (category.max_file_mb * rules.MB, list(category.accepted_kinds))
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
    entry = own_entry(session, entry_id, user=user)
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
    entry = own_entry(session, entry_id, user=user)
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


def get_file(session: Session, file_id: int, *, viewer: User) -> tuple[EntryFile, str]:
    """A file the viewer may download, and the name it is served under: its authors and
    organizers get its name (a judge too, for their own entries); a judge the files of
    entries assigned to them, named ``<code>-<n>.<ext>`` in a blind round. Anyone else:
    404. Its bytes missing from storage (a restored backup without its files, a folder
    lost) is a 404 that says so, logged for the operator."""
    row = session.get(EntryFile, file_id)
    judged = row is not None and viewer.role == Role.judge \
        and judging.judge_file_access(session, row.entry_id, viewer) is not None
    if judged:
        row, name = judging.judge_file(session, file_id, viewer)
    else:
        if row is None:
            raise NotFound(N_("No such file."))
        try:
            get_entry(session, row.entry_id, viewer=viewer)
        except NotFound:
            raise NotFound(N_("No such file.")) from None
        name = row.filename
    if not get_storage().exists(row.stored_name):
        logger.error("stored file %s of entry file %s is missing", row.stored_name, row.id)
        raise NotFound(N_("The contents of this file cannot be found on the server. Please "
                          "tell the organizer."))
    return row, name


def refuse_size(max_bytes: int) -> TooLarge:
    return TooLarge(N_("The file is larger than this category allows ({mb} MB)."),
                    mb=max_bytes // rules.MB)


def refuse_kind(kinds: list[str]) -> UnsupportedKind:
    return UnsupportedKind(
        N_("This kind of file is not accepted here. Accepted: {kinds}."),
        kinds=[KIND_LABELS[k] for k in sorted(kinds)])


def referenced_files(session: Session) -> set[str]:
    return set(session.exec(select(EntryFile.stored_name)).all())
