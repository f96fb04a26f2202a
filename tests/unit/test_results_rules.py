"""Results rules as pure functions: hand-computed cases for every aggregation and tie rule
(the numbers are written out), the far-total marker, calibration, shortlist and prize
proposal; then property tests (hypothesis) on generated rounds."""

import math
from collections import Counter, defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import Conflict, Invalid
from app.results import rules
from app.results.rules import (
    Calibration,
    EntryInfo,
    JudgeCalibration,
    ScoreLine,
    aggregate,
    calibration,
    check_level,
    check_quota,
    far_totals,
    judge_zscores,
    needs_reason,
    propose_prizes,
    pseudonyms,
    rank_round,
    select_shortlist,
)


def _line(entry_id, judge, *points):
    return ScoreLine(entry_id=entry_id, judge=judge, points=tuple(float(p) for p in points))


def _entries(*codes, category_id=1):
    """Entries with ids 1, 2, … in the order given."""
    return [EntryInfo(entry_id=i, category_id=category_id, code=code, title=f"Tác phẩm {code}")
            for i, code in enumerate(codes, start=1)]


def _by_id(rows):
    return {r.entry_id: r for r in rows}


def _simple(scores_by_category, criteria_count=1):
    """A ranking where one judge scores every entry: {category: [(code, points…)]}; entry ids
    are 1, 2, … over the categories in order."""
    entries, lines, n = [], [], 0
    for category_id, items in scores_by_category.items():
        for code, *points in items:
            n += 1
            entries.append(EntryInfo(entry_id=n, category_id=category_id, code=code))
            lines.append(_line(n, "G1", *points))
    return rank_round(entries, lines, aggregation="mean", judges_per_entry=1,
                      criteria_count=criteria_count)


def _levels(ranking, proposal):
    """{code: level} of a proposal, for reading."""
    return {r.code: proposal[r.entry_id] for rows in ranking.values() for r in rows
            if r.entry_id in proposal}


# --- Aggregations --------------------------------------------------------------------------

def test_mean_of_the_judges_totals_with_criterion_means_spread_and_judges():
    entries = _entries("C1-001", "C1-002")
    scores = [_line(1, "G1", 30, 20, 20), _line(1, "G2", 35, 25, 20), _line(1, "G3", 34, 25, 25),
              _line(2, "G1", 30, 30, 30), _line(2, "G2", 20, 20, 20), _line(2, "G3", 25, 25, 25)]
    [rows] = rank_round(entries, scores, aggregation="mean", judges_per_entry=3,
                        criteria_count=3).values()
    first, second = rows
    # entry 1: totals 70, 80, 84 -> 234 / 3 = 78; entry 2: 90, 60, 75 -> 225 / 3 = 75
    assert (first.entry_id, first.rank, first.score, first.raw_mean) == (1, 1, 78.0, 78.0)
    assert first.criterion_means == (33.0, 70 / 3, 65 / 3)
    # 70 is 12 from the others' mean 82, more than twice their sd (2); 80 is 3 from 77
    # (sd 7), 84 is 9 from 75 (sd 5): not far
    assert [(j.judge, j.total, j.far) for j in first.judges] == [
        ("G1", 70.0, True), ("G2", 80.0, False), ("G3", 84.0, False)]
    assert first.spread == 14.0
    assert (first.finals, first.complete, first.has_far_total) == (3, True, True)
    assert (second.entry_id, second.rank, second.score, second.raw_mean) == (2, 2, 75.0, 75.0)
    assert second.criterion_means == (25.0, 25.0, 25.0)
    # 90 is 22.5 from the others' mean 67.5, 60 is 22.5 from 82.5: more than 20 points
    assert [(j.judge, j.total, j.far) for j in second.judges] == [
        ("G1", 90.0, True), ("G2", 60.0, True), ("G3", 75.0, False)]
    assert (second.spread, second.has_far_total) == (30.0, True)


def test_trimmed_mean_keeps_four_totals_and_drops_one_highest_and_lowest_from_five():
    assert aggregate([60, 70, 80, 94], "trimmed_mean") == 76.0          # 304 / 4
    assert aggregate([52, 70, 75, 80, 100], "trimmed_mean") == 75.0     # (70+75+80) / 3
    assert aggregate([40, 61, 65, 70, 72, 99], "trimmed_mean") == 67.0  # 268 / 4
    assert aggregate([60, 60, 70, 80, 80], "trimmed_mean") == 70.0      # one 60, one 80 out
    assert aggregate([52, 70, 75, 80, 100], "mean") == 75.4             # 377 / 5


def test_trimmed_mean_ranking_gives_the_raw_mean_beside_it():
    entries = _entries("C1-001", "C1-002", "C1-003")
    totals = {1: [60, 70, 80, 94], 2: [52, 70, 75, 80, 100], 3: [40, 61, 65, 70, 72, 99]}
    scores = [_line(entry_id, f"G{k}", t) for entry_id, ts in totals.items()
              for k, t in enumerate(ts, start=1)]
    [rows] = rank_round(entries, scores, aggregation="trimmed_mean", judges_per_entry=4,
                        criteria_count=1).values()
    assert [(r.entry_id, r.rank, r.score, r.raw_mean) for r in rows] == [
        (1, 1, 76.0, 76.0),            # 4 totals: nothing dropped
        (2, 2, 75.0, 75.4),            # 52 and 100 dropped; raw 377 / 5
        (3, 3, 67.0, 407 / 6)]         # 40 and 99 dropped; raw 407 / 6 = 67.83…
    assert [r.spread for r in rows] == [34.0, 48.0, 59.0]


ZSCORE_TOTALS = {
    # entry: {judge: total}
    1: {"G1": 90, "G2": 60, "G3": 70},
    2: {"G1": 78, "G2": 60, "G3": 70},
    3: {"G1": 78, "G2": 40, "G3": 70},
    4: {"G1": 74, "G2": 40, "G4": 86},
}


def _zscore_lines():
    return [_line(entry_id, judge, total) for entry_id, by_judge in ZSCORE_TOTALS.items()
            for judge, total in by_judge.items()]


def test_judge_zscores_by_hand():
    z = judge_zscores(_zscore_lines())
    # G1: 90, 78, 78, 74 -> mean 80, deviations 10, -2, -2, -6, variance 144 / 4 = 36, sd 6
    assert rules.mean([90, 78, 78, 74]) == 80.0 and rules.pstdev([90, 78, 78, 74]) == 6.0
    assert z[("G1", 1)] == pytest.approx(10 / 6, abs=1e-12)
    assert z[("G1", 2)] == pytest.approx(-2 / 6, abs=1e-12)
    assert z[("G1", 3)] == pytest.approx(-2 / 6, abs=1e-12)
    assert z[("G1", 4)] == pytest.approx(-1.0, abs=1e-12)
    # G2: 60, 60, 40, 40 -> mean 50, sd 10: z = 1, 1, -1, -1
    assert rules.mean([60, 60, 40, 40]) == 50.0 and rules.pstdev([60, 60, 40, 40]) == 10.0
    assert [z[("G2", e)] for e in (1, 2, 3, 4)] == [1.0, 1.0, -1.0, -1.0]
    # G3: 70, 70, 70 -> no spread: z = 0; G4 scored one entry: z = 0
    assert [z[("G3", e)] for e in (1, 2, 3)] == [0.0, 0.0, 0.0]
    assert z[("G4", 4)] == 0.0
    assert len(z) == 12


def test_zscore_ranking_maps_the_mean_z_back_onto_the_points_scale():
    entries = _entries("C1-001", "C1-002", "C1-003", "C1-004")
    by_category = rank_round(entries, _zscore_lines(), aggregation="zscore",
                             judges_per_entry=3, criteria_count=1)
    rows = _by_id(by_category[1])
    # The entries' mean z: (5/3 + 1 + 0) / 3, (-1/3 + 1 + 0) / 3, (-1/3 - 1 + 0) / 3,
    # (-1 - 1 + 0) / 3
    z_bar = {1: 8 / 9, 2: 2 / 9, 3: -4 / 9, 4: -2 / 3}
    # The category's 12 totals sum to 816: mu = 68; the squared deviations sum to 2752:
    # sigma = sqrt(2752 / 12) = sqrt(688 / 3) = 15.14…
    mu, sigma = 68.0, math.sqrt(688 / 3)
    all_totals = [t for by_judge in ZSCORE_TOTALS.values() for t in by_judge.values()]
    assert rules.mean(all_totals) == mu
    assert rules.pstdev(all_totals) == pytest.approx(sigma, abs=1e-12)
    for entry_id, z in z_bar.items():
        assert rows[entry_id].score == pytest.approx(mu + sigma * z, abs=1e-9)
    assert rows[1].score == pytest.approx(81.4611, abs=1e-4)
    assert rows[4].score == pytest.approx(57.9041, abs=1e-4)
    # The raw means: 220/3, 208/3, 188/3, 200/3; entry 4 beats entry 3 on the raw mean, but
    # its judges G1 and G2 gave it their lowest totals: the z-score puts it last.
    assert [rows[e].raw_mean for e in (1, 2, 3, 4)] == [220 / 3, 208 / 3, 188 / 3, 200 / 3]
    assert [(r.entry_id, r.rank) for r in by_category[1]] == [(1, 1), (2, 2), (3, 3), (4, 4)]


def test_zscore_standardises_a_judge_over_the_round_and_maps_per_category():
    entries = [EntryInfo(1, 1, "A-1"), EntryInfo(2, 1, "A-2"), EntryInfo(3, 2, "B-1"),
               EntryInfo(4, 2, "B-2")]
    scores = [_line(1, "G1", 60), _line(2, "G1", 80), _line(3, "G1", 70), _line(4, "G1", 90)]
    ranking = rank_round(entries, scores, aggregation="zscore", judges_per_entry=1,
                         criteria_count=1)
    # G1 over the round: mean 75, deviations -15, 5, -5, 15, sd sqrt(500 / 4) = 5·sqrt(5);
    # category 1: mu 70, sigma 10; category 2: mu 80, sigma 10.
    sd = 5 * math.sqrt(5)
    expected = {1: 70 + 10 * -15 / sd, 2: 70 + 10 * 5 / sd, 3: 80 + 10 * -5 / sd,
                4: 80 + 10 * 15 / sd}
    got = {r.entry_id: r.score for rows in ranking.values() for r in rows}
    assert got == pytest.approx(expected, abs=1e-9)
    assert got[1] == pytest.approx(70 - 6 * math.sqrt(5), abs=1e-9)  # 56.58…
    assert [r.entry_id for r in ranking[1]] == [2, 1]
    assert [r.entry_id for r in ranking[2]] == [4, 3]


def test_an_unknown_aggregation_and_a_line_of_the_wrong_size_are_refused():
    with pytest.raises(ValueError):
        rank_round(_entries("C1-001"), [], aggregation="median", judges_per_entry=1,
                   criteria_count=1)
    with pytest.raises(ValueError, match="one value per criterion"):
        rank_round(_entries("C1-001"), [_line(1, "G1", 30, 20)], aggregation="mean",
                   judges_per_entry=1, criteria_count=3)


# --- Ties, shared ranks, incomplete entries ------------------------------------------------

def test_ties_broken_by_the_first_criterion_then_the_second():
    entries = _entries("C1-001", "C1-002", "C1-003")
    scores = [
        # P: totals 70, 70; criterion means 30.5, 19.5, 20
        _line(1, "G1", 30, 20, 20), _line(1, "G2", 31, 19, 20),
        # Q: totals 70, 70; means 30.5, 19, 20.5 -> equal first criterion, lower second
        _line(2, "G1", 30, 19, 21), _line(2, "G2", 31, 19, 20),
        # R: totals 70, 70; means 30, 22.5, 17.5 -> lower first criterion, whatever follows
        _line(3, "G1", 29, 25, 16), _line(3, "G2", 31, 20, 19),
    ]
    # Entries listed in reverse: the order comes from the rules, not from the input.
    [rows] = rank_round(entries[::-1], scores[::-1], aggregation="mean", judges_per_entry=2,
                        criteria_count=3).values()
    assert [(r.code, r.rank, r.score) for r in rows] == [
        ("C1-001", 1, 70.0), ("C1-002", 2, 70.0), ("C1-003", 3, 70.0)]
    assert [r.criterion_means for r in rows] == [
        (30.5, 19.5, 20.0), (30.5, 19.0, 20.5), (30.0, 22.5, 17.5)]
    # P above Q by the second criterion; Q below P by the second, above R by the first.
    assert [r.tie_break for r in rows] == [2, 1, 1]


def test_a_full_tie_shares_the_rank_and_the_next_rank_is_skipped():
    entries = _entries("C1-004", "C1-003", "C1-002", "C1-001")
    scores = [_line(1, "G1", 30, 20, 20),   # 70
              _line(2, "G1", 40, 25, 15),   # 80
              _line(3, "G1", 30, 20, 20),   # 70: same total and criteria as C1-004
              _line(4, "G1", 20, 20, 20)]   # 60
    [rows] = rank_round(entries, scores, aggregation="mean", judges_per_entry=1,
                        criteria_count=3).values()
    # The tied pair by code.
    assert [(r.code, r.rank, r.score) for r in rows] == [
        ("C1-003", 1, 80.0), ("C1-002", 2, 70.0), ("C1-004", 2, 70.0), ("C1-001", 4, 60.0)]
    # Nothing told the pair apart: no criterion decided.
    assert [r.tie_break for r in rows] == [None, None, None, None]


def test_scores_equal_but_for_floating_point_noise_tie():
    # 0.1 + 0.2 + 0.3 style sums: 210.6 / 3 and 70.2 must be the same score.
    entries = _entries("C1-001", "C1-002")
    scores = [_line(1, "G1", 70.1), _line(1, "G2", 70.2), _line(1, "G3", 70.3),
              _line(2, "G1", 70.2), _line(2, "G2", 70.2), _line(2, "G3", 70.2)]
    [rows] = rank_round(entries, scores, aggregation="mean", judges_per_entry=3,
                        criteria_count=1).values()
    assert [(r.code, r.rank) for r in rows] == [("C1-001", 1), ("C1-002", 1)]
    assert [r.code for r in select_shortlist(rows, min_score=70.2)] == ["C1-001", "C1-002"]


def test_incomplete_entries_are_listed_last_unranked_by_code():
    entries = _entries("C1-004", "C1-002", "C1-003", "C1-001")
    scores = [_line(1, "G1", 30, 20, 20), _line(1, "G2", 30, 30, 20),    # complete, 75
              _line(2, "G1", 40, 30, 30),                                # one final of two
              _line(3, "G1", 20, 20, 20), _line(3, "G3", 25, 20, 15)]    # complete, 60
    # entry 4 (C1-001) has no final score at all
    ranking = rank_round(entries, scores, aggregation="mean", judges_per_entry=2,
                         criteria_count=3)
    assert list(ranking) == [1]
    rows = ranking[1]
    assert [(r.code, r.rank, r.score, r.raw_mean, r.finals, r.complete) for r in rows] == [
        ("C1-004", 1, 75.0, 75.0, 2, True),
        ("C1-003", 2, 60.0, 60.0, 2, True),
        ("C1-001", None, None, None, 0, False),
        ("C1-002", None, None, 100.0, 1, False)]
    lone, one = rows[2], rows[3]
    assert (lone.judges, lone.spread, lone.criterion_means) == ((), None, ())
    assert [(j.judge, j.total, j.far) for j in one.judges] == [("G1", 100.0, False)]
    assert (one.spread, one.criterion_means) == (0.0, (40.0, 30.0, 30.0))


def test_scores_of_entries_not_in_the_round_are_ignored_and_categories_are_apart():
    entries = [EntryInfo(1, 7, "B-1"), EntryInfo(2, 3, "A-1"), EntryInfo(3, 3, "A-2")]
    scores = [_line(1, "G1", 50), _line(2, "G1", 60), _line(3, "G1", 70), _line(99, "G1", 10)]
    ranking = rank_round(entries, scores, aggregation="mean", judges_per_entry=1,
                         criteria_count=1)
    assert {c: [(r.code, r.rank) for r in rows] for c, rows in ranking.items()} == {
        3: [("A-2", 1), ("A-1", 2)], 7: [("B-1", 1)]}
    assert list(ranking) == [3, 7]


# --- Far totals ----------------------------------------------------------------------------

def test_far_totals_twenty_points_from_the_others():
    # 50 is 21 from the others' 71 (their sd is 0: only the 20-point rule applies)
    assert far_totals([50, 71, 71]) == [True, False, False]
    # exactly 20: not more than 20
    assert far_totals([51, 71, 71]) == [False, False, False]
    # two judges 50 apart: each is far from the other
    assert far_totals([40, 90]) == [True, True]
    assert far_totals([60, 75]) == [False, False]


def test_far_totals_two_standard_deviations_of_the_others():
    # 80 vs 70, 72, 74: mean 72, sd sqrt(8/3) = 1.63, gap 8 > 3.27
    # 70 vs 72, 74, 80: mean 75.33, sd 3.40, gap 5.33 < 6.80; 72 and 74 closer still
    assert far_totals([70, 72, 74, 80]) == [False, False, False, True]
    # the others all equal: a 1-point gap is not "far" (no spread to measure it by)
    assert far_totals([70, 70, 71]) == [False, False, False]


def test_a_lone_total_is_never_far():
    assert far_totals([95]) == [False]
    assert far_totals([]) == []


# --- Calibration ---------------------------------------------------------------------------

def test_calibration_figures_by_hand():
    scores = [_line(1, "G1", 80), _line(1, "G2", 70),
              _line(2, "G1", 90), _line(2, "G2", 70), _line(2, "G3", 60),
              _line(3, "G3", 50),
              _line(4, "G10", 70)]
    got = calibration(scores)
    # panel: 80, 70, 90, 70, 60, 50, 70 -> mean 490 / 7 = 70; squared deviations
    # 100 + 0 + 400 + 0 + 100 + 400 + 0 = 1000 -> sd sqrt(1000 / 7)
    assert got.panel_mean == 70.0
    assert got.panel_sd == pytest.approx(math.sqrt(1000 / 7), abs=1e-12)
    assert got.judges == (
        # G1: 80, 90; offsets 80 - 70 = 10 and 90 - (70 + 60) / 2 = 25 -> 17.5 (lenient)
        JudgeCalibration(judge="G1", scored=2, mean=85.0, sd=5.0, offset=17.5),
        # G2: 70, 70; offsets 70 - 80 = -10 and 70 - (90 + 60) / 2 = -5 -> -7.5
        JudgeCalibration(judge="G2", scored=2, mean=70.0, sd=0.0, offset=-7.5),
        # G3: 60, 50; 60 - (90 + 70) / 2 = -20; entry 3 alone gives no offset -> -20
        JudgeCalibration(judge="G3", scored=2, mean=55.0, sd=5.0, offset=-20.0),
        # G10 (after G3, not after G1): never shared an entry -> no offset
        JudgeCalibration(judge="G10", scored=1, mean=70.0, sd=0.0, offset=None))


def test_calibration_of_no_scores():
    assert calibration([]) == Calibration(panel_mean=None, panel_sd=None, judges=())


def test_pseudonyms_by_judge_id():
    assert pseudonyms([42, 7, 42, 13]) == {7: "G1", 13: "G2", 42: "G3"}
    assert pseudonyms([]) == {}


# --- Shortlist -----------------------------------------------------------------------------

def _shortlist_ranking():
    entries = _entries("C1-001", "C1-002", "C1-003", "C1-004", "C1-005")
    scores = [_line(1, "G1", 80), _line(2, "G1", 70), _line(3, "G1", 70), _line(4, "G1", 60)]
    [rows] = rank_round(entries, scores, aggregation="mean", judges_per_entry=1,
                        criteria_count=1).values()
    assert [(r.code, r.rank) for r in rows] == [
        ("C1-001", 1), ("C1-002", 2), ("C1-003", 2), ("C1-004", 4), ("C1-005", None)]
    return rows


def test_shortlist_top_n_takes_everyone_tied_at_the_cut():
    rows = _shortlist_ranking()
    assert [r.code for r in select_shortlist(rows, top_n=1)] == ["C1-001"]
    assert [r.code for r in select_shortlist(rows, top_n=2)] == ["C1-001", "C1-002", "C1-003"]
    assert [r.code for r in select_shortlist(rows, top_n=3)] == ["C1-001", "C1-002", "C1-003"]
    # the incomplete entry never goes on
    assert [r.code for r in select_shortlist(rows, top_n=10)] == [
        "C1-001", "C1-002", "C1-003", "C1-004"]


def test_shortlist_by_minimum_score_includes_the_score_itself():
    rows = _shortlist_ranking()
    assert [r.code for r in select_shortlist(rows, min_score=70)] == [
        "C1-001", "C1-002", "C1-003"]
    assert [r.code for r in select_shortlist(rows, min_score=70.01)] == ["C1-001"]
    assert select_shortlist(rows, min_score=81) == []
    assert [r.code for r in select_shortlist(rows, min_score=0)] == [
        "C1-001", "C1-002", "C1-003", "C1-004"]


@pytest.mark.parametrize(("top_n", "min_score", "message", "field"), [
    (None, None, "Give either the number of entries per category or a minimum score.",
     "top_n"),
    (2, 70.0, "Give either the number of entries per category or a minimum score.", "top_n"),
    (0, None, "The number of entries per category must be at least 1.", "top_n"),
    (None, -1.0, "The minimum score must be a number from 0.", "min_score"),
    (None, math.nan, "The minimum score must be a number from 0.", "min_score"),
    (None, math.inf, "The minimum score must be a number from 0.", "min_score"),
])
def test_shortlist_rule_refusals(top_n, min_score, message, field):
    with pytest.raises(Invalid) as refused:
        select_shortlist(_shortlist_ranking(), top_n=top_n, min_score=min_score)
    assert (refused.value.message, refused.value.field) == (message, field)


# --- Prize proposal ------------------------------------------------------------------------

QUOTA = {"A": 1, "B": 1, "C": 2, "KK": 1}


def test_proposal_within_the_quotas_in_rank_order():
    ranking = _simple({1: [("C1-001", 90), ("C1-002", 85), ("C1-003", 80), ("C1-004", 75),
                           ("C1-005", 70), ("C1-006", 65), ("C1-007", 60)]})
    proposal = propose_prizes(ranking, quotas={1: QUOTA})
    assert _levels(ranking, proposal) == {
        "C1-001": "A", "C1-002": "B", "C1-003": "C", "C1-004": "C", "C1-005": "KK",
        "C1-006": None, "C1-007": None}


def test_tied_entries_that_do_not_fit_a_level_move_down_together():
    ranking = _simple({1: [("C1-001", 90), ("C1-002", 85), ("C1-003", 85), ("C1-004", 80),
                           ("C1-005", 70)]})
    proposal = propose_prizes(ranking, quotas={1: {"A": 1, "B": 1, "C": 2, "KK": 2}})
    # the pair at 85 does not fit B (1): B stays vacant, both take C; then C is full
    assert _levels(ranking, proposal) == {
        "C1-001": "A", "C1-002": "C", "C1-003": "C", "C1-004": "KK", "C1-005": "KK"}
    # a tie at the top: A (1) vacant, both B (2); the next one finds C full at 0 and KK
    ranking = _simple({1: [("C1-001", 88), ("C1-002", 88), ("C1-003", 70)]})
    proposal = propose_prizes(ranking, quotas={1: {"A": 1, "B": 2, "C": 0, "KK": 1}})
    assert _levels(ranking, proposal) == {"C1-001": "B", "C1-002": "B", "C1-003": "KK"}


def test_a_minimum_score_leaves_a_level_vacant_and_the_next_level_takes_the_entry():
    ranking = _simple({1: [("C1-001", 88), ("C1-002", 80), ("C1-003", 60)]})
    proposal = propose_prizes(ranking, quotas={1: {"A": 1, "B": 1, "C": 1, "KK": 1}},
                              min_score={"A": 90, "KK": 65})
    # 88 < 90: A vacant, B takes it; 80 to C; 60 does not reach KK's 65: no prize
    assert _levels(ranking, proposal) == {"C1-001": "B", "C1-002": "C", "C1-003": None}
    # the minimum itself is reached
    proposal = propose_prizes(ranking, quotas={1: {"A": 1, "B": 1, "C": 1, "KK": 1}},
                              min_score={"A": 88})
    assert _levels(ranking, proposal) == {"C1-001": "A", "C1-002": "B", "C1-003": "C"}


def test_levels_with_quota_zero_are_skipped_and_a_category_without_quota_gets_nothing():
    ranking = _simple({1: [("C1-001", 95), ("C1-002", 90), ("C1-003", 80)],
                       2: [("C2-001", 99)]})
    proposal = propose_prizes(ranking, quotas={1: {"A": 1, "B": 0, "C": 1, "KK": 0}})
    assert _levels(ranking, proposal) == {
        "C1-001": "A", "C1-002": "C", "C1-003": None, "C2-001": None}


def test_the_special_prize_goes_award_wide_then_leaves_the_category_levels():
    ranking = _simple({1: [("C1-001", 95), ("C1-002", 90), ("C1-003", 80)],
                       2: [("C2-001", 97), ("C2-002", 85), ("C2-003", 70)]})
    quotas = {1: {"A": 1, "B": 1}, 2: {"A": 1, "B": 1}}
    proposal = propose_prizes(ranking, quotas=quotas, special_quota=2)
    assert _levels(ranking, proposal) == {
        "C2-001": "DB", "C1-001": "DB", "C1-002": "A", "C1-003": "B", "C2-002": "A",
        "C2-003": "B"}
    proposal = propose_prizes(ranking, quotas=quotas, special_quota=1)
    assert _levels(ranking, proposal) == {
        "C2-001": "DB", "C1-001": "A", "C1-002": "B", "C1-003": None, "C2-002": "A",
        "C2-003": "B"}
    # a minimum for the special prize: only 97 reaches 96
    proposal = propose_prizes(ranking, quotas=quotas, special_quota=2, min_score={"DB": 96})
    assert [c for c, level in _levels(ranking, proposal).items() if level == "DB"] == [
        "C2-001"]
    # no special quota: nobody gets it
    proposal = propose_prizes(ranking, quotas=quotas)
    assert "DB" not in proposal.values()


def test_special_prize_ties_across_categories():
    # equal scores: the first criterion decides between categories
    ranking = _simple({1: [("C1-001", 50, 45)], 2: [("C2-001", 45, 50)]}, criteria_count=2)
    proposal = propose_prizes(ranking, quotas={}, special_quota=1)
    assert _levels(ranking, proposal) == {"C1-001": "DB", "C2-001": None}
    # a full tie that does not fit one special prize: vacant, both go on to their category
    ranking = _simple({1: [("C1-001", 95)], 2: [("C2-001", 95)]})
    proposal = propose_prizes(ranking, quotas={1: {"A": 1}, 2: {"A": 1}}, special_quota=1)
    assert _levels(ranking, proposal) == {"C1-001": "A", "C2-001": "A"}
    proposal = propose_prizes(ranking, quotas={1: {"A": 1}, 2: {"A": 1}}, special_quota=2)
    assert _levels(ranking, proposal) == {"C1-001": "DB", "C2-001": "DB"}


def test_incomplete_entries_are_not_in_the_proposal():
    entries = _entries("C1-001", "C1-002")
    ranking = rank_round(entries, [_line(1, "G1", 90)], aggregation="mean",
                         judges_per_entry=1, criteria_count=1)
    assert propose_prizes(ranking, quotas={1: QUOTA}, special_quota=1) == {1: "DB"}


# --- Levels and quotas ---------------------------------------------------------------------

def test_check_level():
    assert [check_level(v) for v in ("DB", "A", "B", "C", "KK", None)] == [
        "DB", "A", "B", "C", "KK", None]
    with pytest.raises(Invalid) as refused:
        check_level("Z")
    assert refused.value.message == "Unknown prize level “{level}”."
    assert (refused.value.params, refused.value.field) == ({"level": "Z"}, "level")
    assert refused.value.translated(lambda s: s) == "Unknown prize level “Z”."
    with pytest.raises(Invalid) as refused:
        check_level("x" * 300)
    assert refused.value.params == {"level": "x" * 20}


def test_check_quota_messages():
    others = ["A", "B", None, "KK"]
    quota = {"A": 1, "B": 2, "C": 1, "KK": 1}
    with pytest.raises(Conflict) as refused:
        check_quota(others, ["DB"], quota=quota, special_quota=1, level="A")
    assert refused.value.message == "The quota for “{level}” is {allowed}: it is full."
    assert refused.value.params == {"level": ["A prize"], "allowed": 1}
    assert refused.value.translated(lambda s: s) == "The quota for “A prize” is 1: it is full."
    with pytest.raises(Conflict) as refused:
        check_quota(others, ["DB", None], quota=quota, special_quota=1, level="DB")
    assert refused.value.translated(lambda s: s) == (
        "The quota for “Special prize” is 1: it is full.")
    with pytest.raises(Conflict) as refused:
        check_quota([], [], quota={"A": 1}, special_quota=0, level="C")
    assert refused.value.params == {"level": ["C prize"], "allowed": 0}
    # room left: B holds 1 of 2, C 0 of 1, the special prize 1 of 2; no level: no quota
    assert check_quota(others, ["DB"], quota=quota, special_quota=1, level="B") is None
    assert check_quota(others, ["DB"], quota=quota, special_quota=1, level="C") is None
    assert check_quota(others, ["DB"], quota=quota, special_quota=2, level="DB") is None
    assert check_quota(others, ["DB"], quota=quota, special_quota=0, level=None) is None


def test_needs_reason_when_the_level_departs_from_the_proposal():
    assert needs_reason("A", "A") is False
    assert needs_reason(None, None) is False
    assert needs_reason("A", "B") is True
    assert needs_reason(None, "KK") is True
    assert needs_reason("DB", None) is True


# --- Properties ----------------------------------------------------------------------------

@st.composite
def rounds(draw):
    """A generated round: entries in 1-3 categories, judges G1-G5 each giving (or not) a
    final score of 1-3 criteria, points from a small set so that ties are frequent."""
    criteria_count = draw(st.integers(1, 3))
    n = draw(st.integers(1, 12))
    entries = [EntryInfo(entry_id=i + 1, category_id=draw(st.integers(1, 3)),
                         code=f"C-{draw(st.integers(1, 20)):03d}-{i}", title=f"T{i}")
               for i in range(n)]
    points = st.tuples(*[st.sampled_from([0, 5, 7.5, 10, 10.25, 20])
                         for _ in range(criteria_count)])
    scores = []
    for entry in entries:
        judges = draw(st.lists(st.sampled_from(["G1", "G2", "G3", "G4", "G5"]), unique=True,
                               max_size=5))
        scores += [ScoreLine(entry.entry_id, judge, draw(points)) for judge in judges]
    aggregation = draw(st.sampled_from(["mean", "trimmed_mean", "zscore"]))
    judges_per_entry = draw(st.integers(1, 3))
    return entries, scores, aggregation, judges_per_entry, criteria_count


def _rank(entries, scores, aggregation, judges_per_entry, criteria_count):
    return rank_round(entries, scores, aggregation=aggregation,
                      judges_per_entry=judges_per_entry, criteria_count=criteria_count)


PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(rounds(), st.randoms(use_true_random=False))
def test_ranking_is_invariant_to_the_order_of_scores_and_entries(round_, rng):
    entries, scores, *rest = round_
    expected = _rank(entries, scores, *rest)
    shuffled_entries, shuffled_scores = list(entries), list(scores)
    rng.shuffle(shuffled_entries)
    rng.shuffle(shuffled_scores)
    got = _rank(shuffled_entries, shuffled_scores, *rest)
    assert got == expected
    assert list(got) == list(expected)


@PROPERTY
@given(rounds())
def test_the_zscores_of_one_judge_sum_to_zero(round_):
    _entries_, scores, *_rest = round_
    by_judge = defaultdict(list)
    for (judge, _entry_id), z in judge_zscores(scores).items():
        by_judge[judge].append(z)
    assert sorted(by_judge) == sorted({s.judge for s in scores})
    for values in by_judge.values():
        assert abs(math.fsum(values)) <= 1e-9


def _merit(entry):
    return tuple(-(round(v, rules.TIE_DIGITS) + 0.0) for v in (entry.score,
                                                             *entry.criterion_means))


@PROPERTY
@given(rounds())
def test_ranks_are_competition_ranks(round_):
    entries, scores, aggregation, judges_per_entry, criteria_count = round_
    ranking = _rank(entries, scores, aggregation, judges_per_entry, criteria_count)
    assert sorted(r.entry_id for rows in ranking.values() for r in rows) == [
        e.entry_id for e in entries]
    finals = Counter(s.entry_id for s in scores)
    for category_id, rows in ranking.items():
        assert {r.category_id for r in rows} == {category_id}
        ranked = [r for r in rows if r.rank is not None]
        unranked = rows[len(ranked):]
        # incomplete entries last, by code, unranked and unscored
        assert all(r.rank is None and r.score is None and not r.complete for r in unranked)
        assert [r.code for r in unranked] == sorted(r.code for r in unranked)
        for r in rows:
            assert r.finals == finals[r.entry_id]
            assert r.complete == (r.finals >= judges_per_entry and r.finals > 0)
        ranks = [r.rank for r in ranked]
        assert ranks == sorted(ranks)
        assert not ranks or ranks[0] == 1
        for r in ranked:
            better = sum(1 for o in ranked if _merit(o) < _merit(r))
            assert r.rank == 1 + better


@st.composite
def proposals(draw):
    round_ = draw(rounds())
    categories = {e.category_id for e in round_[0]}
    level_quota = st.integers(0, 3)
    quotas = {c: {level: draw(level_quota) for level in rules.CATEGORY_LEVELS}
              for c in categories if draw(st.integers(0, 4))}  # sometimes no quota
    special = draw(st.integers(0, 2))
    min_score = draw(st.dictionaries(st.sampled_from(rules.LEVELS),
                                     st.sampled_from([0, 10, 25, 40]), max_size=3))
    return round_, quotas, special, min_score


@PROPERTY
@given(proposals())
def test_the_proposal_keeps_the_quotas_and_the_rank_order(case):
    round_, quotas, special, min_score = case
    ranking = _rank(*round_)
    proposal = propose_prizes(ranking, quotas=quotas, special_quota=special,
                              min_score=min_score)
    ranked = [r for rows in ranking.values() for r in rows if r.complete]
    assert sorted(proposal) == sorted(r.entry_id for r in ranked)
    assert sum(1 for level in proposal.values() if level == rules.SPECIAL) <= special
    order = {level: i for i, level in enumerate(rules.LEVELS)}
    order[None] = len(rules.LEVELS)
    for category_id, rows in ranking.items():
        rows = [r for r in rows if r.complete]
        held = Counter(proposal[r.entry_id] for r in rows)
        for level in rules.CATEGORY_LEVELS:
            assert held[level] <= quotas.get(category_id, {}).get(level, 0)
        for r in rows:
            level = proposal[r.entry_id]
            if level in min_score:  # a level given reaches its minimum
                assert -_merit(r)[0] >= round(min_score[level], rules.TIE_DIGITS)
            for o in rows:
                if r.rank < o.rank:
                    assert order[proposal[r.entry_id]] <= order[proposal[o.entry_id]]
                if r.rank == o.rank:
                    assert proposal[r.entry_id] == proposal[o.entry_id]


def test_salted_pseudonyms_follow_neither_the_ids_nor_another_round():
    ids = list(range(1, 21))
    one, two = pseudonyms(ids, salt="bi-mat:round:1"), pseudonyms(ids, salt="bi-mat:round:2")
    assert sorted(one.values(), key=lambda g: int(g[1:])) == [f"G{n}" for n in range(1, 21)]
    assert one == pseudonyms(list(reversed(ids)), salt="bi-mat:round:1")
    assert one != pseudonyms(ids)  # not the order of the accounts
    assert one != two
