"""The outbox API: organizers list mails, read one with its attempts, resend a failed one."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import get_settings
from tests.factories import api_headers, make_user
from tests.mail_helpers import deliver, queue_mail, sender_for


@pytest.fixture
def organizer(client, session):
    return api_headers(client, make_user(session, role="organizer"))


def test_the_list_is_newest_first_with_its_total_and_a_status_filter(client, session,
                                                                     organizer):
    now = datetime.now(UTC)
    old = queue_mail(session, now=now - timedelta(hours=2), status="sent", attempts=1,
                     sent_at=now - timedelta(hours=1))
    failed = queue_mail(session, now=now - timedelta(hours=1), status="failed", attempts=1,
                        last_error="550 5.1.1 No such user")
    new = queue_mail(session, now=now)

    response = client.get("/api/v1/outbox", headers=organizer)
    assert response.status_code == 200
    assert response.headers["X-Total-Count"] == "3"
    assert [m["id"] for m in response.json()] == [new.id, failed.id, old.id]
    first = response.json()[0]
    assert sorted(first) == ["attempts", "created_at", "id", "language", "last_error",
                             "next_attempt_at", "sent_at", "status", "subject", "template", "to"]
    assert (first["to"], first["status"], first["attempts"], first["sent_at"]) == (
        new.to, "queued", 0, None)

    response = client.get("/api/v1/outbox?status=failed", headers=organizer)
    assert response.headers["X-Total-Count"] == "1"
    assert [(m["id"], m["last_error"]) for m in response.json()] == [
        (failed.id, "550 5.1.1 No such user")]

    response = client.get("/api/v1/outbox?limit=1&offset=1", headers=organizer)
    assert response.headers["X-Total-Count"] == "3"
    assert [m["id"] for m in response.json()] == [failed.id]

    assert client.get("/api/v1/outbox?status=lost", headers=organizer).status_code == 422


def test_a_permanent_refusal_is_visible_with_the_servers_answer(client, session, organizer,
                                                                smtp_sink):
    mail = queue_mail(session)
    session.commit()
    smtp_sink.refuse_next(1, "550 5.1.1 <x@example.vn>: Recipient address rejected")
    deliver(sender_for(smtp_sink))

    response = client.get(f"/api/v1/outbox/{mail.id}", headers=organizer)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["attempts"], body["last_error"]) == (
        "failed", 1, "550 5.1.1 <x@example.vn>: Recipient address rejected")
    assert [(a["ok"], a["error"]) for a in body["attempts_log"]] == [
        (False, "550 5.1.1 <x@example.vn>: Recipient address rejected")]


def test_a_mail_is_read_with_its_text_and_secret_links_masked_outside_dev(
        client, session, organizer, monkeypatch):
    mail = queue_mail(session, secret=True)
    session.commit()

    body = client.get(f"/api/v1/outbox/{mail.id}", headers=organizer).json()
    assert body["text"] == mail.text
    assert "/verify?token=bi-mat-123" in body["text"]

    monkeypatch.setattr(get_settings(), "env", "production")
    body = client.get(f"/api/v1/outbox/{mail.id}", headers=organizer).json()
    assert body["text"] == mail.text.replace("bi-mat-123", "••••••")
    assert "bi-mat-123" not in body["html"]


def test_resend_queues_a_failed_mail_once(client, session, organizer):
    mail = queue_mail(session, status="failed", attempts=2, last_error="550 Mailbox full")
    session.commit()

    response = client.post(f"/api/v1/outbox/{mail.id}/resend", headers=organizer)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["attempts"],
            response.json()["last_error"]) == ("queued", 2, "550 Mailbox full")

    again = client.post(f"/api/v1/outbox/{mail.id}/resend", headers=organizer)
    assert again.status_code == 409
    assert again.json() == {
        "detail": "Chỉ có thể gửi lại thư không gửi được; thư này đang ở trạng thái "
                  "Đang chờ gửi."}


def test_missing_mails_are_404(client, organizer):
    assert client.get("/api/v1/outbox/999999", headers=organizer).status_code == 404
    response = client.post("/api/v1/outbox/999999/resend", headers=organizer)
    assert response.status_code == 404
    assert response.json() == {"detail": "Không có thư này."}


@pytest.mark.parametrize("role", ["journalist", "judge"])
def test_other_roles_are_refused(client, session, role):
    mail = queue_mail(session, status="failed")
    headers = api_headers(client, make_user(session, role=role))
    for method, path in [("GET", "/api/v1/outbox"), ("GET", f"/api/v1/outbox/{mail.id}"),
                         ("POST", f"/api/v1/outbox/{mail.id}/resend")]:
        assert client.request(method, path, headers=headers).status_code == 403, path


def test_anonymous_callers_are_refused(client, session):
    mail = queue_mail(session)
    for method, path in [("GET", "/api/v1/outbox"), ("GET", f"/api/v1/outbox/{mail.id}"),
                         ("POST", f"/api/v1/outbox/{mail.id}/resend")]:
        assert client.request(method, path).status_code == 401, path


def test_the_list_runs_as_many_queries_for_one_mail_as_for_thirty(client, session, organizer,
                                                                  queries):
    queue_mail(session)
    session.commit()
    with queries:
        client.get("/api/v1/outbox", headers=organizer)
    one = queries.count
    user = make_user(session)
    for _ in range(29):
        queue_mail(session, user=user)
    session.commit()
    with queries:
        response = client.get("/api/v1/outbox", headers=organizer)
    assert len(response.json()) == 30
    assert queries.count == one
