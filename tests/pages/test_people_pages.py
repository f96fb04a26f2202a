"""The organizer's accounts pages (search, filters, an account, deactivate, reactivate, a
reset link), the next step after registering, and a form whose session ended."""

import html as htmllib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from sqlmodel import select, update

from app.accounts.models import User, WebSession
from app.audit.models import AuditEntry
from app.entries.models import Entry
from app.mail.models import Mail
from tests.conftest import RequestClient, csrf_from
from tests.factories import PASSWORD, make_award, make_entry, make_judging, make_user, page_login

ORIGIN = {"origin": "http://testserver"}


def _organizer(client, session):
    organizer = make_user(session, role="organizer", full_name="Trần Minh Đức",
                          email="duc@btc.vn")
    page_login(client, organizer)
    return organizer


def _post(client, path, data, page):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _rows(html: str) -> list[str]:
    """The names in the accounts table, in order."""
    if '<table class="users stack">' not in html:
        return []
    table = html[html.index('<table class="users stack">'):]
    return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', table)


def test_accounts_are_searched_with_and_without_diacritics(client, session):
    _organizer(client, session)
    make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn")
    make_user(session, full_name="Nguyễn Văn An", email="an@example.vn")
    assert _rows(client.get("/admin/users?q=Đặng").text) == ["Đặng Thị Đào"]
    assert _rows(client.get("/admin/users?q=dang+thi+dao").text) == ["Đặng Thị Đào"]
    assert _rows(client.get("/admin/users?q=AN%40example").text) == ["Nguyễn Văn An"]
    page = client.get("/admin/users?q=khong+ai").text
    assert "Không có tài khoản nào phù hợp." in page
    assert 'value="khong ai"' in page


def test_accounts_are_filtered_by_role_and_status_and_paged(client, session):
    organizer = _organizer(client, session)
    judges = [make_user(session, role="judge", full_name=f"Giám khảo {i:02d}")
              for i in range(55)]
    gone = make_user(session, full_name="Người Đã Khóa")
    from app.accounts import service

    service.deactivate_user(session, gone.id, actor=organizer, now=datetime.now(UTC))
    first = client.get("/admin/users?role=judge").text
    assert _rows(first) == [j.full_name for j in judges[:50]]
    assert 'href="?role=judge&amp;offset=50"' in first
    second = client.get("/admin/users?role=judge&offset=50").text
    assert _rows(second) == [j.full_name for j in judges[50:]]
    deactivated = client.get("/admin/users?status=deactivated").text
    assert _rows(deactivated) == ["Người Đã Khóa"]
    assert "Đã khóa" in deactivated
    assert _rows(client.get("/admin/users?status=active&q=nguoi").text) == []


def test_an_accounts_page_shows_its_facts(client, session):
    _organizer(client, session)
    award = make_award(session, status="open")
    author = make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn",
                       organization="Báo Ninh Thuận")
    make_entry(session, award, user=author)
    page = client.get(f"/admin/users/{author.id}").text
    assert "Đặng Thị Đào" in page and "Báo Ninh Thuận" in page
    assert re.search(r"Số tác phẩm đã gửi hoặc đang soạn</dt><dd>1</dd>", page)
    assert "Lần đăng nhập gần nhất</dt><dd>chưa ghi nhận</dd>" in page
    assert f'href="/admin/users/{author.id}/deactivate"' in page
    assert client.get("/admin/users/999999").status_code == 404


def test_deactivating_asks_first_then_signs_the_person_out(client, session):
    organizer = _organizer(client, session)
    author = make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn")
    from app.main import app

    with RequestClient(app, session) as theirs:
        page_login(theirs, author)
        assert theirs.get("/me").status_code == 200

        ask = client.get(f"/admin/users/{author.id}/deactivate").text
        assert "Khóa tài khoản của Đặng Thị Đào (dao@example.vn)?" in ask
        assert "Họ bị đăng xuất ngay trên mọi thiết bị" in ask
        assert 'name="confirmed" value="1"' in ask
        # Without the confirmation, the question again and nothing done.
        unconfirmed = _post(client, f"/admin/users/{author.id}/deactivate", {},
                            f"/admin/users/{author.id}")
        assert unconfirmed.status_code == 200
        assert "Khóa tài khoản của Đặng Thị Đào" in unconfirmed.text
        assert session.get(User, author.id).is_active is True

        done = _post(client, f"/admin/users/{author.id}/deactivate", {"confirmed": "1"},
                     f"/admin/users/{author.id}")
        assert done.headers["location"] == f"/admin/users/{author.id}?done=deactivate"
        assert "Tài khoản đã bị khóa và đăng xuất trên mọi thiết bị." in client.get(
            done.headers["location"]).text
        assert session.get(User, author.id).is_active is False
        # Their open browser is signed out on its next request.
        gone = theirs.get("/me", follow_redirects=False)
        assert (gone.status_code, gone.headers["location"]) == (303, "/login?next=/me")

        token = csrf_from(theirs.get("/login").text)
        refused = theirs.post("/login", data={"email": "dao@example.vn", "password": PASSWORD,
                                              "csrf_token": token})
        assert refused.status_code == 403
        assert "Tài khoản này đã bị Ban tổ chức khóa." in refused.text

    back = _post(client, f"/admin/users/{author.id}/reactivate", {"confirmed": "1"},
                 f"/admin/users/{author.id}")
    assert back.headers["location"] == f"/admin/users/{author.id}?done=reactivate"
    actions = session.exec(select(AuditEntry.action, AuditEntry.actor_id)
                           .order_by(AuditEntry.id)).all()
    assert [a for a in actions if a[0].startswith("user.") and "activate" in a[0]] == [
        ("user.deactivate", organizer.id), ("user.reactivate", organizer.id)]


def test_a_judges_confirmation_warns_of_their_open_assignments(client, session):
    scene = make_judging(session, entries=3, judges=2, judges_per_entry=2)
    page_login(client, scene.organizer)
    page = client.get(f"/admin/users/{scene.judges[0].id}/deactivate").text
    assert "Giám khảo này còn 3 tác phẩm chưa chấm xong." in page


def test_an_organizer_cannot_deactivate_themself_from_the_page(client, session):
    organizer = _organizer(client, session)
    page = client.get(f"/admin/users/{organizer.id}").text
    assert "Đây là tài khoản của chính bạn" in page
    refused = _post(client, f"/admin/users/{organizer.id}/deactivate", {"confirmed": "1"},
                    f"/admin/users/{organizer.id}")
    assert refused.status_code == 409
    assert "Bạn không thể tự khóa tài khoản của mình." in refused.text


def test_a_reset_link_is_sent_on_request_after_asking(client, session):
    organizer = _organizer(client, session)
    author = make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn")
    ask = client.get(f"/admin/users/{author.id}/password-reset").text
    assert "Gửi đường dẫn đặt lại mật khẩu tới dao@example.vn?" in ask
    done = _post(client, f"/admin/users/{author.id}/password-reset", {"confirmed": "1"},
                 f"/admin/users/{author.id}")
    assert done.headers["location"] == f"/admin/users/{author.id}?done=password-reset"
    assert "Đã gửi đường dẫn đặt lại mật khẩu tới dao@example.vn." in client.get(
        done.headers["location"]).text
    mail = session.exec(select(Mail).where(Mail.template == "password_reset")).one()
    assert mail.to == "dao@example.vn"
    outbox = client.get("/admin/outbox").text
    assert "dao@example.vn" in outbox
    record = session.exec(select(AuditEntry).where(
        AuditEntry.action == "user.password_reset_sent")).one()
    assert record.actor_id == organizer.id
    for _ in range(2):
        _post(client, f"/admin/users/{author.id}/password-reset", {"confirmed": "1"},
              f"/admin/users/{author.id}")
    throttled = _post(client, f"/admin/users/{author.id}/password-reset", {"confirmed": "1"},
                      f"/admin/users/{author.id}")
    assert throttled.status_code == 429
    assert "Bạn đã yêu cầu quá nhiều lần" in throttled.text


# --- The next step after registering -------------------------------------------------------

def test_after_registering_the_open_awards_are_pointed_to(client, session):
    award = make_award(session, status="open", title="Giải báo chí Đảng bộ tỉnh 2026")
    make_award(session, status="draft", title="Giải chưa mở")
    token = csrf_from(client.get("/register").text)
    response = client.post("/register", data={
        "email": "moi@example.vn", "password": "mat-khau-an-toan", "full_name": "Trần Thị Bích",
        "csrf_token": token})
    page = response.text
    assert "Các giải đang nhận tác phẩm" in page
    assert f'href="/awards/{award.slug}/entries/new"' in page
    assert "Giải chưa mở" not in page


def test_after_registering_with_no_open_award_a_message_says_so(client, session):
    token = csrf_from(client.get("/register").text)
    page = client.post("/register", data={
        "email": "moi@example.vn", "password": "mat-khau-an-toan", "full_name": "Trần Thị Bích",
        "csrf_token": token}).text
    assert "Hiện chưa có giải nào đang nhận tác phẩm." in page


def test_after_confirming_the_address_the_open_awards_are_pointed_to(client, session):
    award = make_award(session, status="open")
    token = csrf_from(client.get("/register").text)
    client.post("/register", data={
        "email": "moi@example.vn", "password": "mat-khau-an-toan", "full_name": "Trần Thị Bích",
        "csrf_token": token})
    mail = session.exec(select(Mail).where(Mail.template == "verify_email")).one()
    secret = re.search(r"token=([A-Za-z0-9_-]+)", mail.text).group(1)
    page = _post(client, "/verify", {"token": secret}, f"/verify?token={secret}").text
    assert "Các giải đang nhận tác phẩm" in page
    assert f'href="/awards/{award.slug}/entries/new"' in page


# --- A form whose session ended ------------------------------------------------------------

class _Fields(HTMLParser):
    """The named fields of the form posting to ``action``: [(name, value)]."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self._textarea = action, False, [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("action") == self.action
        elif self.inside and tag == "input" and attrs.get("name"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.fields.append((attrs["name"], attrs.get("value") or ""))
        elif self.inside and tag == "textarea":
            self._textarea = attrs["name"]
            self.fields.append((self._textarea, ""))
        elif self.inside and tag == "option" and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value") or ""))
        elif self.inside and tag == "select":
            self._select = attrs["name"]

    def handle_data(self, data):
        if self._textarea:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def _form(html: str, action: str) -> dict:
    parser = _Fields(action)
    parser.feed(html)
    return dict(parser.fields)


def _entry_signed_in(client, session):
    award = make_award(session, status="open")
    author = make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn")
    entry = make_entry(session, award, user=author, title="Tiêu đề cũ")
    page_login(client, author)
    return author, entry


def _end_sessions(session, author):
    session.exec(update(WebSession).where(WebSession.user_id == author.id)
                 .values(revoked_at=datetime.now(UTC)))


def test_a_form_sent_after_the_session_ended_is_saved_after_signing_in(client, session):
    author, entry = _entry_signed_in(client, session)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    assert values["title"] == "Tiêu đề cũ"
    _end_sessions(session, author)
    values.update(title="Tiêu đề mới đã sửa", summary="Dòng một\r\nDòng hai")

    carried = client.post(action, data=values, headers=ORIGIN, follow_redirects=False)
    assert carried.status_code == 401
    assert "Phiên đăng nhập đã kết thúc nên nội dung bạn vừa gửi chưa được lưu." in carried.text
    login = _form(carried.text, "/login")
    assert login["carried_action"] == action
    assert "Tiêu đề mới đã sửa" in login["carried"]
    assert "csrf_token" not in login["carried"]
    assert session.get(Entry, entry.id).title == "Tiêu đề cũ"

    again = client.post("/login", data={**login, "email": author.email, "password": PASSWORD},
                        follow_redirects=False)
    assert again.status_code == 200
    assert "Bạn đã đăng nhập lại — bấm Lưu để lưu những gì bạn đã nhập." in again.text
    confirm = _form(again.text, action)
    assert confirm["title"] == "Tiêu đề mới đã sửa"
    assert confirm["summary"] == "Dòng một\r\nDòng hai"
    assert confirm["csrf_token"] != values["csrf_token"]
    # What was typed, under the fields' own names; technical fields (the version) left out.
    assert "<dt>Tiêu đề</dt><dd>Tiêu đề mới đã sửa</dd>" in again.text
    assert "<dt>version</dt>" not in again.text
    assert session.get(Entry, entry.id).title == "Tiêu đề cũ"  # nothing saved before the click

    saved = client.post(action, data=confirm, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    assert session.get(Entry, entry.id).title == "Tiêu đề mới đã sửa"


def test_a_form_whose_session_row_is_gone_is_not_carried(client, session):
    """Without the ended session, nothing says whose form it is: it is not carried."""
    author, entry = _entry_signed_in(client, session)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    session.exec(WebSession.__table__.delete())
    values["title"] = "Tiêu đề mới"
    from_here = client.post(action, data=values, headers=ORIGIN)
    assert from_here.status_code == 403
    assert "Tiêu đề mới" not in from_here.text


def test_a_carried_form_is_offered_only_to_its_own_account(client, session):
    """On a shared computer, a form left by one account is not offered to the next person
    who signs in there (who could be led to save it)."""
    author, entry = _entry_signed_in(client, session)
    other = make_user(session, email="nguoi-khac@example.vn", password=PASSWORD)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    _end_sessions(session, author)
    values["title"] = "Tiêu đề cài sẵn"
    carried = client.post(action, data=values, headers=ORIGIN)
    login = _form(carried.text, "/login")
    assert login["carried_for"] == str(author.id)
    signed_in = client.post("/login", data={**login, "email": other.email,
                                            "password": PASSWORD}, follow_redirects=False)
    assert signed_in.status_code == 303
    assert "Tiêu đề cài sẵn" not in signed_in.text
    # Claiming the form for the other account breaks its signature: dropped too.
    client.cookies.clear()
    carried = client.post(action, data={**values, "csrf_token": values["csrf_token"]},
                          headers=ORIGIN)
    assert carried.status_code == 403  # the author's session is still ended; no new carry
    assert session.get(Entry, entry.id).title != "Tiêu đề cài sẵn"


def test_a_forged_token_against_an_ended_session_is_refused(client, session):
    author, entry = _entry_signed_in(client, session)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    _end_sessions(session, author)
    refused = client.post(action, data={**values, "csrf_token": "0" * 64}, headers=ORIGIN)
    assert refused.status_code == 403


def test_passwords_and_sign_in_forms_are_never_carried(client, session):
    author, entry = _entry_signed_in(client, session)
    token = csrf_from(client.get("/me").text)
    _end_sessions(session, author)
    refused = client.post("/me/password", data={"csrf_token": token,
                                                "current_password": PASSWORD,
                                                "new_password": "mot-mat-khau-moi-dai"},
                          headers=ORIGIN)
    assert refused.status_code == 403
    profile = client.post("/me", data={"csrf_token": token, "full_name": "Đặng Thị Đào",
                                       "password": "bi-mat"}, headers=ORIGIN)
    assert profile.status_code == 401
    carried = htmllib.unescape(_form(profile.text, "/login")["carried"])
    assert carried == '[["full_name", "Đặng Thị Đào"]]'


def test_a_carried_form_too_large_is_not_kept(client, session):
    author, entry = _entry_signed_in(client, session)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    _end_sessions(session, author)
    values["summary"] = "x" * (65 * 1024)
    response = client.post(action, data=values, headers=ORIGIN)
    assert response.status_code == 401
    assert "Nội dung quá dài nên không giữ lại được" in response.text
    assert "carried" not in _form(response.text, "/login")


def test_a_wrong_password_keeps_the_carried_form(client, session):
    author, entry = _entry_signed_in(client, session)
    action = f"/entries/{entry.id}"
    values = _form(client.get(action).text, action)
    _end_sessions(session, author)
    values["title"] = "Tiêu đề giữ lại"
    login = _form(client.post(action, data=values, headers=ORIGIN).text, "/login")
    wrong = client.post("/login", data={**login, "email": author.email, "password": "sai"})
    assert wrong.status_code == 401
    assert "Tiêu đề giữ lại" in _form(wrong.text, "/login")["carried"]


def test_a_carried_address_elsewhere_is_dropped(client, session):
    author = make_user(session)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={
        "csrf_token": token, "email": author.email, "password": PASSWORD,
        "carried_action": "https://ke-gian.example/lay", "carried": '[["a", "b"]]'},
        follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/")


def test_a_deactivated_judge_shows_in_the_progress_and_is_not_reminded(client, session):
    from app.accounts import service as accounts
    from app.judging import service as judging

    scene = make_judging(session, entries=2, judges=2, judges_per_entry=2)
    gone = scene.judges[0]
    accounts.deactivate_user(session, gone.id, actor=scene.organizer, now=datetime.now(UTC))
    page_login(client, scene.organizer)
    page = client.get(f"/admin/rounds/{scene.round.id}/progress").text
    assert re.search(rf'{gone.full_name} <span class="badge badge-off">Đã khóa</span>', page)
    reminded = judging.remind_laggards(session, scene.round, actor=scene.organizer,
                                       now=datetime.now(UTC))
    assert reminded == 1
    mails = session.exec(select(Mail.to).where(Mail.template == "judge_reminder")).all()
    assert mails == [scene.judges[1].email]
