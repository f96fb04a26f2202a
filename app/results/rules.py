"""Results rules: the ranking of a round, the judges' calibration, the shortlist and the
prize proposal, as pure functions of the final scores (no database).

Anyone holding the exported scores (``scores.csv``) can run these same functions
(``giaibao verify-ranking``) and must get the same ranking: every sum is ``math.fsum`` (exactly
rounded, so independent of the order of the scores), and scores are compared rounded to
``TIE_DIGITS`` decimals, so that two entries whose scores differ only by floating-point noise
are equal and go to the tie-break.
"""

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from app.awards.rules import PRIZE_LABELS, PRIZE_LEVELS
from app.errors import N_, Conflict, Invalid
from app.judging.rules import Aggregation

TIE_DIGITS = 9
TRIM_FROM = 5          # the trimmed mean drops one highest and one lowest from 5 totals up
FAR_POINTS = 20.0      # a judge's total this far from the others' mean is marked
FAR_DEVIATIONS = 2.0   # …or more than this many standard deviations of the others' totals

SPECIAL = "DB"  # giải đặc biệt: award-wide, above the categories' levels
CATEGORY_LEVELS = PRIZE_LEVELS  # A, B, C, KK: each category's quota
LEVELS = (SPECIAL, *CATEGORY_LEVELS)
LEVEL_LABELS = {SPECIAL: N_("Special prize"), **PRIZE_LABELS}


# --- Inputs and outputs --------------------------------------------------------------------

@dataclass(frozen=True)
class EntryInfo:
    entry_id: int
    category_id: int
    code: str
    title: str = ""


class ScoreLine(NamedTuple):
    """One judge's final score of one entry: points in the rubric's priority order. (Named
    tuples: a round has up to 500,000 of them, and a frozen dataclass is slow to make.)"""
    entry_id: int
    judge: str  # the judge's pseudonym in this round (G1, G2, …)
    points: tuple[float, ...]

    @property
    def total(self) -> float:
        return total_of(self.points)


class JudgeTotal(NamedTuple):
    judge: str
    total: float
    far: bool  # far from the other judges' totals of this entry


@dataclass(frozen=True)
class RankedEntry:
    entry_id: int
    category_id: int
    code: str
    title: str
    rank: int | None           # None: incomplete, not ranked
    score: float | None        # by the round's aggregation; None when incomplete
    raw_mean: float | None     # the plain mean of the judges' totals (None: no final score)
    judges: tuple[JudgeTotal, ...]
    spread: float | None       # highest minus lowest total
    criterion_means: tuple[float, ...]
    finals: int
    complete: bool
    # The criterion (1 = the rubric's first) that put this entry above or below an entry of
    # the same score; None when its score alone placed it (or it shares the rank).
    tie_break: int | None = None

    @property
    def has_far_total(self) -> bool:
        return any(j.far for j in self.judges)


@dataclass(frozen=True)
class JudgeCalibration:
    judge: str
    scored: int
    mean: float
    sd: float
    # The mean, over the entries this judge scored, of (their total - the other judges' mean
    # total of that entry): positive for a lenient judge, negative for a severe one. None
    # when the judge never shared an entry with another judge.
    offset: float | None
    z_mean: float | None = None


@dataclass(frozen=True)
class Calibration:
    panel_mean: float | None
    panel_sd: float | None
    judges: tuple[JudgeCalibration, ...] = field(default_factory=tuple)


# --- Arithmetic ----------------------------------------------------------------------------

def total_of(points: Iterable[float]) -> float:
    return round(math.fsum(points), 2)


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def pstdev(values: Sequence[float]) -> float:
    """Population standard deviation (0 for a single value)."""
    m = mean(values)
    return math.sqrt(math.fsum((v - m) ** 2 for v in values) / len(values))


def _key(value: float) -> float:
    return round(value, TIE_DIGITS) + 0.0


def pseudonyms(judge_ids: Iterable[int], salt: str = "") -> dict[int, str]:
    """G1, G2, …: the same judge has the same name throughout a round. Numbered in the order
    of a keyed hash of ``salt`` (the server's secret and the round) and the id, so that the
    numbers follow neither the accounts' order nor another round's."""
    def order(judge_id: int) -> tuple[bytes, int]:
        digest = hashlib.blake2b(f"{judge_id}".encode(), key=salt.encode()[:64],
                                 digest_size=16).digest()
        return (digest if salt else b"", judge_id)

    ordered = sorted(set(judge_ids), key=order)
    return {judge_id: f"G{n}" for n, judge_id in enumerate(ordered, start=1)}


def aggregate(totals: Sequence[float], aggregation: str) -> float:
    """The entry's score from its judges' totals for ``mean`` and ``trimmed_mean``."""
    if aggregation == Aggregation.trimmed_mean and len(totals) >= TRIM_FROM:
        kept = sorted(totals)[1:-1]
        return mean(kept)
    return mean(totals)


def judge_zscores(scores: Sequence[ScoreLine]) -> dict[tuple[str, int], float]:
    """Each judge's totals standardised over every entry that judge scored in the round:
    z = (total - judge's mean) / judge's population standard deviation; a judge with a single
    entry or with all totals equal gives z = 0."""
    by_judge: dict[str, list[ScoreLine]] = defaultdict(list)
    for line in scores:
        by_judge[line.judge].append(line)
    z: dict[tuple[str, int], float] = {}
    for judge, lines in by_judge.items():
        totals = [line.total for line in lines]
        m, sd = mean(totals), pstdev(totals)
        for line in lines:
            z[(judge, line.entry_id)] = 0.0 if sd == 0 else (line.total - m) / sd
    return z


def far_totals(totals: Sequence[float]) -> list[bool]:
    """For each total, whether it is far from the other judges' totals of the entry: more
    than FAR_POINTS from their mean, or more than FAR_DEVIATIONS of their (population)
    standard deviation when they are not all equal. A lone total is never far.

    The arithmetic of ``mean`` and ``pstdev`` written out (the same fsums, so the same
    results): this runs for every entry of a round of up to 100,000."""
    n = len(totals)
    if n < 2:
        return [False] * n
    fsum, sqrt, k = math.fsum, math.sqrt, n - 1
    marks = []
    for i in range(n):
        total = totals[i]
        others = totals[:i] + totals[i + 1:]
        m = fsum(others) / k
        sd = sqrt(fsum([(v - m) ** 2 for v in others]) / k)
        gap = abs(total - m)
        marks.append(gap > FAR_POINTS or (sd > 0 and gap > FAR_DEVIATIONS * sd))
    return marks


# --- Ranking -------------------------------------------------------------------------------

def rank_round(entries: Sequence[EntryInfo], scores: Sequence[ScoreLine], *,
               aggregation: str, judges_per_entry: int,
               criteria_count: int) -> dict[int, list[RankedEntry]]:
    """The round's ranking per category id. ``scores`` are the final scores of active
    assignments only. An entry with fewer than ``judges_per_entry`` of them is incomplete:
    listed after the ranked ones (by code), with no rank and no score. Ranked entries are
    ordered by score, then by the mean points of the first criterion, the next, …; entries
    still equal share the rank (1, 2, 2, 4)."""
    aggregation = Aggregation(aggregation)
    by_entry: dict[int, list[ScoreLine]] = defaultdict(list)
    known = {e.entry_id for e in entries}
    for line in scores:
        if line.entry_id in known:
            if len(line.points) != criteria_count:
                raise ValueError("a score line does not have one value per criterion")
            by_entry[line.entry_id].append(line)
    category_of = {e.entry_id: e.category_id for e in entries}

    zs: dict[tuple[str, int], float] = {}
    category_stats: dict[int, tuple[float, float]] = {}
    if aggregation == Aggregation.zscore:
        counted = [line for lines in by_entry.values() for line in lines]
        zs = judge_zscores(counted)
        per_category: dict[int, list[float]] = defaultdict(list)
        for line in counted:
            per_category[category_of[line.entry_id]].append(line.total)
        category_stats = {c: (mean(t), pstdev(t)) for c, t in per_category.items()}

    # First the figures and the sort key of each entry, then the RankedEntry rows, once,
    # with their rank (a round can have 100,000 entries).
    figures: dict[int, list[tuple]] = defaultdict(list)
    for entry in entries:
        lines = by_entry.get(entry.entry_id, [])
        if len(lines) > 1:
            lines = sorted(lines, key=lambda s: (s.judge, s.points))
        totals = [total_of(line.points) for line in lines]
        complete = len(lines) >= judges_per_entry and len(lines) > 0
        means = tuple(mean([line.points[i] for line in lines]) for i in range(criteria_count)) \
            if lines else ()
        score = None
        if complete:
            if aggregation == Aggregation.zscore:
                mu, sigma = category_stats[entry.category_id]
                z_bar = mean([zs[(line.judge, entry.entry_id)] for line in lines])
                score = mu + sigma * z_bar
            else:
                score = aggregate(totals, aggregation)
        key = tuple(-_key(v) for v in (score, *means)) if complete else None
        figures[entry.category_id].append((key, entry, lines, totals, means, score, complete))

    result: dict[int, list[RankedEntry]] = {}
    for category_id in sorted(figures):
        items = figures[category_id]
        ranked = sorted((f for f in items if f[6]), key=lambda f: (f[0], f[1].code,
                                                                   f[1].entry_id))
        unranked = sorted((f for f in items if not f[6]), key=lambda f: (f[1].code,
                                                                         f[1].entry_id))
        out: list[RankedEntry] = []
        previous_key, previous_rank = None, 0
        for position, item in enumerate(ranked, start=1):
            rank = previous_rank if item[0] == previous_key else position
            previous_key, previous_rank = item[0], rank
            neighbours = ranked[max(position - 2, 0):position + 1]
            out.append(_ranked_entry(item, rank, tie_break(item[0], [n[0] for n in neighbours])))
        out.extend(_ranked_entry(item, None) for item in unranked)
        result[category_id] = out
    return result


def tie_break(key: tuple, neighbours: Sequence[tuple]) -> int | None:
    """The first criterion (1-based) telling ``key`` from a neighbour's key of the same score
    (keys are (score, criterion means…)); None when no neighbour has the same score and a
    different key."""
    deciding = [next(i for i in range(1, len(key)) if key[i] != other[i])
                for other in neighbours if other[0] == key[0] and other != key]
    return min(deciding) if deciding else None


def _ranked_entry(item: tuple, rank: int | None, decided_by: int | None = None) -> RankedEntry:
    _key_, entry, lines, totals, means, score, complete = item
    far = far_totals(totals)
    return RankedEntry(
        entry_id=entry.entry_id, category_id=entry.category_id, code=entry.code,
        title=entry.title, rank=rank, score=score,
        raw_mean=mean(totals) if totals else None,
        judges=tuple(JudgeTotal(line.judge, total, mark)
                     for line, total, mark in zip(lines, totals, far, strict=True)),
        spread=(max(totals) - min(totals)) if totals else None,
        criterion_means=means, finals=len(lines), complete=complete, tie_break=decided_by)


def calibration(scores: Sequence[ScoreLine]) -> Calibration:
    """Per judge: entries scored, mean and standard deviation of their totals, their offset
    from the other judges of the same entries (lenient > 0 > severe), and the panel's mean and
    standard deviation over every final total of the round."""
    if not scores:
        return Calibration(panel_mean=None, panel_sd=None, judges=())
    by_entry: dict[int, list[ScoreLine]] = defaultdict(list)
    by_judge: dict[str, list[ScoreLine]] = defaultdict(list)
    for line in scores:
        by_entry[line.entry_id].append(line)
        by_judge[line.judge].append(line)
    all_totals = [line.total for line in scores]
    judges = []
    for judge in sorted(by_judge, key=_judge_order):
        lines = by_judge[judge]
        totals = [line.total for line in lines]
        gaps = []
        for line in lines:
            others = [o.total for o in by_entry[line.entry_id] if o.judge != judge]
            if others:
                gaps.append(line.total - mean(others))
        judges.append(JudgeCalibration(judge=judge, scored=len(lines), mean=mean(totals),
                                       sd=pstdev(totals),
                                       offset=mean(gaps) if gaps else None))
    return Calibration(panel_mean=mean(all_totals), panel_sd=pstdev(all_totals),
                       judges=tuple(judges))


def _judge_order(name: str) -> tuple:
    """G2 before G10."""
    digits = name[1:]
    return (0, int(digits), name) if name[:1] == "G" and digits.isdigit() else (1, 0, name)


# --- Shortlist -----------------------------------------------------------------------------

def check_shortlist_rule(top_n: int | None, min_score: float | None) -> None:
    if (top_n is None) == (min_score is None):
        raise Invalid(N_("Give either the number of entries per category or a minimum "
                         "score."), field="top_n")
    if top_n is not None and top_n < 1:
        raise Invalid(N_("The number of entries per category must be at least 1."),
                      field="top_n")
    if min_score is not None and not (math.isfinite(min_score) and min_score >= 0):
        raise Invalid(N_("The minimum score must be a number from 0."), field="min_score")


def select_shortlist(ranking: Sequence[RankedEntry], *, top_n: int | None = None,
                     min_score: float | None = None) -> list[RankedEntry]:
    """The entries of one category's ranking that go on: those ranked ``top_n`` or better
    (entries tied at the cut all go on), or those scoring at least ``min_score``. Incomplete
    entries never go on."""
    check_shortlist_rule(top_n, min_score)
    ranked = [r for r in ranking if r.complete]
    if top_n is not None:
        return [r for r in ranked if r.rank <= top_n]
    return [r for r in ranked if _key(r.score) >= _key(min_score)]


# --- Prizes --------------------------------------------------------------------------------

def check_level(level: str | None) -> str | None:
    if level is None:
        return None
    if level not in LEVELS:
        raise Invalid(N_("Unknown prize level “{level}”."), level=str(level)[:20],
                      field="level")
    return level


def check_min_scores(min_score: dict[str, float]) -> dict[str, float]:
    for level, value in min_score.items():
        check_level(level)
        if not (math.isfinite(value) and value >= 0):
            raise Invalid(N_("The minimum score for a level must be a number from 0."),
                          field="min_score")
    return dict(min_score)


def _groups(entries: Sequence[RankedEntry], key) -> list[list[RankedEntry]]:
    """Consecutive entries with the same key, as groups (tied entries move together)."""
    groups: list[list[RankedEntry]] = []
    for entry in entries:
        if groups and key(groups[-1][0]) == key(entry):
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


def _fill(groups: list[list[RankedEntry]], levels: Sequence[str], quota: dict[str, int],
          min_score: dict[str, float]) -> tuple[dict[int, str], list[list[RankedEntry]]]:
    """Gives levels in order down the groups: a group takes the current level when all of
    it fits in what is left of the level's quota and it reaches the level's minimum score;
    otherwise the level closes (what is left of it stays vacant) and the group tries the
    next level. A lower-ranked entry never gets a higher level than a better one."""
    given: dict[int, str] = {}
    level_index, used = 0, 0
    pending = list(groups)
    while pending and level_index < len(levels):
        group = pending[0]
        level = levels[level_index]
        floor = min_score.get(level)
        fits = used + len(group) <= quota.get(level, 0)
        reaches = floor is None or _key(group[0].score) >= _key(floor)
        if fits and reaches:
            for entry in group:
                given[entry.entry_id] = level
            used += len(group)
            pending.pop(0)
        else:
            level_index, used = level_index + 1, 0
    return given, pending


def _merit(entry: RankedEntry) -> tuple:
    """Orders entries of different categories: score, then the criteria's means."""
    return tuple(-_key(v) for v in (entry.score, *entry.criterion_means))


def propose_prizes(ranking: dict[int, list[RankedEntry]], *, quotas: dict[int, dict[str, int]],
                   special_quota: int = 0,
                   min_score: dict[str, float] | None = None) -> dict[int, str | None]:
    """The prize proposal from a round's ranking: entry id → level (None: no prize) for
    every ranked entry. The special prize (award-wide, ``special_quota`` entries) goes first
    to the highest scores across categories; then, in each category, A, B, C and KK within
    its quota, in rank order. A level no entry reaches stays vacant."""
    min_score = min_score or {}
    ranked = {c: [r for r in rows if r.complete] for c, rows in ranking.items()}
    proposal: dict[int, str | None] = {r.entry_id: None for rows in ranked.values() for r in rows}
    if special_quota > 0:
        everyone = sorted((r for rows in ranked.values() for r in rows),
                          key=lambda r: (_merit(r), r.code, r.entry_id))
        given, _rest = _fill(_groups(everyone, _merit), (SPECIAL,), {SPECIAL: special_quota},
                             min_score)
        proposal.update(given)
    for category_id, rows in ranked.items():
        left = [r for r in rows if proposal[r.entry_id] is None]
        given, _rest = _fill(_groups(left, lambda r: r.rank), CATEGORY_LEVELS,
                             quotas.get(category_id, {}), min_score)
        proposal.update(given)
    return proposal


def check_quota(levels_in_category: Iterable[str | None], levels_in_award: Iterable[str | None],
                *, quota: dict[str, int], special_quota: int, level: str | None) -> None:
    """Refuses a level that would take more entries than its quota: the category's for A…KK,
    the award's for the special prize. The iterables are the levels held by the other
    entries (the one being changed excluded)."""
    if level is None:
        return
    if level == SPECIAL:
        held = sum(1 for v in levels_in_award if v == SPECIAL)
        allowed = special_quota
    else:
        held = sum(1 for v in levels_in_category if v == level)
        allowed = quota.get(level, 0)
    if held + 1 > allowed:
        raise Conflict(N_("The quota for “{level}” is {allowed}: it is full."),
                       level=[LEVEL_LABELS[level]], allowed=allowed)


def over_quota(decisions: Iterable[tuple[int, str | None]], *,
               quotas: dict[int, dict[str, int]], special_quota: int) -> list[tuple[int | None,
                                                                                  str]]:
    """The (category id, level) pairs holding more prizes than their quota — (None, "DB")
    for the award-wide special prize — given every decision as (category id, level)."""
    held: dict[tuple[int | None, str], int] = defaultdict(int)
    for category_id, level in decisions:
        if level is not None:
            held[(None, level) if level == SPECIAL else (category_id, level)] += 1
    over = []
    for (category_id, level), n in held.items():
        allowed = special_quota if category_id is None else quotas.get(category_id, {}).get(
            level, 0)
        if n > allowed:
            over.append((category_id, level))
    return sorted(over, key=lambda cl: (cl[0] is not None, cl[0] or 0, LEVELS.index(cl[1])))


def needs_reason(proposed: str | None, level: str | None) -> bool:
    return proposed != level
