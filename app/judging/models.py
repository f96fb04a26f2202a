"""Judging: rounds with their rubric, panels, assignments, scores and their history.

Outcomes of judging (who is in a round, who was shortlisted) live here, never in
``Entry.status``: an author learns nothing of them before the results are published.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, StrictBool
from sqlalchemy import Float, Index, UniqueConstraint
from sqlmodel import JSON, Column, Field, SQLModel, Text

from app import bounds
from app.db import MAX_ID, UTCDateTime, utcnow
from app.entries.models import EntryJudgeView
from app.judging.rules import Aggregation, RoundStatus


class Round(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    award_id: int = Field(foreign_key="award.id", index=True, ondelete="CASCADE")
    # The round whose shortlist this one judges; none: the award's accepted entries.
    source_round_id: int | None = Field(default=None, foreign_key="round.id",
                                        ondelete="RESTRICT")
    name: str = Field(max_length=200)
    judges_per_entry: int = 3
    blind: bool = True
    aggregation: str = Field(default=Aggregation.mean, max_length=20)
    # Never assign a judge whose profile's organization is the entry's outlet.
    exclude_same_outlet: bool = True
    status: str = Field(default=RoundStatus.setup, max_length=20, index=True)
    close_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Criterion(SQLModel, table=True):
    """One line of a round's rubric; ``position`` is its priority (ties are broken by the
    first criterion, then the next)."""

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True, ondelete="CASCADE")
    position: int
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    max_points: float = Field(sa_type=Float)


class PanelMember(SQLModel, table=True):
    """A judge seated on a round's panel; the categories they judge are PanelCategory rows.
    The panel, not the account's role, is what gives judging rights."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("round_id", "judge_id", name="uq_panel_member"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", index=True, ondelete="CASCADE")
    judge_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PanelCategory(SQLModel, table=True):
    __tablename__ = "panel_category"

    member_id: int = Field(foreign_key="panel_member.id", primary_key=True,
                           ondelete="CASCADE")
    category_id: int = Field(foreign_key="category.id", primary_key=True, index=True,
                             ondelete="CASCADE")


class Assignment(SQLModel, table=True):
    """A judge × entry × round. A declared conflict keeps the row (with its reason) and
    makes it inactive: the judge no longer sees the entry, and is never given it again."""

    __table_args__ = (
        UniqueConstraint("round_id", "entry_id", "judge_id", name="uq_assignment"),
        Index("ix_assignment_round_judge", "round_id", "judge_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="round.id", ondelete="CASCADE")
    entry_id: int = Field(foreign_key="entry.id", index=True, ondelete="CASCADE")
    judge_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    conflict_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    conflict_reason: str | None = Field(default=None, sa_type=Text)


class Score(SQLModel, table=True):
    """A judge's score of an entry in a round: points per criterion id (as text keys),
    their total, a comment, and whether it is final."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", unique=True, ondelete="CASCADE")
    round_id: int = Field(foreign_key="round.id", index=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="entry.id", index=True, ondelete="CASCADE")
    judge_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    points: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: float = Field(default=0, sa_type=Float)
    comment: str = Field(default="", sa_type=Text)
    final: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScoreChange(SQLModel, table=True):
    """Every save of a score: who, when, before and after (points, comment, final)."""

    __tablename__ = "score_change"

    id: int | None = Field(default=None, primary_key=True)
    score_id: int = Field(foreign_key="score.id", index=True, ondelete="CASCADE")
    actor_id: int = Field(foreign_key="user.id", index=True, ondelete="RESTRICT")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    before: dict | None = Field(default=None, sa_column=Column(JSON))
    after: dict = Field(sa_column=Column(JSON, nullable=False))


class ShortlistEntry(SQLModel, table=True):
    """An entry a round sends on to the round whose ``source_round_id`` it is (the results
    work fills it from the ranking)."""

    __tablename__ = "shortlist_entry"

    round_id: int = Field(foreign_key="round.id", primary_key=True, ondelete="CASCADE")
    entry_id: int = Field(foreign_key="entry.id", primary_key=True, index=True,
                          ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- Schemas -------------------------------------------------------------------------------

def _not_a_bool(value):
    """JSON ``true`` is not one point: a float field would take it as 1.0."""
    if isinstance(value, bool):
        raise ValueError("A number is expected, not true or false.")
    return value


Number = Annotated[float, BeforeValidator(_not_a_bool)]


class CriterionIn(bounds.NFCInput):
    name: str = Field(max_length=bounds.NAME)
    description: str | None = Field(default=None, max_length=bounds.LONG_TEXT)
    # Bounds and decimals are checked by rules.check_criteria, whose message names the
    # criterion.
    max_points: Number


class RoundCreate(bounds.NFCInput):
    name: str = Field(max_length=bounds.NAME)
    judges_per_entry: int = Field(default=3, ge=1, le=50)
    blind: bool = True
    aggregation: Literal["mean", "trimmed_mean", "zscore"] = "mean"
    exclude_same_outlet: bool = True
    criteria: list[CriterionIn] = Field(min_length=1, max_length=30)
    source_round_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class RoundUpdate(bounds.NFCInput):
    name: str | None = Field(default=None, max_length=bounds.NAME)
    judges_per_entry: int | None = Field(default=None, ge=1, le=50)
    blind: bool | None = None
    aggregation: Literal["mean", "trimmed_mean", "zscore"] | None = None
    exclude_same_outlet: bool | None = None
    criteria: list[CriterionIn] | None = Field(default=None, min_length=1, max_length=30)


class CriterionPublic(BaseModel):
    id: int
    position: int
    name: str
    description: str
    max_points: float


class RoundPublic(BaseModel):
    id: int
    award_id: int
    source_round_id: int | None
    name: str
    judges_per_entry: int
    blind: bool
    aggregation: str
    exclude_same_outlet: bool
    status: str
    criteria: list[CriterionPublic]
    max_total: float
    created_at: datetime
    started_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None


class PanelIn(bounds.NFCInput):
    judge_id: int = Field(ge=1, le=MAX_ID)
    category_ids: list[int] = Field(max_length=200)


class PanelMemberPublic(BaseModel):
    judge_id: int
    full_name: str
    email: str
    organization: str | None
    category_ids: list[int]


class AssignResult(BaseModel):
    assignments: int
    added: int
    removed: int


class AssignmentPublic(BaseModel):
    """A line of a judge's queue (or of the organizer's list of all assignments)."""
    entry_id: int
    code: str | None
    title: str
    category_id: int
    state: Literal["todo", "draft", "final"]
    total: float | None
    judge_id: int | None = None  # organizer's list only


class ScoreIn(bounds.NFCInput):
    points: dict[str, Number | None] = Field(
        default_factory=dict, max_length=30)
    comment: str | None = Field(default=None, max_length=bounds.LONG_TEXT)
    final: StrictBool = False


class ScorePublic(BaseModel):
    round_id: int
    entry_id: int
    points: dict[str, float]
    total: float
    comment: str
    final: bool
    updated_at: datetime


class ConflictIn(bounds.NFCInput):
    reason: str = Field(max_length=bounds.LONG_TEXT)


class ConflictResult(BaseModel):
    entry_id: int
    # Whether another judge of the panel took the entry (false: the organizer must add one).
    reassigned: bool


class CloseIn(bounds.NFCInput):
    force: StrictBool = False
    reason: str | None = Field(default=None, max_length=bounds.LONG_TEXT)


class JudgeProgress(BaseModel):
    judge_id: int
    full_name: str
    assigned: int
    draft: int
    final: int
    reminded_at: datetime | None
    # False once an organizer deactivated the account: their assignments stay, unscored.
    is_active: bool = True


class CategoryProgress(BaseModel):
    category_id: int
    category: str
    entries: int
    assigned: int
    draft: int
    final: int
    # Entries with fewer active judges than the round asks for.
    short_of_judges: int


class ConflictPublic(BaseModel):
    entry_id: int
    code: str | None
    judge_id: int
    judge: str
    reason: str
    at: datetime


class RoundProgress(BaseModel):
    round_id: int
    status: str
    assigned: int
    draft: int
    final: int
    judges: list[JudgeProgress]
    categories: list[CategoryProgress]
    conflicts: list[ConflictPublic]


class RemindResult(BaseModel):
    reminded: int


class ScoreChangePublic(BaseModel):
    judge_id: int
    at: datetime
    before: dict | None
    after: dict


class JudgeRound(BaseModel):
    """A round as its judge sees it in their list."""
    id: int
    award_id: int
    award: str
    name: str
    status: str
    blind: bool
    assigned: int
    final: int




class JudgeEntryPublic(EntryJudgeView):
    """The entry as the round's judges see it, with the caller's own score (null for the
    organizer's preview, or before the first save)."""
    round_id: int
    score: ScorePublic | None
