from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel
from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel, Text

from app import bounds
from app.db import MAX_ID, UTCDateTime, utcnow
from app.entries.rules import EntryStatus


class EntryFields(bounds.NFCInput):
    title: str = Field(max_length=bounds.TITLE)
    summary: str = Field(default="", sa_type=Text, max_length=bounds.LONG_TEXT)
    outlet: str = Field(max_length=bounds.OUTLET)
    published_on: date
    url: str | None = Field(default=None, max_length=bounds.URL)
    series_parts: int | None = None


# The organizer's list sorts (queries.SORTS) by these keys; each has an index per filter
# (award[, status][, category], key, id), so that any page of any list reads its rows in
# order from an index instead of sorting the award. The code sort starts with the category.
LIST_SORT_KEYS = {"author": "author_sort", "title": "title_sort", "newest": "created_at"}


def _list_indexes() -> tuple[Index, ...]:
    indexes = [Index("ix_entry_list_code", "award_id", "category_id", "code", "id"),
               Index("ix_entry_list_status_code", "award_id", "status", "category_id", "code",
                     "id")]
    for sort, key in LIST_SORT_KEYS.items():
        indexes += [
            Index(f"ix_entry_list_{sort}", "award_id", key, "id"),
            Index(f"ix_entry_list_status_{sort}", "award_id", "status", key, "id"),
            Index(f"ix_entry_list_category_{sort}", "award_id", "category_id", key, "id"),
            Index(f"ix_entry_list_status_category_{sort}", "award_id", "status", "category_id",
                  key, "id"),
        ]
    return tuple(indexes)


class Entry(EntryFields, table=True):
    __table_args__ = (UniqueConstraint("award_id", "code", name="uq_entry_award_code"),
                      *_list_indexes())

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    category_id: int = Field(foreign_key="category.id", index=True, ondelete="RESTRICT")
    submitter_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    status: str = Field(default=EntryStatus.draft, max_length=20, index=True)
    code: str | None = Field(default=None, max_length=20)
    screening_reason: str | None = Field(default=None, sa_type=Text)
    # Folded (no diacritics, lower-case) title, authors and code, for search.
    search_text: str = Field(default="", sa_type=Text)
    # Vietnamese-order key of the first author's name and of the title, for sorting in SQL.
    author_sort: str = Field(default="", max_length=600)
    title_sort: str = Field(default="", max_length=1200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    authors: list["EntryAuthor"] = Relationship(
        sa_relationship_kwargs={"order_by": "EntryAuthor.position",
                                "cascade": "all, delete-orphan"})
    files: list["EntryFile"] = Relationship(
        sa_relationship_kwargs={"order_by": "EntryFile.id", "cascade": "all, delete-orphan"})


class EntryAuthor(SQLModel, table=True):
    __tablename__ = "entry_author"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True, ondelete="CASCADE")
    position: int = 0
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True,
                                ondelete="SET NULL")
    full_name: str = Field(max_length=200)
    pen_name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320, index=True)
    # When the co-author was told by mail that they were listed (once per entry and address).
    notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EntryFile(SQLModel, table=True):
    __tablename__ = "entry_file"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", index=True, ondelete="CASCADE")
    stored_name: str = Field(max_length=64, unique=True)
    filename: str = Field(max_length=255)
    size: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=10)
    content_type: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class EntryCount(SQLModel, table=True):
    """How many entries an award has per (category, status): the lists' totals and the
    overview's counts, without counting the award's rows on each request. Kept by
    app.entries.counts in the same transaction as every change of an entry."""
    __tablename__ = "entry_count"

    award_id: int = Field(foreign_key="award.id", primary_key=True, ondelete="CASCADE")
    category_id: int = Field(foreign_key="category.id", primary_key=True, ondelete="CASCADE")
    status: str = Field(max_length=20, primary_key=True)
    n: int = 0


class CoAuthorIn(bounds.NFCInput):
    full_name: str = Field(max_length=bounds.NAME)
    pen_name: str | None = Field(default=None, max_length=bounds.NAME)
    email: str | None = Field(default=None, max_length=bounds.EMAIL)


CoAuthors = Annotated[list[CoAuthorIn], Field(max_length=50)]


class EntryCreate(EntryFields):
    published_on: bounds.CalendarDate
    series_parts: bounds.Count | None = None
    category_id: int = Field(ge=1, le=MAX_ID)
    co_authors: CoAuthors = []


class EntryUpdate(bounds.NFCInput):
    category_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    title: str | None = Field(default=None, max_length=bounds.TITLE)
    summary: str | None = Field(default=None, max_length=bounds.LONG_TEXT)
    outlet: str | None = Field(default=None, max_length=bounds.OUTLET)
    published_on: bounds.CalendarDate | None = None
    url: str | None = Field(default=None, max_length=bounds.URL)
    series_parts: bounds.Count | None = None
    co_authors: CoAuthors | None = None


class ScreenIn(bounds.NFCInput):
    decision: str = Field(max_length=bounds.SHORT_CODE)
    reason: str | None = Field(default=None, max_length=bounds.LONG_TEXT)


class AuthorPublic(BaseModel):
    full_name: str
    pen_name: str | None
    email: str | None
    is_submitter: bool
    # Linked to an account that proved this address: that person sees the entry.
    linked: bool


class FilePublic(BaseModel):
    id: int
    filename: str
    size: int = Field(sa_type=BigInteger)
    sha256: str
    kind: str
    content_type: str
    created_at: datetime


class DuplicatePublic(BaseModel):
    file_id: int
    sha256: str
    other_entry_id: int
    other_code: str | None
    other_title: str


class EntryOutcome(BaseModel):
    """An entry's outcome as its authors see it once the award is published (never
    before): ``awarded`` with its level and the certificate's verification address, or
    ``not_awarded``."""
    status: Literal["awarded", "not_awarded"]
    level: Literal["DB", "A", "B", "C", "KK"] | None = None
    certificate_url: str | None = None


class EntryPublic(EntryFields):
    id: int
    award_id: int
    category_id: int
    status: str
    code: str | None
    screening_reason: str | None
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    authors: list[AuthorPublic] = []
    files: list[FilePublic] = []
    # The caller's part in the entry: "submitter" (may change it), "co_author" (reads it),
    # None (an organizer).
    viewer_role: Literal["submitter", "co_author"] | None = None
    # Judging's outcome: null until the award's results are published.
    outcome: EntryOutcome | None = None


class EntryOrganizerView(EntryPublic):
    submitter_id: int
    duplicates: list[DuplicatePublic] = []
    flags: list[str] = []


class JudgeAuthor(BaseModel):
    full_name: str
    pen_name: str | None


class JudgeFile(BaseModel):
    """A file as a judge sees it: in a blind round ``name`` is ``<code>-<n>.<ext>``."""
    id: int
    name: str
    size: int
    kind: str
    content_type: str


class EntryJudgeView(BaseModel):
    """The entry as a judge sees it. ``authors`` is null in a blind round."""
    id: int
    code: str | None
    title: str
    category_id: int
    category: str
    summary: str
    outlet: str
    published_on: date
    url: str | None
    series_parts: int | None
    blind: bool
    authors: list[JudgeAuthor] | None
    files: list[JudgeFile]

# The per-(award, category, status) counts follow every change of an entry (a flush listener).
from app.entries import counts as _counts  # noqa: E402, F401
