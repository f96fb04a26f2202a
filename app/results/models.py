"""Results: the prize allocation of an award, each entry's prize decision, certificates.

Nothing here is visible to an author before the award is published; an entry's own
``status`` never changes with judging (it stays ``accepted``).
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app import bounds
from app.db import MAX_ID, UTCDateTime, utcnow


class Allocation(SQLModel, table=True):
    """The award's current prize proposal: from which closed round, with which minimum
    scores per level. Re-allocating replaces it (and every entry's decision with it)."""

    award_id: int = Field(foreign_key="award.id", primary_key=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="round.id", index=True, ondelete="RESTRICT")
    min_score: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: int = Field(foreign_key="user.id", ondelete="RESTRICT")


class Prize(SQLModel, table=True):
    """One ranked entry's prize decision: the level the allocation proposed and the level
    given (None: no prize), with the reason when the organizer departed from the proposal."""

    entry_id: int = Field(foreign_key="entry.id", primary_key=True, ondelete="CASCADE")
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    category_id: int = Field(foreign_key="category.id", index=True, ondelete="CASCADE")
    proposed_level: str | None = Field(default=None, max_length=4)
    level: str | None = Field(default=None, max_length=4)
    reason: str | None = Field(default=None, sa_type=Text)
    rank: int | None = None
    score: float | None = None
    decided_by: int | None = Field(default=None, foreign_key="user.id", ondelete="RESTRICT")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Certificate(SQLModel, table=True):
    """The certificate of an awarded entry, issued when the results are published; its
    token is the public verification address."""

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="entry.id", unique=True, ondelete="CASCADE")
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True, index=True)
    level: str = Field(max_length=4)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Schemas -------------------------------------------------------------------------------

def _not_a_bool(value):
    if isinstance(value, bool):
        raise ValueError("A number is expected, not true or false.")
    return value


Number = Annotated[float, BeforeValidator(_not_a_bool)]
# JSON true is not 1 either (pydantic's lax mode would take it for one).
Count = Annotated[int, BeforeValidator(_not_a_bool)]
Level = Literal["DB", "A", "B", "C", "KK"]


class JudgeTotalPublic(BaseModel):
    judge: str
    total: float
    far: bool


class RankingRow(BaseModel):
    rank: int | None
    entry_id: int
    code: str
    title: str
    category_id: int
    score: float | None
    raw_mean: float | None
    judges: list[JudgeTotalPublic]
    spread: float | None
    criterion_means: list[float]
    finals: int
    complete: bool
    shortlisted: bool
    tie_break_criterion: int | None = None  # 1-based; see results.rules.tie_break


class ShortlistIn(BaseModel):
    top_n: Count | None = Field(default=None, ge=1, le=100_000)
    min_score: Number | None = Field(default=None, ge=0, le=1_000_000)
    # One category only; without it, every category of the round.
    category_id: Count | None = Field(default=None, ge=1, le=MAX_ID)


class ShortlistResult(BaseModel):
    shortlisted: int


class AllocateIn(BaseModel):
    round_id: Count = Field(ge=1, le=MAX_ID)
    min_score: dict[Annotated[str, Field(max_length=4)],
                    Annotated[Number, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict, max_length=5)


class ProposedPrize(BaseModel):
    entry_id: int
    level: str | None


class PrizeIn(bounds.NFCInput):
    level: str | None = Field(max_length=4)
    reason: str | None = Field(default=None, max_length=bounds.LONG_TEXT)
    # The level the caller saw (null: no prize). When given and the level has changed since
    # (another organizer, a second tab), 409 and nothing changes.
    expected_level: str | None = Field(default=None, max_length=4)


class PrizePublic(BaseModel):
    entry_id: int
    code: str
    title: str
    category_id: int
    rank: int | None
    score: float | None
    proposed_level: str | None
    level: str | None
    reason: str | None
    updated_at: datetime


class ResultPrize(BaseModel):
    level: str
    entry_id: int
    code: str
    title: str
    authors: str
    outlet: str
    score: float | None
    certificate_url: str | None = None


class CategoryResults(BaseModel):
    category_id: int
    category: str
    prizes: list[ResultPrize]


class CertificatePublic(BaseModel):
    valid: bool
    award: str
    level: str
    level_label: str
    code: str
    title: str
    authors: str
    category: str
    outlet: str
    issued_at: datetime
    url: str
