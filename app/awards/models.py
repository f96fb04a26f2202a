from datetime import date, datetime
from typing import Annotated

from sqlalchemy import UniqueConstraint
from sqlmodel import JSON, Column, Field, Text

from app import bounds
from app.awards.rules import AwardStatus
from app.db import UTCDateTime, utcnow

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class AwardBase(bounds.NFCInput):
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
    # Giải đặc biệt: how many special prizes the award gives across its categories (0: none).
    special_prize_quota: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class Award(AwardBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    status: str = Field(default=AwardStatus.draft, max_length=20, index=True)
    # When the results were published (set by results.service.after_publish).
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AwardCreate(AwardBase):
    title: str = Field(max_length=bounds.AWARD_TITLE)
    year: bounds.Count
    rules: str = Field(default="", max_length=bounds.RULES_TEXT)
    timezone: str = Field(default=DEFAULT_TIMEZONE, max_length=bounds.TIMEZONE)
    submission_opens_at: bounds.CalendarDateTime | None = None
    submission_closes_at: bounds.CalendarDateTime | None = None
    published_from: bounds.CalendarDate | None = None
    published_to: bounds.CalendarDate | None = None
    max_entries_per_author: bounds.Count = 3
    max_authors_per_entry: bounds.Count = 5
    max_series_parts: bounds.Count = 5
    special_prize_quota: int = Field(default=0, ge=0, le=1000)
    slug: str | None = Field(default=None, max_length=bounds.SLUG)


class AwardUpdate(bounds.NFCInput):
    title: str | None = Field(default=None, max_length=bounds.AWARD_TITLE)
    year: bounds.Count | None = None
    slug: str | None = Field(default=None, max_length=bounds.SLUG)
    rules: str | None = Field(default=None, max_length=bounds.RULES_TEXT)
    timezone: str | None = Field(default=None, max_length=bounds.TIMEZONE)
    submission_opens_at: bounds.CalendarDateTime | None = None
    submission_closes_at: bounds.CalendarDateTime | None = None
    published_from: bounds.CalendarDate | None = None
    published_to: bounds.CalendarDate | None = None
    max_entries_per_author: bounds.Count | None = None
    max_authors_per_entry: bounds.Count | None = None
    max_series_parts: bounds.Count | None = None
    special_prize_quota: int | None = Field(default=None, ge=0, le=1000)
    status: str | None = Field(default=None, max_length=bounds.SHORT_CODE)
    reason: str | None = Field(default=None, max_length=bounds.LONG_TEXT)


class AwardPublic(AwardBase):
    id: int
    slug: str
    status: str
    published_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class CategoryBase(bounds.NFCInput):
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


Kinds = Annotated[list[Annotated[str, Field(max_length=bounds.SHORT_CODE)]],
                  Field(max_length=10)]
Quota = Annotated[dict[Annotated[str, Field(max_length=bounds.SHORT_CODE)], bounds.Count],
                  Field(max_length=10)]


class CategoryCreate(CategoryBase):
    code: str = Field(max_length=bounds.CATEGORY_CODE)
    name: str = Field(max_length=bounds.CATEGORY_NAME)
    description: str = Field(default="", max_length=bounds.LONG_TEXT)
    accepted_kinds: Kinds = []
    max_file_mb: bounds.Count = 100
    prize_quota: Quota = {}


class CategoryUpdate(bounds.NFCInput):
    code: str | None = Field(default=None, max_length=bounds.CATEGORY_CODE)
    name: str | None = Field(default=None, max_length=bounds.CATEGORY_NAME)
    description: str | None = Field(default=None, max_length=bounds.LONG_TEXT)
    accepted_kinds: Kinds | None = None
    max_file_mb: bounds.Count | None = None
    url_required: bool | None = None
    prize_quota: Quota | None = None


class CategoryPublic(CategoryBase):
    id: int
    award_id: int
    position: int
