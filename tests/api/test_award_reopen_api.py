"""PATCH /awards/{id} {status: "open"} reopens a closed award towards a later deadline."""

from datetime import UTC, datetime, timedelta

from app.awards.models import Award
from tests.factories import api_headers, make_award, make_user


def _setup(client, session, status="closed", **fields):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status=status, **fields)
    return award, api_headers(client, organizer)


def test_patch_reopens_a_closed_award_with_a_future_deadline(client, session):
    award, headers = _setup(client, session)
    closes = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    response = client.patch(f"/api/v1/awards/{award.id}", headers=headers, json={
        "status": "open", "submission_closes_at": closes.isoformat(), "reason": "Gia hạn"})
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], datetime.fromisoformat(body["submission_closes_at"])) == (
        "open", closes)


def test_patch_reopening_towards_a_past_deadline_is_422_and_changes_nothing(client, session):
    now = datetime.now(UTC)
    award, headers = _setup(client, session, submission_opens_at=now - timedelta(days=20),
                            submission_closes_at=now - timedelta(days=1))
    past = (now - timedelta(hours=1)).isoformat()
    for body in ({"status": "open"}, {"status": "open", "submission_closes_at": past}):
        response = client.patch(f"/api/v1/awards/{award.id}", headers=headers, json=body)
        assert (response.status_code, response.json()) == (422, {
            "detail": "Để mở lại nhận tác phẩm, hãy đặt hạn mới ở thời điểm sau hiện tại."})
    session.expire_all()
    stored = session.get(Award, award.id)
    assert (stored.status, stored.submission_closes_at) == ("closed", award.submission_closes_at)


def test_patch_reopening_after_judging_started_is_409(client, session):
    award, headers = _setup(client, session, status="judging")
    closes = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    response = client.patch(f"/api/v1/awards/{award.id}", headers=headers,
                            json={"status": "open", "submission_closes_at": closes})
    assert (response.status_code, response.json()) == (409, {
        "detail": "Không thể mở lại nhận tác phẩm khi đã bắt đầu chấm giải."})
