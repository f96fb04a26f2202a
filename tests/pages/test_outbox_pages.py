"""The organizer's outbox pages: the list, one mail with its text and attempts, resending."""

import html as html_lib
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from app.config import get_settings
from app.mail.models import Mail
from tests.conftest import csrf_from
from tests.factories import make_user, page_login
from tests.mail_helpers import queue_mail

NO_SMTP = ("Chưa cấu hình máy chủ gửi thư SMTP (GIAIBAO_SMTP_HOST): thư được lưu tại đây và "
           "không được gửi đi.")


def _organizer(client, session):
    organizer = make_user(session, role="organizer")
    page_login(client, organizer)
    return organizer


def test_the_outbox_lists_mails_and_says_they_are_kept_without_smtp(client, session):
    _organizer(client, session)
    user = make_user(session, email="binh@example.vn")
    failed = queue_mail(session, user=user, status="failed", attempts=1,
                        last_error="550 5.1.1 No such user")
    queued = queue_mail(session)

    response = client.get("/admin/outbox")
    assert response.status_code == 200
    page = response.text
    assert NO_SMTP in page
    assert '<a href="/admin/outbox">Hộp thư đi</a>' in page
    assert "Hộp thư đi (2)" in page
    assert "binh@example.vn" in page and "550 5.1.1 No such user" in page
    assert "Không gửi được" in page and "Đang chờ gửi" in page
    assert page.index(f'href="/admin/outbox/{queued.id}"') < page.index(
        f'href="/admin/outbox/{failed.id}"')

    filtered = client.get("/admin/outbox?status=failed").text
    assert f'href="/admin/outbox/{failed.id}"' in filtered
    assert f'href="/admin/outbox/{queued.id}"' not in filtered
    # An unknown status is no filter (the page does not fail on a hand-edited address).
    assert f'href="/admin/outbox/{queued.id}"' in client.get("/admin/outbox?status=zzz").text


def test_the_notice_is_gone_when_smtp_is_configured(client, session, monkeypatch):
    _organizer(client, session)
    monkeypatch.setattr(get_settings(), "smtp_host", "127.0.0.1")
    assert NO_SMTP not in client.get("/admin/outbox").text


def test_the_outbox_pages_by_fifty(client, session):
    _organizer(client, session)
    user = make_user(session)
    now = datetime.now(UTC)
    for i in range(55):
        queue_mail(session, user=user, now=now - timedelta(minutes=i))
    first = client.get("/admin/outbox?status=queued").text
    assert 'href="?status=queued&amp;offset=50"' in first
    second = client.get("/admin/outbox?status=queued&offset=50").text
    assert second.count('href="/admin/outbox/') == 5


def test_a_mail_shows_its_text_escaped_and_its_attempts(client, session):
    _organizer(client, session)
    user = make_user(session, full_name="<script>alert(1)</script> Bình")
    mail = queue_mail(session, user=user)

    page = client.get(f"/admin/outbox/{mail.id}").text
    assert f'<pre class="pre card">{html_lib.escape(mail.text, quote=True)}</pre>' in page
    assert "<script>alert(1)</script>" not in page
    assert "Chưa gửi lần nào." in page
    assert "Gửi lại" not in page  # only failed mails are resent


def test_secret_links_are_masked_on_the_page_outside_development(client, session,
                                                                 monkeypatch):
    _organizer(client, session)
    mail = queue_mail(session, secret=True)
    assert "token=bi-mat-123" in client.get(f"/admin/outbox/{mail.id}").text
    monkeypatch.setattr(get_settings(), "env", "production")
    page = client.get(f"/admin/outbox/{mail.id}").text
    assert "bi-mat-123" not in page
    assert "/verify?token=••••••" in page


def test_resending_a_failed_mail_from_its_page(client, session):
    _organizer(client, session)
    mail = queue_mail(session, status="failed", attempts=1, last_error="550 Mailbox full")

    page = client.get(f"/admin/outbox/{mail.id}").text
    assert f'action="/admin/outbox/{mail.id}/resend"' in page
    response = client.post(f"/admin/outbox/{mail.id}/resend",
                           data={"csrf_token": csrf_from(page)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/outbox/{mail.id}?resent=1"
    assert session.get(Mail, mail.id).status == "queued"
    assert ("Thư đã được đưa lại vào hàng chờ và sẽ được gửi trong giây lát."
            in client.get(response.headers["location"]).text)

    # A second click (the old page still open) changes nothing and says why.
    again = client.post(f"/admin/outbox/{mail.id}/resend",
                        data={"csrf_token": csrf_from(page)}, follow_redirects=False)
    assert again.status_code == 409
    assert ("Chỉ có thể gửi lại thư không gửi được; thư này đang ở trạng thái "
            "Đang chờ gửi.") in again.text
    assert session.exec(select(Mail)).one().status == "queued"


def test_a_missing_mail_is_a_404_page(client, session):
    _organizer(client, session)
    assert client.get("/admin/outbox/999999").status_code == 404
    token = csrf_from(client.get("/admin/outbox").text)
    response = client.post("/admin/outbox/999999/resend", data={"csrf_token": token})
    assert response.status_code == 404
    assert "Không có thư này." in response.text


def test_journalists_and_judges_are_refused(client, session):
    mail = queue_mail(session, status="failed")
    for role in ("journalist", "judge"):
        client.cookies.clear()
        page_login(client, make_user(session, role=role))
        assert client.get("/admin/outbox").status_code == 403
        assert client.get(f"/admin/outbox/{mail.id}").status_code == 403
        token = csrf_from(client.get("/me").text)
        response = client.post(f"/admin/outbox/{mail.id}/resend", data={"csrf_token": token})
        assert response.status_code == 403
    assert session.get(Mail, mail.id).status == "failed"


def test_anonymous_visitors_are_sent_to_login(client, session):
    mail = queue_mail(session)
    response = client.get(f"/admin/outbox/{mail.id}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=/admin/outbox/{mail.id}"


def test_the_list_runs_as_many_queries_for_one_mail_as_for_thirty(client, session, queries):
    _organizer(client, session)
    queue_mail(session)
    with queries:
        client.get("/admin/outbox")
    one = queries.count
    user = make_user(session)
    for _ in range(29):
        queue_mail(session, user=user)
    with queries:
        client.get("/admin/outbox")
    assert queries.count == one
