from datetime import UTC, datetime, timedelta

import pytest

from app.accounts import rules
from app.errors import Invalid


def test_password_of_eight_characters_is_enough():
    assert rules.check_password("12345678") is None


def test_short_password_is_refused_with_the_minimum():
    with pytest.raises(Invalid) as err:
        rules.check_password("1234567")
    assert err.value.field == "password"
    assert err.value.params == {"n": 8}


def test_email_is_normalised_to_lower_case():
    assert rules.normalize_email("  Phong.Vien@Example.VN ") == "phong.vien@example.vn"


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@", "@b.vn", "a b@c.vn"])
def test_bad_emails_are_refused(email):
    with pytest.raises(Invalid) as err:
        rules.normalize_email(email)
    assert err.value.field == "email"


def test_unknown_role_is_refused():
    assert rules.check_role("judge") == rules.Role.judge
    with pytest.raises(Invalid):
        rules.check_role("admin")


def test_throttle_counts_failures_inside_the_window():
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert rules.throttle_window_start(now, 15) == now - timedelta(minutes=15)
    assert rules.is_throttled(4, 5) is False
    assert rules.is_throttled(5, 5) is True
