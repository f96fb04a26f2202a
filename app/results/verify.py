"""``giaibao verify-ranking scores.csv``: recomputes every ranking of a scores.csv file (see
app/results/exports.py, SCORES_HEADER) from the scores in it alone, with the same
``rules.rank_round`` the portal uses, and compares each entry's rank and score (rounded to 4
decimals, as the API gives it) with the ranking the file claims. No database is read.
"""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import N_
from app.i18n import gettext
from app.judging.rules import Aggregation
from app.results import rules

REQUIRED = ("round_id", "round", "aggregation", "judges_per_entry", "category_id",
            "category_code", "entry_id", "entry_code", "judge", "criterion_position",
            "points", "rank", "score")
SCORE_DIGITS = 4


class UnreadableScores(ValueError):
    """The file is not a scores.csv this command can check; the message says why (already
    translated)."""


@dataclass
class _Entry:
    info: rules.EntryInfo
    category_code: str
    claimed_rank: int | None
    claimed_score: float | None


@dataclass
class _Round:
    round_id: int
    name: str
    aggregation: str
    judges_per_entry: int
    entries: dict[int, _Entry] = field(default_factory=dict)
    # (entry id, judge) -> {criterion position: points}
    points: dict[tuple[int, str], dict[int, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Difference:
    entry_code: str
    what: str  # "rank" or "score"
    claimed: float | int | None
    recomputed: float | int | None


@dataclass(frozen=True)
class CategoryCheck:
    round_id: int
    round: str
    category_code: str
    entries: int
    differences: tuple[Difference, ...]

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class Report:
    checks: tuple[CategoryCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def _plain(cell: str) -> str:
    """The cell as written before the export neutralised it for spreadsheets ('-1 -> -1)."""
    cell = cell.strip()
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@") else cell


def _fail(message: str, **values) -> UnreadableScores:
    return UnreadableScores(gettext(message).format(**values))


def _int(row: dict, name: str, line: int, *, optional: bool = False) -> int | None:
    text = _plain(row[name] or "")
    if optional and text == "":
        return None
    try:
        return int(text)
    except ValueError:
        raise _fail(N_("Line {line}: “{value}” in column {column} is not a whole number."),
                    line=line, value=text, column=name) from None


def _float(row: dict, name: str, line: int, *, optional: bool = False) -> float | None:
    text = _plain(row[name] or "")
    if optional and text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if value != value or value in (float("inf"), float("-inf")):
        raise _fail(N_("Line {line}: “{value}” in column {column} is not a number."),
                    line=line, value=text, column=name)
    return value


def read_scores(text: str) -> list[_Round]:
    """The rounds of a scores.csv file's text (a leading BOM is ignored). Raises
    UnreadableScores naming the line at fault."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise _fail(N_("This is not a scores.csv file: the columns {columns} are missing."),
                    columns=", ".join(missing))
    rounds: dict[int, _Round] = {}
    try:
        for line, row in enumerate(reader, start=2):
            if None in row or any(row[c] is None for c in REQUIRED):
                raise _fail(N_("Line {line} does not have one value per column."), line=line)
            _read_row(rounds, row, line)
    except csv.Error as err:
        raise _fail(N_("The file is not valid CSV: {reason}"), reason=str(err)) from None
    if not rounds:
        raise _fail(N_("The file holds no scores."))
    return list(rounds.values())


def _read_row(rounds: dict[int, _Round], row: dict, line: int) -> None:
    round_id = _int(row, "round_id", line)
    aggregation = _plain(row["aggregation"])
    if aggregation not in {a.value for a in Aggregation}:
        raise _fail(N_("Line {line}: unknown aggregation “{value}”."), line=line,
                    value=aggregation)
    settings = (_plain(row["round"]), aggregation, _int(row, "judges_per_entry", line))
    round_ = rounds.get(round_id)
    if round_ is None:
        round_ = rounds[round_id] = _Round(round_id, *settings)
    elif (round_.name, round_.aggregation, round_.judges_per_entry) != settings:
        raise _fail(N_("Line {line}: the round's settings differ from its earlier lines."),
                    line=line)
    entry_id = _int(row, "entry_id", line)
    entry = _Entry(info=rules.EntryInfo(entry_id=entry_id,
                                        category_id=_int(row, "category_id", line),
                                        code=_plain(row["entry_code"])),
                   category_code=_plain(row["category_code"]),
                   claimed_rank=_int(row, "rank", line, optional=True),
                   claimed_score=_float(row, "score", line, optional=True))
    known = round_.entries.setdefault(entry_id, entry)
    if known != entry:
        raise _fail(N_("Line {line}: entry {entry} differs from its earlier lines (category, "
                       "code or claimed ranking)."), line=line, entry=entry.info.code)
    judge = _plain(row["judge"])
    if judge == "":
        return
    position = _int(row, "criterion_position", line)
    points = _float(row, "points", line)
    given = round_.points.setdefault((entry_id, judge), {})
    if position in given:
        raise _fail(N_("Line {line}: a second score of {entry} by {judge} on criterion "
                       "{position}."), line=line, entry=entry.info.code, judge=judge,
                    position=position)
    given[position] = points


def check_round(round_: _Round) -> list[CategoryCheck]:
    """Recomputes the round's ranking and compares it with the claimed one, per category."""
    criteria_count = max(max(given) for given in round_.points.values()) \
        if round_.points else 0
    for (entry_id, judge), given in round_.points.items():
        if sorted(given) != list(range(1, criteria_count + 1)):
            raise _fail(N_("The score of {entry} by {judge} does not have one value per "
                           "criterion."), entry=round_.entries[entry_id].info.code, judge=judge)
    scores = [rules.ScoreLine(entry_id=entry_id, judge=judge,
                              points=tuple(given[p] for p in range(1, criteria_count + 1)))
              for (entry_id, judge), given in round_.points.items()]
    ranked = rules.rank_round([e.info for e in round_.entries.values()], scores,
                              aggregation=round_.aggregation,
                              judges_per_entry=round_.judges_per_entry,
                              criteria_count=criteria_count)
    checks = []
    category_codes = {e.info.category_id: e.category_code for e in round_.entries.values()}
    for category_id, entries in ranked.items():
        differences = []
        for r in entries:
            claimed = round_.entries[r.entry_id]
            score = None if r.score is None else round(r.score, SCORE_DIGITS) + 0.0
            if claimed.claimed_rank != r.rank:
                differences.append(Difference(r.code, "rank", claimed.claimed_rank, r.rank))
            if claimed.claimed_score != score:
                differences.append(Difference(r.code, "score", claimed.claimed_score, score))
        checks.append(CategoryCheck(round_id=round_.round_id, round=round_.name,
                                    category_code=category_codes[category_id],
                                    entries=len(entries), differences=tuple(differences)))
    return checks


def verify_text(text: str) -> Report:
    checks: list[CategoryCheck] = []
    for round_ in sorted(read_scores(text), key=lambda r: r.round_id):
        checks.extend(sorted(check_round(round_), key=lambda c: c.category_code))
    return Report(checks=tuple(checks))


def verify_file(path: str | Path) -> Report:
    """Reads and checks the file; UnreadableScores when it cannot be read as scores.csv."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise _fail(N_("Cannot read {path}: {reason}"), path=str(path),
                    reason=err.strerror or str(err)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _fail(N_("{path} is not UTF-8 text."), path=str(path)) from None
    return verify_text(text)


def _shown(value) -> str:
    if value is None:
        return gettext(N_("none"))
    return str(value)


def report_lines(report: Report) -> list[str]:
    """What the command prints: a line per round and category, "OK" or its differences, then
    the verdict."""
    out = []
    for check in report.checks:
        where = gettext(N_("“{round}” (id {id}), category {category}")).format(
            round=check.round, id=check.round_id, category=check.category_code)
        if check.ok:
            out.append(gettext(N_("{where}: OK ({count} entries)")).format(
                where=where, count=check.entries))
            continue
        out.append(gettext(N_("{where}: {count} differences")).format(
            where=where, count=len(check.differences)))
        for d in check.differences:
            message = (N_("  {entry}: rank {claimed} in the file, {recomputed} recomputed")
                       if d.what == "rank" else
                       N_("  {entry}: score {claimed} in the file, {recomputed} recomputed"))
            out.append(gettext(message).format(entry=d.entry_code, claimed=_shown(d.claimed),
                                               recomputed=_shown(d.recomputed)))
    out.append(gettext(N_("The ranking in the file is the one its scores give.")) if report.ok
               else gettext(N_("The ranking in the file differs from the one its scores give.")))
    return out
