from datetime import UTC, date, datetime

import pytest

from app.awards import rules
from app.awards.rules import AWARD_TRANSITIONS, AwardStatus, check_award_transition
from app.errors import Conflict, Invalid

LIMITS = {"max_entries_per_author": 3, "max_authors_per_entry": 5, "max_series_parts": 5}


def test_award_moves_forward_one_step_or_reopens_until_judging():
    assert {s: sorted(t) for s, t in AWARD_TRANSITIONS.items()} == {
        "draft": ["open"],
        "open": ["closed"],
        "closed": ["judging", "open"],
        "judging": ["published"],
        "published": [],
    }


@pytest.mark.parametrize(
    ("current", "target"),
    [("draft", "closed"), ("draft", "published"), ("open", "draft"), ("published", "judging"),
     ("judging", "open"), ("published", "open"), ("judging", "closed"), ("open", "open")],
)
def test_forbidden_award_transitions_are_conflicts(current, target):
    with pytest.raises(Conflict):
        check_award_transition(current, target, category_count=2)


def test_allowed_transition_returns_the_new_status():
    assert check_award_transition("closed", "judging", category_count=1) == AwardStatus.judging


def test_opening_needs_a_category():
    with pytest.raises(Conflict) as err:
        check_award_transition("draft", "open", category_count=0)
    assert err.value.message == "Add at least one category before opening the award."


def test_opening_needs_the_submission_window():
    with pytest.raises(Conflict) as err:
        check_award_transition("draft", "open", category_count=1, window_set=False)
    assert err.value.message == "Set the submission window before opening the award."


def test_unknown_status_is_invalid():
    with pytest.raises(Invalid):
        check_award_transition("draft", "archived", category_count=1)


def _fields(**over):
    values = dict(
        title="Giải", year=2021,
        opens=datetime(2021, 5, 1, tzinfo=UTC), closes=datetime(2021, 10, 31, tzinfo=UTC),
        published_from=date(2020, 11, 1), published_to=date(2021, 10, 31), limits=dict(LIMITS),
    )
    values.update(over)
    return values


def test_valid_award_fields_pass():
    assert rules.check_award_fields(**_fields()) is None


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"title": ""}, "title"),
        ({"year": 1999}, "year"),
        ({"closes": datetime(2021, 4, 1, tzinfo=UTC)}, "submission_closes_at"),
        ({"published_to": date(2020, 1, 1)}, "published_to"),
        ({"limits": {**LIMITS, "max_entries_per_author": 0}}, "max_entries_per_author"),
        ({"limits": {**LIMITS, "max_series_parts": 101}}, "max_series_parts"),
    ],
)
def test_invalid_award_fields_name_the_field(over, field):
    with pytest.raises(Invalid) as err:
        rules.check_award_fields(**_fields(**over))
    assert err.value.field == field


@pytest.mark.parametrize("slug", ["giai-2021", "a", "xay-dung-dang-2021"])
def test_good_slugs(slug):
    assert rules.check_slug(slug) == slug


@pytest.mark.parametrize("slug", ["Giai", "giai--2021", "-giai", "giải", "a b", "x" * 121])
def test_bad_slugs(slug):
    with pytest.raises(Invalid):
        rules.check_slug(slug)


def test_timezone_is_checked():
    assert rules.check_timezone("Asia/Ho_Chi_Minh") == "Asia/Ho_Chi_Minh"
    with pytest.raises(Invalid):
        rules.check_timezone("Mars/Olympus")


def _category(**over):
    values = dict(code="BDT", name="Báo điện tử", kinds=["pdf"], max_file_mb=50,
                  quota={"A": 1, "B": 2, "C": 3, "KK": 4})
    values.update(over)
    return values


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"code": "bdt"}, "code"),
        ({"code": "1AB"}, "code"),
        ({"code": "ABCDEFGHIJK"}, "code"),
        ({"name": ""}, "name"),
        ({"kinds": []}, "accepted_kinds"),
        ({"kinds": ["exe"]}, "accepted_kinds"),
        ({"max_file_mb": 0}, "max_file_mb"),
        ({"max_file_mb": 5000}, "max_file_mb"),
        ({"quota": {"Z": 1}}, "prize_quota"),
        ({"quota": {"A": -1}}, "prize_quota"),
    ],
)
def test_invalid_category_fields_name_the_field(over, field):
    with pytest.raises(Invalid) as err:
        rules.check_category_fields(**_category(**over))
    assert err.value.field == field


def test_categories_freeze_when_submissions_close():
    assert [s for s in AwardStatus if rules.category_editable(s)] == ["draft", "open"]
