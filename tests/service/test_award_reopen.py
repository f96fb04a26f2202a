"""Submissions reopen (closed → open) with a later deadline until judging starts; a move
asked for on a page that has gone stale does nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from app.audit.models import AuditEntry
from app.awards import service
from app.awards.models import AwardUpdate
from app.errors import Conflict, Invalid
from tests.factories import make_award, make_user

NOW = datetime.now(UTC).replace(microsecond=0)


def _moves(session, award):
    return session.exec(select(AuditEntry.changes, AuditEntry.reason).where(
        AuditEntry.action == "award.status", AuditEntry.object_id == award.id)
        .order_by(AuditEntry.id)).all()


def test_reopening_sets_the_new_deadline_and_records_both(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")
    old = award.submission_closes_at
    new = NOW + timedelta(days=10)
    service.change_status(session, award, "open", actor=organizer, reason="Gia hạn theo CV 12",
                          now=NOW, expected="closed", closes_at=new)
    assert (award.status, award.submission_closes_at) == ("open", new)
    assert _moves(session, award)[-1] == (
        {"status": ["closed", "open"],
         "submission_closes_at": [old.isoformat(), new.isoformat()]}, "Gia hạn theo CV 12")


def test_a_closing_time_without_offset_is_read_in_the_award_zone(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")
    local = (NOW + timedelta(days=3)).astimezone(UTC).replace(tzinfo=None, hour=10, minute=0)
    service.change_status(session, award, "open", actor=organizer, now=NOW, closes_at=local)
    assert award.submission_closes_at == local.replace(hour=3, tzinfo=UTC)


@pytest.mark.parametrize("closes", [NOW - timedelta(days=1), NOW])
def test_reopening_towards_a_past_deadline_is_refused(session, closes):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed",
                       submission_opens_at=NOW - timedelta(days=20))
    with pytest.raises(Invalid) as err:
        service.change_status(session, award, "open", actor=organizer, now=NOW,
                              closes_at=closes)
    assert (err.value.message, err.value.field) == (
        "To reopen submissions, set a new closing time in the future.", "submission_closes_at")


def test_reopening_keeps_a_deadline_still_ahead_when_none_is_given(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed")  # closed early
    deadline = award.submission_closes_at
    service.update_award(session, award, AwardUpdate(status="open"), actor=organizer, now=NOW)
    assert (award.status, award.submission_closes_at) == ("open", deadline)


def test_reopening_through_an_update_records_old_and_new_deadline(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed",
                       submission_closes_at=NOW - timedelta(hours=1),
                       submission_opens_at=NOW - timedelta(days=20))
    old = award.submission_closes_at
    new = NOW + timedelta(days=5)
    service.update_award(session, award, AwardUpdate(status="open", submission_closes_at=new),
                         actor=organizer, now=NOW)
    assert _moves(session, award)[-1][0] == {
        "status": ["closed", "open"], "submission_closes_at": [old.isoformat(), new.isoformat()]}


def test_an_update_reopening_without_a_new_deadline_is_refused_when_it_has_passed(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="closed",
                       submission_closes_at=NOW - timedelta(hours=1),
                       submission_opens_at=NOW - timedelta(days=20))
    with pytest.raises(Invalid):
        service.update_award(session, award, AwardUpdate(status="open"), actor=organizer,
                             now=NOW)


@pytest.mark.parametrize("status", ["judging", "published"])
def test_no_reopening_once_judging_has_started(session, status):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status=status)
    with pytest.raises(Conflict):
        service.change_status(session, award, "open", actor=organizer, now=NOW,
                              closes_at=NOW + timedelta(days=3))
    assert award.status == status


def test_a_new_deadline_belongs_to_a_reopening_only(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    with pytest.raises(Invalid) as err:
        service.change_status(session, award, "closed", actor=organizer, now=NOW,
                              closes_at=NOW + timedelta(days=3))
    assert err.value.field == "submission_closes_at"


def test_a_stale_request_moves_nothing_and_says_where_the_award_is(session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    service.change_status(session, award, "closed", actor=organizer, now=NOW, expected="open")
    before = len(_moves(session, award))
    with pytest.raises(Conflict) as err:  # the second tab's confirmation
        service.change_status(session, award, "closed", actor=organizer, now=NOW,
                              expected="open")
    assert (err.value.params, len(_moves(session, award)), award.status) == (
        {"status": ["Closed for entries"]}, before, "closed")
