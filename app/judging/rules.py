"""Judging rules: the round's state machine (one table), the rubric, points, conflicts of
interest and automatic assignment.

Pure functions on plain values: tested without a database, and the same input always gives
the same output.
"""

import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from app.errors import N_, Conflict, Invalid
from app.text import fold


class RoundStatus(StrEnum):
    setup = "setup"
    scoring = "scoring"
    closed = "closed"


class RoundAction(StrEnum):
    start = "start"
    close = "close"


class Aggregation(StrEnum):
    mean = "mean"
    trimmed_mean = "trimmed_mean"
    zscore = "zscore"


@dataclass(frozen=True)
class RoundTransition:
    sources: frozenset[RoundStatus]
    target: RoundStatus


# Every move a round can make. Anything else is refused with 409.
ROUND_TRANSITIONS: dict[RoundAction, RoundTransition] = {
    RoundAction.start: RoundTransition(frozenset({RoundStatus.setup}), RoundStatus.scoring),
    RoundAction.close: RoundTransition(frozenset({RoundStatus.scoring}), RoundStatus.closed),
}

ROUND_STATUS_LABELS = {
    RoundStatus.setup: N_("Being set up"),
    RoundStatus.scoring: N_("Scoring"),
    RoundStatus.closed: N_("Closed"),
}

AGGREGATION_LABELS = {
    Aggregation.mean: N_("Mean of the judges' totals"),
    Aggregation.trimmed_mean: N_("Trimmed mean (drop the highest and lowest when 5 or more)"),
    Aggregation.zscore: N_("Z-score normalised mean (corrects lenient and severe judges)"),
}

SCORE_STATE_LABELS = {
    "todo": N_("Not started"),
    "draft": N_("Draft"),
    "final": N_("Final"),
}

# Award statuses in which rounds may be created and prepared, and in which scoring happens.
ROUND_AWARD_STATUSES = frozenset({"closed", "judging"})
SCORING_AWARD_STATUS = "judging"


def check_round_transition(status: str, action: RoundAction | str) -> RoundStatus:
    action = RoundAction(action)
    rule = ROUND_TRANSITIONS[action]
    if RoundStatus(status) not in rule.sources:
        raise Conflict(N_("A round that is “{status}” cannot do this."),
                       status=[ROUND_STATUS_LABELS[RoundStatus(status)]])
    return rule.target


def check_award_allows_rounds(award_status: str) -> None:
    if award_status not in ROUND_AWARD_STATUSES:
        raise Conflict(N_("Rounds can be prepared once the award is closed for entries "
                          "or judging."))


def check_award_allows_scoring(award_status: str) -> None:
    if award_status != SCORING_AWARD_STATUS:
        raise Conflict(N_("Move the award to judging before scoring starts."))


def check_setup(status: str) -> None:
    """The rubric and the round's settings are frozen once scoring starts."""
    if status != RoundStatus.setup:
        raise Conflict(N_("The round's settings and rubric cannot change once scoring has "
                          "started."))


def check_not_closed(status: str) -> None:
    if status == RoundStatus.closed:
        raise Conflict(N_("This round is closed."))


def check_scoring(status: str) -> None:
    if status != RoundStatus.scoring:
        if status == RoundStatus.closed:
            raise Conflict(N_("This round is closed: scores can no longer change."))
        raise Conflict(N_("Scoring has not started in this round yet."))


def check_close(*, missing: int, force: bool, reason: str | None) -> None:
    """A round closes when every score is final, or is forced with a recorded reason."""
    if missing and not force:
        raise Conflict(N_("{n} scores are still missing or not final. Wait for the judges, "
                          "or force the close with a reason."), n=missing)
    if force and missing and not (reason or "").strip():
        raise Invalid(N_("Please give the reason for closing the round with scores "
                         "missing."), field="reason")


# --- The rubric and points -----------------------------------------------------------------

@dataclass(frozen=True)
class CriterionSpec:
    id: int
    name: str
    max_points: float


def check_criteria(criteria: list[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
    """(name, description, max points) in priority order: names given and distinct."""
    seen = set()
    for i, (name, _description, max_points) in enumerate(criteria):
        if not name:
            raise Invalid(N_("Please name every criterion."), field=f"criteria.{i}.name")
        if fold(name) in seen:
            raise Invalid(N_("Two criteria are both called “{name}”."), name=name,
                          field=f"criteria.{i}.name")
        seen.add(fold(name))
        if not (math.isfinite(max_points) and 0 < max_points <= 1000):
            raise Invalid(N_("The maximum points of “{name}” must be above 0 and at most "
                             "1000."), name=name, field=f"criteria.{i}.max_points")
        if round(max_points, 2) != max_points:
            raise Invalid(N_("The maximum points of “{name}” can have at most two decimals."),
                          name=name, field=f"criteria.{i}.max_points")
    return criteria


def _number_text(value: float) -> str:
    return f"{value:g}"


def check_points(points: dict[str, float | None], criteria: list[CriterionSpec], *,
                 final: bool) -> tuple[dict[str, float], float]:
    """The points kept (by criterion id, as text) and their total. Each point is within
    0..max_points with at most two decimals; keys are criteria of this round; a final score
    has every criterion. Every refusal names the criterion."""
    by_id = {str(c.id): c for c in criteria}
    kept: dict[str, float] = {}
    for key, value in points.items():
        criterion = by_id.get(str(key).strip())
        if criterion is None:
            raise Invalid(N_("“{key}” is not a criterion of this round's rubric."),
                          key=str(key)[:40], field="points")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise Invalid(N_("The points for “{name}” must be a number."),
                          name=criterion.name, field=f"points.{criterion.id}")
        if not 0 <= value <= criterion.max_points:
            raise Invalid(N_("The points for “{name}” must be between 0 and {max}."),
                          name=criterion.name, max=_number_text(criterion.max_points),
                          field=f"points.{criterion.id}")
        if round(value, 2) != value:
            raise Invalid(N_("The points for “{name}” can have at most two decimals."),
                          name=criterion.name, field=f"points.{criterion.id}")
        kept[str(criterion.id)] = float(value) + 0.0  # -0.0 is 0
    if final:
        missing = [c.name for c in criteria if str(c.id) not in kept]
        if missing:
            raise Invalid(N_("A final score needs points for every criterion. Missing: "
                             "{names}."), names=", ".join(missing), field="points")
    total = round(sum(kept.values()), 2)
    return kept, total


def score_state(score_final: bool | None) -> str:
    """todo (no score yet) / draft / final."""
    if score_final is None:
        return "todo"
    return "final" if score_final else "draft"


# --- Conflicts of interest -----------------------------------------------------------------

@dataclass(frozen=True)
class JudgeSpec:
    id: int
    # The judge's address, when verified (an unverified one proves nothing).
    verified_email: str | None = None
    organization: str | None = None


@dataclass(frozen=True)
class EntrySpec:
    id: int
    category_id: int
    author_ids: frozenset[int] = frozenset()
    author_emails: frozenset[str] = frozenset()
    outlet: str = ""


# Web addresses' endings, dropped: "VnExpress.net" is VnExpress.
_DOMAIN_WORDS = frozenset({"com", "net", "org", "vn", "info", "www"})


@lru_cache(maxsize=4096)
def _words(text: str | None) -> tuple[str, ...]:
    # Cached: assignment compares every judge's organization with every entry's outlet
    # (10,000 entries x 10 judges), a few hundred distinct strings folded again and again.
    # Words are runs of letters and digits: "Khánh-Hòa", "Khánh Hòa" and "khanh hoa" match.
    return tuple(w for w in re.findall(r"[0-9a-z]+", fold(text or ""))
                 if w not in _DOMAIN_WORDS)


def names_outlet(organization: str | None, outlet: str) -> bool:
    """The judge's organization names the entry's outlet: the same words (without
    diacritics, case or punctuation), or the shorter name appears as whole words inside the
    longer one ("Báo Quảng Ninh" and "Báo Quảng Ninh điện tử"; "Phóng viên Báo Khánh Hòa"
    and "Báo Khánh Hòa"). A one-word part such as "Báo" is too vague to count."""
    org, out = _words(organization), _words(outlet)
    if not org or not out:
        return False
    if org == out:
        return True
    shorter, longer = (org, out) if len(org) <= len(out) else (out, org)
    if len(shorter) < 2:
        return False
    n = len(shorter)
    return any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


def conflict_of(entry: EntrySpec, judge: JudgeSpec, *, declared: bool = False,
                check_outlet: bool = True) -> str | None:
    """Why the judge may not score the entry, or None: they submitted or co-authored it
    (by account, or by a verified address on an author line), declared a conflict, or (a
    round setting) work for its outlet."""
    if judge.id in entry.author_ids:
        return "author"
    if judge.verified_email and judge.verified_email in entry.author_emails:
        return "author_email"
    if declared:
        return "declared"
    if check_outlet and names_outlet(judge.organization, entry.outlet):
        return "outlet"
    return None


# --- Automatic assignment ------------------------------------------------------------------

@dataclass
class AssignmentPlan:
    # {entry id: judge ids}, the round's complete assignment (kept ones included).
    assignments: dict[int, list[int]] = field(default_factory=dict)
    # Entries the panel cannot cover without a conflict (nothing is assigned then).
    uncovered: list[int] = field(default_factory=list)


def _tie_break(entry_id: int, judge_id: int) -> bytes:
    """A fixed pseudo-random order among equally loaded judges, so that the same judges
    are not always paired together; deterministic for the same ids."""
    return hashlib.blake2b(f"{entry_id}:{judge_id}".encode(), digest_size=8).digest()


def plan_assignment(entries: list[EntrySpec], panel: dict[int, list[JudgeSpec]], *,
                    judges_per_entry: int, declared: set[tuple[int, int]] = frozenset(),
                    keep: dict[int, list[int]] | None = None,
                    check_outlet: bool = True) -> AssignmentPlan:
    """Gives every entry exactly ``judges_per_entry`` judges of its category's panel.

    ``panel``: {category id: judges}; ``declared``: (entry id, judge id) conflicts;
    ``keep``: judges already on an entry (kept when still allowed, e.g. they have scored).
    Per category, the most constrained entries first, each takes the least loaded eligible
    judges: loads differ by at most one where conflicts allow it. Entries short of eligible
    judges are listed in ``uncovered``.
    """
    keep = keep or {}
    plan = AssignmentPlan()
    by_category: dict[int, list[EntrySpec]] = defaultdict(list)
    for entry in entries:
        by_category[entry.category_id].append(entry)
    for category_id in sorted(by_category):
        judges = sorted(panel.get(category_id, []), key=lambda j: j.id)
        load = {j.id: 0 for j in judges}
        eligible: dict[int, list[int]] = {}
        for entry in by_category[category_id]:
            eligible[entry.id] = [
                j.id for j in judges
                if conflict_of(entry, j, declared=(entry.id, j.id) in declared,
                               check_outlet=check_outlet) is None]
        for entry in by_category[category_id]:
            kept = [j for j in keep.get(entry.id, []) if j in eligible[entry.id]]
            kept = kept[:judges_per_entry]
            plan.assignments[entry.id] = kept
            for j in kept:
                load[j] += 1
        order = sorted(by_category[category_id], key=lambda e: (len(eligible[e.id]), e.id))
        for entry in order:
            chosen = plan.assignments[entry.id]
            need = judges_per_entry - len(chosen)
            if need <= 0:
                continue
            candidates = [j for j in eligible[entry.id] if j not in chosen]
            if len(candidates) < need:
                plan.uncovered.append(entry.id)
                continue
            candidates.sort(key=lambda j: (load[j], _tie_break(entry.id, j)))
            for j in candidates[:need]:
                chosen.append(j)
                load[j] += 1
    plan.uncovered.sort()
    return plan


def pick_replacement(entry: EntrySpec, judges: list[JudgeSpec], *, assigned: set[int],
                     declared: set[int], load: dict[int, int],
                     check_outlet: bool = True) -> int | None:
    """The judge who takes an entry after a declared conflict: on the category's panel,
    not already on it, conflict-free, the least loaded (the same tie-break as assignment)."""
    candidates = [j.id for j in judges
                  if j.id not in assigned
                  and conflict_of(entry, j, declared=j.id in declared,
                                  check_outlet=check_outlet) is None]
    if not candidates:
        return None
    return min(candidates, key=lambda j: (load.get(j, 0), _tie_break(entry.id, j)))


# --- Who may do what -----------------------------------------------------------------------

def may_see_assignment(*, active: bool, round_status: str) -> bool:
    """A judge sees an entry of a round while their assignment is active (not given up
    for a conflict), once the round has left setup (its assignment is then settled)."""
    return active and round_status != RoundStatus.setup


def may_score(*, active: bool, round_status: str) -> bool:
    return active and round_status == RoundStatus.scoring
