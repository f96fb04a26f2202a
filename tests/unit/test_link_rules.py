"""Pure rules of mailed links and of the limits on the mails a person can cause."""

from datetime import UTC, datetime, timedelta

import pytest

from app.accounts import rules
from app.accounts.rules import Failures, LinkState, SendLimit
from app.errors import Invalid

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(("used_at", "expires_at", "state"), [
    (None, NOW + timedelta(seconds=1), LinkState.valid),
    (None, NOW, LinkState.expired),
    (None, NOW - timedelta(hours=1), LinkState.expired),
    (NOW - timedelta(minutes=5), NOW + timedelta(hours=1), LinkState.used),
    (NOW - timedelta(hours=2), NOW - timedelta(hours=1), LinkState.used),
])
def test_link_state(used_at, expires_at, state):
    assert rules.link_state(used_at=used_at, expires_at=expires_at, now=NOW) == state


def test_links_last_48_hours_one_hour_and_seven_days():
    assert {p.value: ttl for p, ttl in rules.LINK_TTL.items()} == {
        "verify_email": timedelta(hours=48), "change_email": timedelta(hours=48),
        "password_reset": timedelta(hours=1), "invitation": timedelta(days=7)}


VERIFY = SendLimit(5, timedelta(hours=24), timedelta(seconds=60))


def test_a_first_mail_may_go_at_once():
    assert rules.send_wait(Failures(), limit=VERIFY, now=NOW) == 0


def test_a_second_mail_waits_for_the_minute_to_pass():
    sent = rules.after_send(Failures(), limit=VERIFY, now=NOW)
    assert sent == Failures(count=1, first_at=NOW, last_at=NOW)
    assert rules.send_wait(sent, limit=VERIFY, now=NOW + timedelta(seconds=15)) == 45
    assert rules.send_wait(sent, limit=VERIFY, now=NOW + timedelta(seconds=60)) == 0


def test_the_sixth_mail_of_a_day_waits_until_the_day_since_the_first_is_over():
    sent = Failures()
    for minute in range(5):
        sent = rules.after_send(sent, limit=VERIFY, now=NOW + timedelta(minutes=minute))
    assert sent.count == 5
    assert rules.send_wait(sent, limit=VERIFY, now=NOW + timedelta(hours=1)) == 23 * 3600
    assert rules.send_wait(sent, limit=VERIFY, now=NOW + timedelta(hours=24)) == 0


def test_counting_after_the_window_starts_again_from_one():
    sent = Failures(count=5, first_at=NOW - timedelta(hours=25), last_at=NOW - timedelta(hours=24))
    assert rules.after_send(sent, limit=VERIFY, now=NOW) == Failures(count=1, first_at=NOW,
                                                                     last_at=NOW)


def test_reset_limits_have_no_interval():
    limit = rules.MAIL_LIMITS[rules.MailScope.reset_email]
    sent = Failures()
    for _ in range(3):
        assert rules.send_wait(sent, limit=limit, now=NOW) == 0
        sent = rules.after_send(sent, limit=limit, now=NOW)
    assert rules.send_wait(sent, limit=limit, now=NOW) == 3600


def test_mail_scopes_fit_the_counter_column():
    assert all(len(scope.value) <= 10 for scope in rules.MailScope)
    assert not {s.value for s in rules.MailScope} & {s.value for s in rules.ThrottleScope}


@pytest.mark.parametrize("role", ["judge", "organizer"])
def test_judges_and_organizers_are_invited(role):
    assert rules.check_invitable_role(role) == role


@pytest.mark.parametrize(("role", "message"), [
    ("journalist", "Only judges and organizers are invited."), ("admin", "Unknown role.")])
def test_other_roles_are_not_invited(role, message):
    with pytest.raises(Invalid) as err:
        rules.check_invitable_role(role)
    assert (err.value.message, err.value.field) == (message, "role")


def test_languages_are_vietnamese_and_english():
    assert [rules.check_language(code) for code in ("vi", "en")] == ["vi", "en"]
    with pytest.raises(Invalid) as err:
        rules.check_language("fr")
    assert (err.value.message, err.value.field) == ("Unknown language.", "language")


def test_a_link_ended_before_its_time_was_replaced_not_expired():
    from datetime import UTC, datetime, timedelta

    from app.accounts.rules import LinkState, link_state

    created = datetime(2026, 11, 28, 8, tzinfo=UTC)
    lifetime = timedelta(hours=48)
    common = {"used_at": None, "created_at": created, "lifetime": lifetime}
    assert link_state(expires_at=created + timedelta(minutes=5),
                      now=created + timedelta(minutes=6), **common) == LinkState.replaced
    assert link_state(expires_at=created + lifetime,
                      now=created + lifetime, **common) == LinkState.expired
    assert link_state(expires_at=created + lifetime,
                      now=created + timedelta(hours=1), **common) == LinkState.valid
