"""Reading results: a round's ranking from its final scores, the shortlist, the prize
decisions, the published results, certificates. The arithmetic is in results.rules."""

import json
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from sqlalchemy import Text, cast
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.accounts.rules import Role
from app.awards.models import Award, Category
from app.config import get_settings
from app.awards.rules import AwardStatus
from app.entries.models import Entry, EntryAuthor
from app.errors import N_, NotFound
from app.judging import queries as judging
from app.judging.models import Assignment, Round, Score, ShortlistEntry
from app.judging.rules import RoundStatus
from app.results import rules
from app.results.models import (
    Allocation,
    Certificate,
    JudgeTotalPublic,
    Prize,
    PrizePublic,
    RankingRow,
)


@dataclass(frozen=True)
class RoundScores:
    """What a round's ranking is computed from: its entries, the final scores of active
    assignments (judges by pseudonym), the rubric's size."""
    round: Round
    entries: list[rules.EntryInfo]
    scores: list[rules.ScoreLine]
    criteria: list  # Criterion rows in priority order
    judge_names: dict[int, str]  # judge id -> pseudonym


def round_scores(session: Session, round_: Round) -> RoundScores:
    criteria = judging.criteria_of(session, round_.id)
    keys = [str(c.id) for c in criteria]
    # Plain columns through Core (no ORM rows): a round can have 100,000 entries.
    connection = session.connection()
    entries = [rules.EntryInfo(entry_id=i, category_id=c, code=code or "", title=title)
               for i, c, code, title in connection.execute(judging._of_round(
                   select(Entry.id, Entry.category_id, Entry.code, Entry.title), round_)
                   .order_by(Entry.category_id, Entry.code, Entry.id)).all()]
    rows = connection.execute(
        select(Score.entry_id, Score.judge_id, cast(Score.points, Text))
        .join(Assignment, Assignment.id == Score.assignment_id)
        .where(Score.round_id == round_.id, col(Score.final).is_(True),
               col(Assignment.conflict_at).is_(None))).all()
    names = rules.pseudonyms((judge_id for _e, judge_id, _p in rows),
                             salt=f"{get_settings().secret_key}:round:{round_.id}")
    # The points as JSON text, decoded in one call: one json.loads per score was a third of
    # the time of a 50,000-score ranking.
    decoded = json.loads("[" + ",".join(text for _e, _j, text in rows) + "]")
    scores = [rules.ScoreLine(entry_id=entry_id, judge=names[judge_id],
                              points=tuple(float(points.get(k, 0.0)) for k in keys))
              for (entry_id, judge_id, _text), points in zip(rows, decoded, strict=True)]
    return RoundScores(round=round_, entries=entries, scores=scores, criteria=criteria,
                       judge_names=names)


# The rankings of closed rounds, most recent last: once a round is closed its final scores,
# and its entries' codes and titles (frozen since screening), never change again, so the
# ranking of a large round (a second per 10,000 entries) is computed once per process.
_CLOSED_RANKINGS: OrderedDict[tuple, dict[int, list[rules.RankedEntry]]] = OrderedDict()
_CLOSED_KEEP = 8
_closed_lock = threading.Lock()


_CLOSED_CALIBRATIONS: OrderedDict[tuple, tuple] = OrderedDict()


def forget_closed_rankings() -> None:
    """Empties the kept rankings (tests empty their tables between cases: ids come back)."""
    with _closed_lock:
        _CLOSED_RANKINGS.clear()
        _CLOSED_CALIBRATIONS.clear()


def calibration(session: Session, round_: Round) -> tuple[rules.Calibration, dict[int, str]]:
    """The judges' calibration of a round and its pseudonyms (judge id -> name); a closed
    round's is computed once per process, as its ranking is."""
    def compute():
        data = round_scores(session, round_)
        return rules.calibration(data.scores), data.judge_names

    return _kept(_CLOSED_CALIBRATIONS, _closed_key(session, round_), compute)


def _kept(kept: OrderedDict, key: tuple | None, compute):
    """``compute()``, kept under ``key`` (a closed round's: None computes every time) among
    the most recent ``_CLOSED_KEEP`` of ``kept``."""
    if key is not None:
        with _closed_lock:
            cached = kept.get(key)
            if cached is not None:
                kept.move_to_end(key)
                return cached
    result = compute()
    if key is not None:
        with _closed_lock:
            kept[key] = result
            while len(kept) > _CLOSED_KEEP:
                kept.popitem(last=False)
    return result


def _closed_key(session: Session, round_: Round) -> tuple | None:
    if round_.status != RoundStatus.closed or round_.closed_at is None:
        return None
    return (str(session.get_bind().url), round_.id, round_.closed_at.isoformat())


def ranking(session: Session, round_: Round,
            data: RoundScores | None = None) -> dict[int, list[rules.RankedEntry]]:
    def compute():
        scores = data or round_scores(session, round_)
        return rules.rank_round(scores.entries, scores.scores, aggregation=round_.aggregation,
                                judges_per_entry=round_.judges_per_entry,
                                criteria_count=len(scores.criteria))

    key = _closed_key(session, round_) if data is None else None
    return _kept(_CLOSED_RANKINGS, key, compute)


def shortlisted_ids(session: Session, round_id: int) -> set[int]:
    return set(session.exec(select(ShortlistEntry.entry_id)
                            .where(ShortlistEntry.round_id == round_id)).all())


def _shown(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits) + 0.0


def _ordered_ranking(session: Session, round_: Round, category_id: int | None
                     ) -> tuple[list[rules.RankedEntry], set[int]]:
    by_category = ranking(session, round_)
    listed = shortlisted_ids(session, round_.id)
    order = category_order(session, round_.award_id)
    ordered = [r for cid in sorted(by_category, key=lambda c: order.get(c, (1 << 30, c)))
               if category_id is None or cid == category_id for r in by_category[cid]]
    return ordered, listed


def _ranking_row(r: rules.RankedEntry, listed: set[int]) -> RankingRow:
    return RankingRow(
        rank=r.rank, entry_id=r.entry_id, code=r.code, title=r.title,
        category_id=r.category_id, score=_shown(r.score), raw_mean=_shown(r.raw_mean),
        judges=[JudgeTotalPublic(judge=j.judge, total=j.total, far=j.far) for j in r.judges],
        spread=_shown(r.spread, 2), criterion_means=[_shown(m) for m in r.criterion_means],
        finals=r.finals, complete=r.complete, shortlisted=r.entry_id in listed,
        tie_break_criterion=r.tie_break)


def ranking_rows(session: Session, round_: Round, *,
                 category_id: int | None = None) -> list[RankingRow]:
    """The round's ranking for the API: category by category (in the award's order), each
    ranked entries first, incomplete entries last with ``rank: null``."""
    ordered, listed = _ordered_ranking(session, round_, category_id)
    return [_ranking_row(r, listed) for r in ordered]


def ranking_page(session: Session, round_: Round, *, category_id: int | None = None,
                 offset: int = 0, limit: int = 50) -> tuple[int, list[RankingRow]]:
    """One page of ``ranking_rows`` and the number of rows of the whole ranking (computed
    whole either way; only the page's rows are built)."""
    ordered, listed = _ordered_ranking(session, round_, category_id)
    return len(ordered), [_ranking_row(r, listed) for r in ordered[offset:offset + limit]]


@dataclass(frozen=True)
class RankingSections:
    """The console's ranking page: each category's rows in a window (category id -> its
    number of rows and the window's rows), with what the page says of the whole round."""
    totals: dict[int, int]
    rows: dict[int, list[RankingRow]]
    shortlisted: int
    far_any: bool


def ranking_sections(session: Session, round_: Round, *, category_id: int | None = None,
                     offset: int = 0, limit: int = 50) -> RankingSections:
    """Only the rows shown are built: a national round's 3,000 rows at once made a 2 MB page
    that took most of a second to render."""
    by_category = ranking(session, round_)
    listed = shortlisted_ids(session, round_.id)
    ranked = {r.entry_id for rows in by_category.values() for r in rows}
    return RankingSections(
        totals={cid: len(rows) for cid, rows in by_category.items()},
        rows={cid: [_ranking_row(r, listed) for r in rows[offset:offset + limit]]
              for cid, rows in by_category.items()
              if category_id is None or cid == category_id},
        shortlisted=len(listed & ranked),
        far_any=any(j.far for rows in by_category.values() for r in rows for j in r.judges))


def category_order(session: Session, award_id: int) -> dict[int, tuple[int, int]]:
    return {c.id: (c.position, c.id) for c in session.exec(
        select(Category).where(Category.award_id == award_id)).all()}


# --- Prizes --------------------------------------------------------------------------------

def allocation_of(session: Session, award_id: int) -> Allocation | None:
    return session.get(Allocation, award_id)


def prizes_of(session: Session, award_id: int) -> list[Prize]:
    return list(session.exec(select(Prize).where(Prize.award_id == award_id)).all())


def prize_rows(session: Session, award: Award) -> list[PrizePublic]:
    """Every decision of the award's allocation: by category order, then rank."""
    order = category_order(session, award.id)
    rows = session.exec(select(Prize, Entry.code, Entry.title)
                        .join(Entry, Entry.id == Prize.entry_id)
                        .where(Prize.award_id == award.id)).all()
    out = [PrizePublic(entry_id=p.entry_id, code=code or "", title=title,
                       category_id=p.category_id, rank=p.rank, score=_shown(p.score),
                       proposed_level=p.proposed_level, level=p.level, reason=p.reason,
                       updated_at=p.updated_at)
           for p, code, title in rows]
    return sorted(out, key=lambda p: (order.get(p.category_id, (1 << 30, 0)),
                                      p.rank if p.rank is not None else 1 << 30, p.code))


# --- Published results ---------------------------------------------------------------------

def may_see_results(award: Award, viewer: User | None) -> bool:
    """Everyone once the award is published; before that, organizers alone."""
    if award.status == AwardStatus.published:
        return True
    return viewer is not None and viewer.role == Role.organizer


def require_results(award: Award, viewer: User | None) -> None:
    if not may_see_results(award, viewer):
        raise NotFound(N_("The results of this award are not published."))


def authors_text(authors: list[EntryAuthor]) -> str:
    """“Nguyễn Văn An (Hoàng Sa), Trần Thị Bình”: real names, pen names in brackets."""
    parts = []
    for a in sorted(authors, key=lambda a: (a.position, a.id or 0)):
        parts.append(f"{a.full_name} ({a.pen_name})" if a.pen_name else a.full_name)
    return ", ".join(parts)


@dataclass(frozen=True)
class Winner:
    category_id: int
    level: str
    entry_id: int
    code: str
    title: str
    authors: str
    outlet: str
    score: float | None
    certificate_token: str | None


def winners(session: Session, award: Award) -> list[tuple[Category, list[Winner]]]:
    """Per category (award order), the awarded entries by level (the special prize first,
    then A, B, C, KK), by rank within a level."""
    categories = list(session.exec(select(Category).where(Category.award_id == award.id)
                                   .order_by(Category.position, Category.id)).all())
    rows = session.exec(select(Prize, Entry).join(Entry, Entry.id == Prize.entry_id)
                        .where(Prize.award_id == award.id, col(Prize.level).is_not(None))
                        ).all()
    ids = [entry.id for _p, entry in rows]
    authors: dict[int, list[EntryAuthor]] = defaultdict(list)
    if ids:
        for a in session.exec(select(EntryAuthor)
                              .where(col(EntryAuthor.entry_id).in_(ids))).all():
            authors[a.entry_id].append(a)
    tokens = {c.entry_id: c.token for c in session.exec(
        select(Certificate).where(Certificate.award_id == award.id)).all()}
    level_order = {level: i for i, level in enumerate(rules.LEVELS)}
    by_category: dict[int, list[Winner]] = defaultdict(list)
    for prize, entry in rows:
        by_category[entry.category_id].append(Winner(
            category_id=entry.category_id, level=prize.level, entry_id=entry.id,
            code=entry.code or "", title=entry.title, authors=authors_text(authors[entry.id]),
            outlet=entry.outlet, score=_shown(prize.score, 2),
            certificate_token=tokens.get(entry.id)))
    prize_rank = {p.entry_id: (p.rank if p.rank is not None else 1 << 30) for p, _e in rows}
    return [(c, sorted(by_category.get(c.id, []),
                       key=lambda w: (level_order[w.level], prize_rank[w.entry_id], w.code)))
            for c in categories]


def certificate_by_token(session: Session, token: str) -> Certificate:
    if not token or len(token) > 64:
        raise NotFound(N_("No such certificate."))
    certificate = session.exec(select(Certificate).where(Certificate.token == token)).first()
    if certificate is None:
        raise NotFound(N_("No such certificate."))
    award = session.get(Award, certificate.award_id)
    if award is None or award.status != AwardStatus.published:
        raise NotFound(N_("No such certificate."))
    return certificate


def closed_rounds(session: Session, award_id: int) -> list[Round]:
    return list(session.exec(select(Round).where(Round.award_id == award_id,
                                                 Round.status == "closed")
                             .order_by(Round.id)).all())
