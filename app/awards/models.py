from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app.awards.rules import AwardStatus
from app.db import UTCDateTime, utcnow

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class AwardBase(SQLModel):
    title: str = Field(max_length=300)
    year: int
    rules: str = Field(default="", sa_type=Text)
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=64)
    submission_opens_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submission_closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_from: date | None = None
    published_to: date | None = None
    max_entries_per_author: int = 3
    max_authors_per_entry: int = 5
    max_series_parts: int = 5


class Award(AwardBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    status: str = Field(default=AwardStatus.draft, max_length=20, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AwardCreate(AwardBase):
    slug: str | None = None


class AwardUpdate(SQLModel):
    title: str | None = None
    year: int | None = None
    slug: str | None = None
    rules: str | None = None
    timezone: str | None = None
    submission_opens_at: datetime | None = None
    submission_closes_at: datetime | None = None
    published_from: date | None = None
    published_to: date | None = None
    max_entries_per_author: int | None = None
    max_authors_per_entry: int | None = None
    max_series_parts: int | None = None
    status: str | None = None
    reason: str | None = None


class AwardPublic(AwardBase):
    id: int
    slug: str
    status: str
    created_at: datetime
    updated_at: datetime


class CategoryBase(SQLModel):
    code: str = Field(max_length=10)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    accepted_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    max_file_mb: int = 100
    url_required: bool = False
    prize_quota: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )


class Category(CategoryBase, table=True):
    __table_args__ = (UniqueConstraint("award_id", "code", name="uq_category_award_code"),)

    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    position: int = 0
    # The last number given to an entry code of this category (BDT-007 -> 7).
    last_code_number: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class CategoryCreate(CategoryBase):
    pass


class CategoryUpdate(SQLModel):
    code: str | None = None
    name: str | None = None
    description: str | None = None
    accepted_kinds: list[str] | None = None
    max_file_mb: int | None = None
    url_required: bool | None = None
    prize_quota: dict[str, int] | None = None


class CategoryPublic(CategoryBase):
    id: int
    award_id: int
    position: int
