"""Judging rules as pure functions: the round's state machine, the rubric and points,
conflicts of interest, automatic assignment (with property tests) and replacements."""

import itertools
import math
import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import Conflict, Invalid
from app.judging import rules
from app.judging.rules import (
    ROUND_TRANSITIONS,
    CriterionSpec,
    EntrySpec,
    JudgeSpec,
    RoundAction,
    RoundStatus,
    check_criteria,
    check_points,
    check_round_transition,
    conflict_of,
    names_outlet,
    pick_replacement,
    plan_assignment,
)

RUBRIC = [CriterionSpec(id=11, name="Nội dung", max_points=40),
          CriterionSpec(id=12, name="Hình thức", max_points=30),
          CriterionSpec(id=13, name="Tác động", max_points=30)]


# --- The round's state machine -------------------------------------------------------------

def test_the_round_transition_table():
    assert {a.value: (sorted(t.sources), t.target.value)
            for a, t in ROUND_TRANSITIONS.items()} == {
        "start": (["setup"], "scoring"),
        "close": (["scoring"], "closed"),
    }


ALLOWED = {("setup", "start"): "scoring", ("scoring", "close"): "closed"}


@pytest.mark.parametrize(("status", "action"),
                         list(itertools.product([s.value for s in RoundStatus],
                                                [a.value for a in RoundAction])))
def test_every_action_from_every_status(status, action):
    if (status, action) in ALLOWED:
        assert check_round_transition(status, action) == ALLOWED[(status, action)]
    else:
        with pytest.raises(Conflict) as error:
            check_round_transition(status, action)
        assert error.value.status_code == 409
        assert error.value.message == "A round that is “{status}” cannot do this."
        assert error.value.params == {"status": [rules.ROUND_STATUS_LABELS[status]]}


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError):
        check_round_transition("setup", "reopen")


def test_award_status_rules():
    for status in ("closed", "judging"):
        rules.check_award_allows_rounds(status)
    for status in ("draft", "open", "published"):
        with pytest.raises(Conflict):
            rules.check_award_allows_rounds(status)
    rules.check_award_allows_scoring("judging")
    for status in ("draft", "open", "closed", "published"):
        with pytest.raises(Conflict):
            rules.check_award_allows_scoring(status)


def test_settings_are_frozen_outside_setup_and_scores_only_while_scoring():
    rules.check_setup("setup")
    for status in ("scoring", "closed"):
        with pytest.raises(Conflict):
            rules.check_setup(status)
    rules.check_scoring("scoring")
    with pytest.raises(Conflict) as error:
        rules.check_scoring("closed")
    assert error.value.message == "This round is closed: scores can no longer change."
    with pytest.raises(Conflict) as error:
        rules.check_scoring("setup")
    assert error.value.message == "Scoring has not started in this round yet."
    rules.check_not_closed("setup")
    rules.check_not_closed("scoring")
    with pytest.raises(Conflict):
        rules.check_not_closed("closed")


def test_close_needs_final_scores_or_a_forced_reason():
    rules.check_close(missing=0, force=False, reason=None)
    rules.check_close(missing=0, force=True, reason=None)
    with pytest.raises(Conflict) as error:
        rules.check_close(missing=3, force=False, reason="x")
    assert error.value.params == {"n": 3}
    for reason in (None, "", "   "):
        with pytest.raises(Invalid) as error:
            rules.check_close(missing=3, force=True, reason=reason)
        assert error.value.field == "reason"
    rules.check_close(missing=3, force=True, reason="Hết hạn")


def test_score_state():
    assert [rules.score_state(v) for v in (None, False, True)] == ["todo", "draft", "final"]


def test_may_see_and_may_score():
    assert [rules.may_see_assignment(active=a, round_status=s)
            for a in (True, False) for s in ("setup", "scoring", "closed")] == [
        False, True, True, False, False, False]
    assert [rules.may_score(active=a, round_status=s)
            for a in (True, False) for s in ("setup", "scoring", "closed")] == [
        False, True, False, False, False, False]


# --- The rubric ----------------------------------------------------------------------------

def test_check_criteria_accepts_a_usual_rubric():
    rubric = [("Nội dung", "", 40.0), ("Hình thức", "Cách thể hiện", 30.0),
              ("Tác động", "", 30.0)]
    assert check_criteria(rubric) == rubric


@pytest.mark.parametrize(("criteria", "field", "params"), [
    ([("", "", 10.0)], "criteria.0.name", {}),
    ([("Nội dung", "", 40), ("", "", 10)], "criteria.1.name", {}),
    ([("Nội dung", "", 40), ("NOI DUNG", "", 10)], "criteria.1.name", {"name": "NOI DUNG"}),
    ([("Nội dung", "", 40), ("nội dung", "", 10)], "criteria.1.name", {"name": "nội dung"}),
    ([("Nội dung", "", 0)], "criteria.0.max_points", {"name": "Nội dung"}),
    ([("Nội dung", "", -5)], "criteria.0.max_points", {"name": "Nội dung"}),
    ([("Nội dung", "", 1000.5)], "criteria.0.max_points", {"name": "Nội dung"}),
    ([("Nội dung", "", math.nan)], "criteria.0.max_points", {"name": "Nội dung"}),
    ([("Nội dung", "", math.inf)], "criteria.0.max_points", {"name": "Nội dung"}),
])
def test_check_criteria_refusals_name_the_line(criteria, field, params):
    with pytest.raises(Invalid) as error:
        check_criteria(criteria)
    assert (error.value.field, error.value.params) == (field, params)


def test_check_criteria_accepts_the_upper_bound():
    assert check_criteria([("Nội dung", "", 1000.0)]) == [("Nội dung", "", 1000.0)]


# --- Points --------------------------------------------------------------------------------

def test_points_are_kept_by_criterion_id_with_their_total():
    assert check_points({"11": 35, "12": 25.5, " 13 ": 20.25}, RUBRIC, final=True) == (
        {"11": 35.0, "12": 25.5, "13": 20.25}, 80.75)


def test_a_draft_may_leave_criteria_out_and_none_is_no_point():
    assert check_points({"11": 10, "12": None}, RUBRIC, final=False) == ({"11": 10.0}, 10.0)
    assert check_points({}, RUBRIC, final=False) == ({}, 0)


def test_bounds_are_inclusive():
    assert check_points({"11": 0, "12": 30, "13": 30.0}, RUBRIC, final=True) == (
        {"11": 0.0, "12": 30.0, "13": 30.0}, 60.0)


@pytest.mark.parametrize("value", [-0.01, 40.01, 41, -1, 1e9])
def test_points_out_of_bounds_name_the_criterion(value):
    with pytest.raises(Invalid) as error:
        check_points({"11": value}, RUBRIC, final=False)
    assert error.value.message == "The points for “{name}” must be between 0 and {max}."
    assert (error.value.params, error.value.field) == ({"name": "Nội dung", "max": "40"},
                                                       "points.11")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, True, False, "12", [1]])
def test_points_that_are_not_numbers_name_the_criterion(value):
    with pytest.raises(Invalid) as error:
        check_points({"12": value}, RUBRIC, final=False)
    assert error.value.message == "The points for “{name}” must be a number."
    assert (error.value.params, error.value.field) == ({"name": "Hình thức"}, "points.12")


@pytest.mark.parametrize("value", [10.001, 0.125, 29.999])
def test_more_than_two_decimals_is_refused(value):
    with pytest.raises(Invalid) as error:
        check_points({"13": value}, RUBRIC, final=False)
    assert error.value.message == "The points for “{name}” can have at most two decimals."
    assert error.value.params == {"name": "Tác động"}


def test_two_decimals_add_up_exactly():
    assert check_points({"11": 0.1, "12": 0.2, "13": 0.01}, RUBRIC, final=True)[1] == 0.31


@pytest.mark.parametrize("key", ["99", "abc", "", "11.0", "1" * 100])
def test_an_unknown_criterion_key_is_refused_and_named(key):
    with pytest.raises(Invalid) as error:
        check_points({key: 1}, RUBRIC, final=False)
    assert error.value.message == "“{key}” is not a criterion of this round's rubric."
    assert error.value.params == {"key": key[:40]}


def test_final_without_every_criterion_names_the_missing_ones_in_rubric_order():
    with pytest.raises(Invalid) as error:
        check_points({"12": 10}, RUBRIC, final=True)
    assert error.value.params == {"names": "Nội dung, Tác động"}
    with pytest.raises(Invalid) as error:
        check_points({"11": 10, "12": None, "13": 5}, RUBRIC, final=True)
    assert error.value.params == {"names": "Hình thức"}


# --- Outlets and conflicts -----------------------------------------------------------------

@pytest.mark.parametrize(("organization", "outlet", "expected"), [
    ("Báo Quảng Ninh", "Báo Quảng Ninh", True),
    ("bao quang ninh", "Báo Quảng Ninh", True),
    ("BÁO QUẢNG NINH", "bao quang ninh", True),
    ("Báo Quảng Ninh", "Báo Quảng Ninh điện tử", True),
    ("Báo Quảng Ninh điện tử", "Báo Quảng Ninh", True),
    ("Báo Quảng Ninh, Ban biên tập", "Báo Quảng Ninh", True),
    ("Đài PT-TH Đồng Nai", "Dai PT-TH Dong Nai", True),
    ("Báo", "Báo Quảng Ninh", False),
    ("Báo Quảng Ninh", "Báo", False),
    ("Báo Quảng Nam", "Báo Quảng Ninh", False),
    ("Báo Quảng", "Báo Quảng Ninh", True),
    ("VTV", "VTV", True),
    ("VTV", "VTV1", False),
    ("VTV", "Đài VTV", False),
    (None, "Báo Quảng Ninh", False),
    ("", "Báo Quảng Ninh", False),
    ("Báo Quảng Ninh", "", False),
    ("  ", "  ", False),
])
def test_names_outlet(organization, outlet, expected):
    assert names_outlet(organization, outlet) is expected


ENTRY = EntrySpec(id=1, category_id=7, author_ids=frozenset({100, 101}),
                  author_emails=frozenset({"tac.gia@example.vn"}), outlet="Báo Ninh Thuận")


def test_conflict_of_an_author_by_account():
    assert conflict_of(ENTRY, JudgeSpec(id=101)) == "author"


def test_conflict_of_an_author_by_verified_email():
    assert conflict_of(ENTRY, JudgeSpec(id=5, verified_email="tac.gia@example.vn")) == \
        "author_email"
    # An unverified address is passed as None by the caller: it proves nothing.
    assert conflict_of(ENTRY, JudgeSpec(id=5, verified_email=None)) is None
    assert conflict_of(ENTRY, JudgeSpec(id=5, verified_email="khac@example.vn")) is None


def test_conflict_declared():
    assert conflict_of(ENTRY, JudgeSpec(id=5), declared=True) == "declared"
    # The author reason wins over the declaration.
    assert conflict_of(ENTRY, JudgeSpec(id=100), declared=True) == "author"


def test_conflict_by_outlet_only_when_the_round_asks():
    judge = JudgeSpec(id=5, organization="Báo Ninh Thuận điện tử")
    assert conflict_of(ENTRY, judge) == "outlet"
    assert conflict_of(ENTRY, judge, check_outlet=True) == "outlet"
    assert conflict_of(ENTRY, judge, check_outlet=False) is None
    assert conflict_of(ENTRY, JudgeSpec(id=5, organization="Báo Bình Thuận")) is None


def test_no_conflict():
    assert conflict_of(ENTRY, JudgeSpec(id=5, verified_email="gk@example.vn",
                                        organization="Đại học Báo chí")) is None


# --- Assignment: examples ------------------------------------------------------------------

def _entries(n, category_id=1, start=1):
    return [EntrySpec(id=i, category_id=category_id) for i in range(start, start + n)]


def _judges(*ids):
    return [JudgeSpec(id=i) for i in ids]


def _loads(plan):
    return Counter(j for judges in plan.assignments.values() for j in judges)


def test_plan_gives_every_entry_n_judges_and_balances_loads():
    plan = plan_assignment(_entries(5), {1: _judges(1, 2, 3)}, judges_per_entry=2)
    assert plan.uncovered == []
    assert sorted(plan.assignments) == [1, 2, 3, 4, 5]
    assert all(len(set(js)) == 2 for js in plan.assignments.values())
    assert sorted(_loads(plan).values()) == [3, 3, 4]


def test_plan_never_assigns_an_author_a_declared_or_an_outlet_conflict():
    entries = [EntrySpec(id=1, category_id=1, author_ids=frozenset({1})),
               EntrySpec(id=2, category_id=1, author_emails=frozenset({"b@example.vn"})),
               EntrySpec(id=3, category_id=1, outlet="Báo Nhân Dân")]
    judges = [JudgeSpec(id=1), JudgeSpec(id=2, verified_email="b@example.vn"),
              JudgeSpec(id=3, organization="Báo Nhân Dân"), JudgeSpec(id=4)]
    plan = plan_assignment(entries, {1: judges}, judges_per_entry=2, declared={(1, 4)})
    assert plan.uncovered == []
    # Entry 1: judge 1 is its author and judge 4 declared a conflict: 2 and 3 remain.
    assert sorted(plan.assignments[1]) == [2, 3]
    assert set(plan.assignments[2]) <= {1, 3, 4}  # judge 2's verified e-mail is an author's
    assert set(plan.assignments[3]) <= {1, 2, 4}  # judge 3 works for the outlet
    # Without the outlet rule judge 3 may take entry 3.
    plan = plan_assignment(entries[2:], {1: judges[2:3]}, judges_per_entry=1,
                           check_outlet=False)
    assert plan.assignments == {3: [3]}


def test_an_entry_short_of_eligible_judges_is_uncovered():
    entries = [EntrySpec(id=1, category_id=1, author_ids=frozenset({1})),
               EntrySpec(id=2, category_id=1)]
    plan = plan_assignment(entries, {1: _judges(1, 2)}, judges_per_entry=2)
    assert plan.uncovered == [1]
    assert sorted(plan.assignments[2]) == [1, 2]


def test_an_entry_whose_category_has_no_panel_is_uncovered():
    plan = plan_assignment(_entries(1, category_id=9), {1: _judges(1, 2)}, judges_per_entry=1)
    assert plan.uncovered == [1]
    assert plan.assignments == {1: []}


def test_judges_are_taken_only_from_the_entry_category_panel():
    entries = _entries(2, category_id=1) + _entries(2, category_id=2, start=3)
    plan = plan_assignment(entries, {1: _judges(1, 2), 2: _judges(3, 4)}, judges_per_entry=2)
    assert {e: sorted(js) for e, js in plan.assignments.items()} == {
        1: [1, 2], 2: [1, 2], 3: [3, 4], 4: [3, 4]}


def test_kept_judges_stay_and_only_the_missing_ones_are_added():
    plan = plan_assignment(_entries(3), {1: _judges(1, 2, 3, 4)}, judges_per_entry=2,
                           keep={1: [4], 2: [3, 4]})
    assert 4 in plan.assignments[1]
    assert sorted(plan.assignments[2]) == [3, 4]
    assert len(plan.assignments[3]) == 2


def test_a_kept_judge_now_barred_is_dropped():
    entries = [EntrySpec(id=1, category_id=1)]
    plan = plan_assignment(entries, {1: _judges(1, 2, 3)}, judges_per_entry=2,
                           keep={1: [1, 2]}, declared={(1, 1)})
    assert sorted(plan.assignments[1]) == [2, 3]  # judge 1 barred: the two others
    # A kept judge no longer on the category's panel is dropped too.
    plan = plan_assignment(entries, {1: _judges(2, 3)}, judges_per_entry=1, keep={1: [1]})
    assert plan.assignments[1] in ([2], [3])


def test_more_kept_judges_than_needed_keep_the_first_ones():
    plan = plan_assignment(_entries(1), {1: _judges(1, 2, 3)}, judges_per_entry=2,
                           keep={1: [3, 1, 2]})
    assert plan.assignments == {1: [3, 1]}


def test_the_same_judges_are_not_always_paired():
    plan = plan_assignment(_entries(30), {1: _judges(*range(1, 7))}, judges_per_entry=2)
    pairs = {tuple(sorted(js)) for js in plan.assignments.values()}
    assert len(pairs) > 3


# --- Assignment: properties ----------------------------------------------------------------

@st.composite
def assignment_inputs(draw, conflicts=None):
    """Random categories, panels (a judge may sit on several), conflicts of every kind,
    N, and kept assignments (some allowed, some not)."""
    n_judges = draw(st.integers(1, 9))
    judge_ids = list(range(1, n_judges + 1))
    emails = ["a@x.vn", "b@x.vn", "c@x.vn"]
    outlets = ["Báo Nhân Dân", "Báo Quảng Ninh", "Đài Truyền hình Việt Nam"]
    with_conflicts = draw(st.booleans()) if conflicts is None else conflicts
    judges = {}
    for j in judge_ids:
        judges[j] = JudgeSpec(
            id=j,
            verified_email=draw(st.sampled_from([None, *emails])) if with_conflicts else None,
            organization=draw(st.sampled_from([None, *outlets])) if with_conflicts else None)
    categories = draw(st.lists(st.integers(1, 5), min_size=1, max_size=3, unique=True))
    panel = {c: [judges[j] for j in draw(st.lists(st.sampled_from(judge_ids), unique=True,
                                                  max_size=n_judges))]
             for c in categories}
    n_entries = draw(st.integers(0, 14))
    entries = []
    for i in range(1, n_entries + 1):
        if with_conflicts:
            author_ids = frozenset(draw(st.lists(st.sampled_from(judge_ids + [50, 51]),
                                                 max_size=2)))
            author_emails = frozenset(draw(st.lists(st.sampled_from(emails), max_size=2)))
            outlet = draw(st.sampled_from(["", *outlets]))
        else:
            author_ids, author_emails, outlet = frozenset({50 + i}), frozenset(), "Báo khác"
        entries.append(EntrySpec(id=100 + i, category_id=draw(st.sampled_from(categories)),
                                 author_ids=author_ids, author_emails=author_emails,
                                 outlet=outlet))
    declared = set()
    if with_conflicts and entries:
        declared = set(draw(st.lists(st.tuples(st.sampled_from([e.id for e in entries]),
                                               st.sampled_from(judge_ids)), max_size=6)))
    keep = {}
    if entries and with_conflicts and draw(st.booleans()):
        for e in draw(st.lists(st.sampled_from(entries), unique_by=lambda e: e.id,
                               max_size=4)):
            keep[e.id] = draw(st.lists(st.sampled_from(judge_ids), unique=True, max_size=3))
    n = draw(st.integers(1, 4))
    check_outlet = draw(st.booleans())
    return dict(entries=entries, panel=panel, judges_per_entry=n, declared=declared,
                keep=keep, check_outlet=check_outlet, with_conflicts=with_conflicts)


def _run(inputs, **over):
    args = {k: v for k, v in inputs.items() if k != "with_conflicts"}
    args.update(over)
    return plan_assignment(args.pop("entries"), args.pop("panel"), **args)


def _eligible(inputs, entry):
    return [j.id for j in inputs["panel"].get(entry.category_id, [])
            if conflict_of(entry, j, declared=(entry.id, j.id) in inputs["declared"],
                           check_outlet=inputs["check_outlet"]) is None]


PROPERTY = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(assignment_inputs())
def test_property_every_covered_entry_gets_n_distinct_judges_of_its_panel_never_a_conflict(
        inputs):
    plan = _run(inputs)
    n = inputs["judges_per_entry"]
    assert sorted(plan.assignments) == sorted(e.id for e in inputs["entries"])
    for entry in inputs["entries"]:
        judges = plan.assignments[entry.id]
        assert len(set(judges)) == len(judges)
        assert set(judges) <= set(_eligible(inputs, entry))
        if entry.id not in plan.uncovered:
            assert len(judges) == n


@PROPERTY
@given(assignment_inputs())
def test_property_uncovered_iff_fewer_than_n_eligible_judges(inputs):
    plan = _run(inputs)
    expected = sorted(e.id for e in inputs["entries"]
                      if len(_eligible(inputs, e)) < inputs["judges_per_entry"])
    assert plan.uncovered == expected


@PROPERTY
@given(assignment_inputs(conflicts=False))
def test_property_without_conflicts_loads_in_a_category_differ_by_at_most_one(inputs):
    plan = _run(inputs)
    for category_id, judges in inputs["panel"].items():
        entries = [e.id for e in inputs["entries"] if e.category_id == category_id]
        if not entries or len(judges) < inputs["judges_per_entry"]:
            continue
        load = Counter({j.id: 0 for j in judges})
        for e in entries:
            load.update(plan.assignments[e])
        assert max(load.values()) - min(load.values()) <= 1, (category_id, load)


@PROPERTY
@given(assignment_inputs(), st.randoms(use_true_random=False))
def test_property_deterministic_also_with_the_input_lists_shuffled(inputs, rnd):
    first = _run(inputs)
    again = _run(inputs)
    assert (again.assignments, again.uncovered) == (first.assignments, first.uncovered)
    entries = list(inputs["entries"])
    rnd.shuffle(entries)
    panel = {}
    for c in rnd.sample(list(inputs["panel"]), len(inputs["panel"])):
        judges = list(inputs["panel"][c])
        rnd.shuffle(judges)
        panel[c] = judges
    shuffled = _run(inputs, entries=entries, panel=panel)

    def as_sets(plan):
        return {e: sorted(js) for e, js in plan.assignments.items()}

    assert as_sets(shuffled) == as_sets(first)
    assert shuffled.uncovered == first.uncovered


@PROPERTY
@given(assignment_inputs())
def test_property_kept_assignments_still_allowed_stay(inputs):
    plan = _run(inputs)
    n = inputs["judges_per_entry"]
    for entry in inputs["entries"]:
        eligible = _eligible(inputs, entry)
        still_allowed = [j for j in inputs["keep"].get(entry.id, []) if j in eligible][:n]
        assert set(still_allowed) <= set(plan.assignments[entry.id])


def test_property_loads_balanced_for_a_large_conflict_free_panel():
    rnd = random.Random(8)
    entries = [EntrySpec(id=i, category_id=rnd.choice([1, 2])) for i in range(1, 301)]
    panel = {1: _judges(*range(1, 11)), 2: _judges(*range(5, 17))}
    plan = plan_assignment(entries, panel, judges_per_entry=3)
    assert plan.uncovered == []
    for category_id, judges in panel.items():
        load = Counter({j.id: 0 for j in judges})
        for e in entries:
            if e.category_id == category_id:
                load.update(plan.assignments[e.id])
        assert max(load.values()) - min(load.values()) <= 1


# --- Replacement after a declared conflict -------------------------------------------------

def test_replacement_is_the_least_loaded_conflict_free_judge_not_already_on_the_entry():
    entry = EntrySpec(id=1, category_id=1, author_ids=frozenset({2}), outlet="Báo Nhân Dân")
    judges = [JudgeSpec(id=1), JudgeSpec(id=2), JudgeSpec(id=3, organization="Báo Nhân Dân"),
              JudgeSpec(id=4), JudgeSpec(id=5), JudgeSpec(id=6)]
    load = {1: 1, 4: 5, 5: 2, 6: 3}
    # 1: already on it; 2: author; 3: outlet; 4..6 free: 5 is the least loaded.
    assert pick_replacement(entry, judges, assigned={1}, declared=set(), load=load) == 5
    assert pick_replacement(entry, judges, assigned={1}, declared={5}, load=load) == 6
    # Without the outlet rule, judge 3 (no load) is the least loaded.
    assert pick_replacement(entry, judges, assigned={1}, declared=set(), load=load,
                            check_outlet=False) == 3


def test_no_replacement_when_nobody_is_free():
    entry = EntrySpec(id=1, category_id=1, author_ids=frozenset({2}))
    judges = _judges(1, 2, 3)
    assert pick_replacement(entry, judges, assigned={1, 3}, declared=set(), load={}) is None
    assert pick_replacement(entry, [], assigned=set(), declared=set(), load={}) is None


def test_replacement_ties_are_broken_deterministically():
    entry = EntrySpec(id=7, category_id=1)
    judges = _judges(1, 2, 3, 4)
    picks = {pick_replacement(entry, list(reversed(judges)) if flip else judges,
                              assigned=set(), declared=set(), load={})
             for flip in (False, True)}
    assert len(picks) == 1
