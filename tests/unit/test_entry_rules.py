from datetime import UTC, date, datetime

import pytest

from app.entries import rules
from app.entries.rules import ENTRY_TRANSITIONS, EntryAction, check_transition
from app.errors import Conflict, Forbidden, Invalid

OPENS = datetime(2021, 5, 1, 1, 0, tzinfo=UTC)
CLOSES = datetime(2021, 10, 31, 10, 0, tzinfo=UTC)


def test_the_transition_table():
    assert {a.value: (sorted(t.sources), t.target.value, t.role.value, t.reason_required,
                      t.mail)
            for a, t in ENTRY_TRANSITIONS.items()} == {
        "submit": (["draft", "returned"], "submitted", "journalist", False, "entry_receipt"),
        "withdraw": (["accepted", "submitted"], "withdrawn", "journalist", False, None),
        "accept": (["submitted"], "accepted", "organizer", False, "entry_accepted"),
        "return": (["submitted"], "returned", "organizer", True, "entry_returned"),
        "reject": (["submitted"], "rejected", "organizer", True, "entry_rejected"),
    }


@pytest.mark.parametrize(("status", "action", "role", "target"), [
    ("draft", "submit", "journalist", "submitted"),
    ("returned", "submit", "journalist", "submitted"),
    ("submitted", "withdraw", "journalist", "withdrawn"),
    ("accepted", "withdraw", "journalist", "withdrawn"),
    ("submitted", "accept", "organizer", "accepted"),
])
def test_allowed_moves(status, action, role, target):
    assert check_transition(status, action, role=role) == target


@pytest.mark.parametrize(("status", "action"), [
    ("submitted", "submit"), ("accepted", "submit"), ("draft", "withdraw"),
    ("rejected", "withdraw"), ("draft", "accept"), ("accepted", "reject"), ("withdrawn", "accept"),
])
def test_moves_from_the_wrong_status_are_conflicts(status, action):
    role = ENTRY_TRANSITIONS[EntryAction(action)].role
    with pytest.raises(Conflict):
        check_transition(status, action, role=role, reason="lý do")


def test_moves_by_the_wrong_role_are_forbidden():
    with pytest.raises(Forbidden):
        check_transition("submitted", "accept", role="journalist")
    with pytest.raises(Forbidden):
        check_transition("draft", "submit", role="organizer")


@pytest.mark.parametrize("decision", ["return", "reject"])
def test_return_and_reject_need_a_reason(decision):
    with pytest.raises(Invalid) as err:
        check_transition("submitted", decision, role="organizer", reason="   ")
    assert err.value.field == "reason"


def test_unknown_decision_is_invalid():
    with pytest.raises(Invalid):
        check_transition("submitted", "approve", role="organizer")


def test_window_is_half_open():
    rules.check_window(OPENS, OPENS, CLOSES)
    rules.check_window(datetime(2021, 10, 31, 9, 59, 59, tzinfo=UTC), OPENS, CLOSES)
    with pytest.raises(Conflict) as early:
        rules.check_window(datetime(2021, 5, 1, 0, 59, tzinfo=UTC), OPENS, CLOSES)
    assert early.value.message == "Submissions have not opened yet."
    with pytest.raises(Conflict) as late:
        rules.check_window(CLOSES, OPENS, CLOSES)
    assert late.value.message == "The submission deadline has passed."


def test_publication_date_must_be_inside_the_period():
    rules.check_publication_date(date(2020, 11, 1), date(2020, 11, 1), date(2021, 10, 31))
    rules.check_publication_date(date(2021, 10, 31), date(2020, 11, 1), date(2021, 10, 31))
    with pytest.raises(Invalid) as err:
        rules.check_publication_date(date(2020, 10, 31), date(2020, 11, 1), date(2021, 10, 31))
    assert err.value.params == {"start": "01/11/2020", "end": "31/10/2021"}


def test_limits():
    rules.check_author_count(5, 5)
    with pytest.raises(Invalid):
        rules.check_author_count(6, 5)
    rules.check_series_parts(None, 5)
    rules.check_series_parts(5, 5)
    with pytest.raises(Invalid):
        rules.check_series_parts(6, 5)
    rules.check_entry_limit(2, 3)
    with pytest.raises(Conflict):
        rules.check_entry_limit(3, 3)


def test_a_co_author_over_the_limit_is_named():
    rules.check_entry_limit(2, 3, co_author="Lê Thị Hoa")
    with pytest.raises(Conflict) as err:
        rules.check_entry_limit(3, 3, co_author="Lê Thị Hoa")
    assert (err.value.field, err.value.params) == ("co_authors", {"name": "Lê Thị Hoa", "n": 3})


def test_co_author_addresses_are_distinct_and_not_the_submitters():
    rules.check_distinct_emails("an@example.vn", ["hoa@example.vn", None, None, "nam@example.vn"])
    for emails in (["an@example.vn"], ["hoa@example.vn", "hoa@example.vn"]):
        with pytest.raises(Invalid):
            rules.check_distinct_emails("an@example.vn", emails)


def test_submitting_needs_a_verified_address():
    rules.check_may_submit(True)
    with pytest.raises(Forbidden) as err:
        rules.check_may_submit(False)
    assert err.value.message == "Please confirm your e-mail address before submitting."


def test_url_rules():
    rules.check_url(None, required=False)
    rules.check_url("https://baoninhthuan.com.vn/bai-viet", required=True)
    with pytest.raises(Conflict):
        rules.check_url(None, required=True)
    with pytest.raises(Invalid):
        rules.check_url("javascript:alert(1)", required=False)


def test_withdrawal_ends_when_judging_starts():
    rules.check_withdrawable("closed")
    with pytest.raises(Conflict):
        rules.check_withdrawable("judging")


def test_a_file_is_attached_once_and_files_are_bounded():
    rules.check_new_file(["a" * 64], "b" * 64)
    with pytest.raises(Conflict) as same:
        rules.check_new_file(["a" * 64], "a" * 64)
    assert same.value.message == "This file is already attached to the entry."
    with pytest.raises(Conflict) as full:
        rules.check_new_file([str(i) for i in range(rules.MAX_FILES_PER_ENTRY)], "new")
    assert full.value.params == {"n": 20}


def test_codes_have_three_digits_at_least():
    assert rules.entry_code("BDT", 7) == "BDT-007"
    assert rules.entry_code("TH", 1234) == "TH-1234"


def test_files_fit_a_category_by_kind_and_size():
    from app.entries.rules import check_files_fit

    files = [("bai.pdf", "pdf", 10), ("anh.png", "image", 10), ("lon.pdf", "pdf", 101)]
    check_files_fit(files[:2], kinds=["pdf", "image"], max_bytes=100, category="Báo in")
    with pytest.raises(Conflict) as err:
        check_files_fit(files, kinds=["pdf"], max_bytes=100, category="Báo in")
    assert err.value.params == {"category": "Báo in", "files": "anh.png; lon.pdf"}
