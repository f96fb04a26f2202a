"""Pages of verified identities: the banner, /me, the pages mailed links open (GET shows,
POST uses), the forgotten password, invitations — and their wrong turns."""

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from app.accounts.models import AccountToken, User, WebSession
from app.mail.models import Mail
from app.security import verify_password
from tests.conftest import RequestClient, csrf_from
from tests.factories import PASSWORD, make_user, page_login

NEW_PASSWORD = "mot-mat-khau-moi-rat-dai"
BANNER = "chưa được xác nhận: hãy mở đường dẫn chúng tôi đã gửi"


def _mails(session, template=None):
    query = select(Mail).order_by(Mail.id)
    if template:
        query = query.where(Mail.template == template)
    return list(session.exec(query).all())


def _token(mail) -> str:
    return re.search(r"token=([A-Za-z0-9_-]+)", mail.text).group(1)


def _post(client, path, data, page="/login"):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def _register(client, email="tacgia@example.vn"):
    response = _post(client, "/register", {"email": email, "password": "mat-khau-an-toan",
                                           "full_name": "Trần Thị Bích"}, "/register")
    assert response.status_code == 303
    return response


def _expire_links(session):
    """Every link's time ran out (a link ended early was replaced, which says so)."""
    now = datetime.now(UTC)
    session.exec(update(AccountToken).values(created_at=now - timedelta(days=8),
                                             expires_at=now - timedelta(seconds=1)))
    session.commit()


# --- Verification ---------------------------------------------------------------------------

def test_a_new_account_sees_the_banner_on_every_page_until_it_verifies(client, session):
    _register(client)
    for path in ("/", "/me", "/me/entries"):
        assert BANNER in client.get(path).text
    token = _token(_mails(session)[0])
    page = client.get(f"/verify?token={token}")
    assert page.status_code == 200
    assert "Xác nhận tacgia@example.vn là địa chỉ e-mail của bạn." in page.text
    assert session.exec(select(User)).one().email_verified is False  # GET uses nothing
    done = client.post("/verify", data={"token": token, "csrf_token": csrf_from(page.text)})
    assert done.status_code == 200
    assert "Cảm ơn bạn: địa chỉ tacgia@example.vn đã được xác nhận." in done.text
    assert BANNER not in done.text
    assert BANNER not in client.get("/me").text
    assert "đã xác nhận" in client.get("/me").text


def test_verification_pages_are_in_english_when_asked(client, session):
    _register(client)
    page = client.get(f"/verify?token={_token(_mails(session)[0])}&lang=en")
    assert "Confirm that tacgia@example.vn is your e-mail address." in page.text


def test_a_reused_link_says_so_and_offers_a_new_one(client, session):
    _register(client)
    token = _token(_mails(session)[0])
    csrf = csrf_from(client.get("/me").text)
    assert client.post("/verify", data={"token": token, "csrf_token": csrf}).status_code == 200
    # Another browser, not signed in, opens the same link.
    other = RequestClient(client.app, session)
    again = other.get(f"/verify?token={token}")
    assert again.status_code == 400
    assert "Đường dẫn này đã được sử dụng." in again.text
    assert 'href="/login?next=/me"' in again.text


def test_an_expired_link_offers_the_resend_button_to_its_unverified_owner(client, session):
    _register(client)
    token = _token(_mails(session)[0])
    _expire_links(session)
    page = client.get(f"/verify?token={token}")
    assert page.status_code == 400
    assert "Đường dẫn này đã hết hạn." in page.text
    assert page.text.count('action="/me/verification"') == 2  # the banner and the offer
    assert session.exec(select(User)).one().email_verified is False


def test_a_tampered_link_posted_changes_nothing(client, session):
    _register(client)
    token = _token(_mails(session)[0])
    response = _post(client, "/verify", {"token": token[:-2] + "xx"}, "/me")
    assert response.status_code == 400
    assert "Đường dẫn này không hợp lệ." in response.text
    assert session.exec(select(User)).one().email_verified is False


def test_someone_elses_link_confirms_the_address_it_was_sent_to(client, session):
    _register(client, email="a@example.vn")
    token = _token(_mails(session)[0])
    client.cookies.clear()
    page_login(client, make_user(session, email="b@example.vn", verified=False))
    response = _post(client, "/verify", {"token": token}, "/me")
    assert "Cảm ơn bạn: địa chỉ a@example.vn đã được xác nhận." in response.text
    assert BANNER in response.text  # the signed-in account b is still unverified
    users = {u.email: u.email_verified for u in session.exec(select(User)).all()}
    assert users == {"a@example.vn": True, "b@example.vn": False}


def test_resend_from_the_banner_then_too_soon(client, session):
    page_login(client, make_user(session, email="a@example.vn", verified=False))
    response = _post(client, "/me/verification", {}, "/")
    assert response.headers["location"] == "/me?sent=1"
    assert "Chúng tôi đã gửi một đường dẫn xác nhận mới tới a@example.vn." in client.get(
        "/me?sent=1").text
    again = _post(client, "/me/verification", {}, "/me")
    assert again.status_code == 429
    assert 0 < int(again.headers["retry-after"]) <= 60
    assert "Bạn đã yêu cầu quá nhiều lần." in again.text
    assert len(_mails(session)) == 1


def test_verified_accounts_see_no_banner_nor_resend_button(client, session):
    page_login(client, make_user(session))
    html = client.get("/me").text
    assert BANNER not in html and 'action="/me/verification"' not in html


# --- Profile: language and address --------------------------------------------------------------

def _profile(email_form=None, **fields):
    return {"full_name": "Nguyễn Văn An", "language": "vi", **fields}


def test_language_is_chosen_on_the_profile_and_the_pages_follow(client, session):
    user = make_user(session)
    page_login(client, user)
    response = _post(client, "/me", _profile(language="en"), "/me")
    assert response.headers["location"] == "/me?saved=1"
    assert "lang=en" in response.headers["set-cookie"]
    session.refresh(user)
    assert user.language == "en"
    assert '<option value="en" lang="en" selected>' in client.get("/me").text
    refused = _post(client, "/me", _profile(language="fr"), "/me")
    assert refused.status_code == 422
    assert "Unknown language." in refused.text


def test_changing_the_address_on_the_profile(client, session):
    user = make_user(session, email="cu@example.vn")
    page_login(client, user)
    response = _post(client, "/me/email", {"email": "moi@example.vn", "password": PASSWORD},
                     "/me")
    assert response.headers["location"] == "/me?saved=3"
    html = client.get("/me?saved=3").text
    assert "Đang chờ xác nhận: moi@example.vn." in html
    link = _mails(session, "change_email")[0]
    page = client.get(f"/confirm-email?token={_token(link)}")
    assert "từ cu@example.vn sang moi@example.vn" in page.text
    done = client.post("/confirm-email", data={"token": _token(link),
                                               "csrf_token": csrf_from(page.text)})
    assert "Địa chỉ e-mail của bạn nay là moi@example.vn." in done.text
    session.refresh(user)
    assert (user.email, user.pending_email) == ("moi@example.vn", None)


def test_a_wrong_password_keeps_the_address_form_with_its_value(client, session):
    page_login(client, make_user(session, email="cu@example.vn"))
    response = _post(client, "/me/email", {"email": "moi@example.vn", "password": "sai"}, "/me")
    assert response.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in response.text
    assert 'value="moi@example.vn"' in response.text
    assert _mails(session) == []


def test_a_refused_form_on_the_profile_page_keeps_the_saved_profile(client, session):
    """A failed action rolls the request back: the page shown again still holds the saved
    profile (an empty form, saved again, would have erased it)."""
    page_login(client, make_user(session, email="cu@example.vn", full_name="Lê Thị Hoa",
                                 pen_name="Hoa Lê", phone="0912345678", language="en",
                                 organization="Báo Ninh Thuận"))
    for path, data in (("/me/email", {"email": "moi@example.vn", "password": "sai"}),
                       ("/me/password", {"current_password": "sai",
                                         "new_password": "mat-khau-moi-an-toan"})):
        text = _post(client, path, data, "/me").text
        for value in ("Lê Thị Hoa", "Hoa Lê", "0912345678", "Báo Ninh Thuận"):
            assert f'value="{value}"' in text, (path, value)
        assert '<option value="en" lang="en" selected>' in text, path


# --- Password reset -------------------------------------------------------------------------------

SENT = "Nếu có tài khoản dùng địa chỉ này, chúng tôi đã gửi tới đó một đường dẫn"


def test_login_page_links_to_the_forgotten_password(client):
    assert '<a href="/forgot-password">Quên mật khẩu?</a>' in client.get("/login").text


def test_the_same_page_for_known_and_unknown_addresses(client, session):
    make_user(session, email="a@example.vn")
    known = _post(client, "/forgot-password", {"email": "a@example.vn"}, "/forgot-password")
    unknown = _post(client, "/forgot-password", {"email": "b@example.vn"}, "/forgot-password")
    assert (known.status_code, unknown.status_code) == (200, 200)
    strip = re.compile(r'value="[0-9a-f]{64}"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert SENT in known.text
    assert [m.template for m in _mails(session)] == ["password_reset", "password_reset_unknown"]


def test_too_many_requests_from_one_address_is_429(client, session):
    for n in range(5):
        _post(client, "/forgot-password", {"email": f"{n}@example.vn"}, "/forgot-password")
    response = _post(client, "/forgot-password", {"email": "x@example.vn"}, "/forgot-password")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3600"
    assert "Bạn đã yêu cầu quá nhiều lần. Vui lòng chờ 60 phút rồi thử lại." in response.text


def test_reset_from_the_mailed_link_signs_everything_out(client, session):
    user = make_user(session, email="a@example.vn")
    page_login(client, user)
    _post(client, "/forgot-password", {"email": "a@example.vn"}, "/me")
    token = _token(_mails(session)[0])
    form = client.get(f"/reset-password?token={token}")
    assert form.status_code == 200 and f'value="{token}"' in form.text
    weak = client.post("/reset-password", data={"token": token, "new_password": "ngan",
                                                "csrf_token": csrf_from(form.text)})
    assert weak.status_code == 422
    assert "Mật khẩu phải có ít nhất 10 ký tự." in weak.text and f'value="{token}"' in weak.text
    done = client.post("/reset-password", follow_redirects=False, data={
        "token": token, "new_password": NEW_PASSWORD, "csrf_token": csrf_from(weak.text)})
    assert done.headers["location"] == "/login?reset=1"
    assert all(s.revoked_at is not None for s in session.exec(select(WebSession)).all())
    assert client.get("/me", follow_redirects=False).status_code == 303
    login = client.get("/login?reset=1").text
    assert "Mật khẩu của bạn đã được thay đổi. Vui lòng đăng nhập bằng mật khẩu mới." in login
    page_login(client, user, NEW_PASSWORD)
    again = client.get(f"/reset-password?token={token}")
    assert again.status_code == 400 and "Đường dẫn này đã được sử dụng." in again.text
    assert 'href="/forgot-password"' in again.text


def test_a_double_submitted_reset_uses_the_link_once(client, session):
    user = make_user(session, email="a@example.vn")
    _post(client, "/forgot-password", {"email": "a@example.vn"}, "/forgot-password")
    token = _token(_mails(session)[0])
    csrf = csrf_from(client.get(f"/reset-password?token={token}").text)
    first = client.post("/reset-password", follow_redirects=False,
                        data={"token": token, "new_password": NEW_PASSWORD, "csrf_token": csrf})
    second = client.post("/reset-password", follow_redirects=False,
                         data={"token": token, "new_password": NEW_PASSWORD + "-2",
                               "csrf_token": csrf})
    assert (first.status_code, second.status_code) == (303, 400)
    session.refresh(user)
    assert verify_password(NEW_PASSWORD, user.password_hash)


def test_an_expired_reset_link_offers_a_new_one(client, session):
    make_user(session, email="a@example.vn")
    _post(client, "/forgot-password", {"email": "a@example.vn"}, "/forgot-password")
    token = _token(_mails(session)[0])
    _expire_links(session)
    page = client.get(f"/reset-password?token={token}")
    assert page.status_code == 400
    assert "Đường dẫn này đã hết hạn." in page.text and "Yêu cầu đường dẫn mới" in page.text


# --- Invitations -------------------------------------------------------------------------------

def _organizer(client, session):
    organizer = make_user(session, role="organizer", full_name="Ban Tổ Chức")
    page_login(client, organizer)
    return organizer


def test_an_invitation_from_the_console_is_accepted_and_signs_the_judge_in(client, session):
    _organizer(client, session)
    response = _post(client, "/admin/users/invitations", {
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge"}, "/admin/users")
    assert response.headers["location"] == "/admin/users?done=invited"
    console = client.get("/admin/users").text
    assert "Lời mời đang chờ trả lời (1)" in console and "gk@example.vn" in console
    client.cookies.clear()
    token = _token(_mails(session)[0])
    page = client.get(f"/invitations/accept?token={token}")
    assert "Phạm Văn Giám (gk@example.vn) được mời tham gia Giải báo chí với vai trò Giám khảo." \
        in page.text
    done = client.post("/invitations/accept", follow_redirects=False, data={
        "token": token, "password": NEW_PASSWORD, "csrf_token": csrf_from(page.text)})
    assert done.headers["location"] == "/judge"  # a judge lands on their rounds
    home = client.get("/judge").text
    assert "Phạm Văn Giám" in home and BANNER not in home
    judge = session.exec(select(User).where(User.email == "gk@example.vn")).one()
    assert (judge.role, judge.email_verified) == ("judge", True)


def test_an_invited_organizer_lands_on_the_console(client, session):
    _organizer(client, session)
    _post(client, "/admin/users/invitations", {
        "email": "btc2@example.vn", "full_name": "Đỗ Minh Khoa", "role": "organizer"},
        "/admin/users")
    client.cookies.clear()
    token = _token(_mails(session)[0])
    done = _post(client, "/invitations/accept", {"token": token, "password": NEW_PASSWORD})
    assert done.headers["location"] == "/admin/"


def test_a_weak_password_shows_the_form_again_and_keeps_the_invitation(client, session):
    _organizer(client, session)
    _post(client, "/admin/users/invitations", {
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge"}, "/admin/users")
    client.cookies.clear()
    token = _token(_mails(session)[0])
    weak = _post(client, "/invitations/accept", {"token": token, "password": "giam12345678"})
    assert weak.status_code == 422
    assert "Mật khẩu không được chứa họ tên của bạn." in weak.text
    assert f'value="{token}"' in weak.text
    assert _post(client, "/invitations/accept",
                 {"token": token, "password": NEW_PASSWORD}).status_code == 303


def test_a_verified_account_is_shown_for_confirmation_before_it_gets_the_role(client, session):
    _organizer(client, session)
    account = make_user(session, email="gk@example.vn", full_name="Hoàng Thị Lan")
    data = {"email": "gk@example.vn", "full_name": "Hoàng Thị Lan", "role": "judge"}
    step = _post(client, "/admin/users/invitations", data, "/admin/users")
    assert step.status_code == 409
    assert "Tài khoản của Hoàng Thị Lan (gk@example.vn) đang dùng địa chỉ này." in step.text
    assert 'name="confirm_existing" value="1"' in step.text
    session.refresh(account)
    assert account.role == "journalist"
    done = client.post("/admin/users/invitations", follow_redirects=False,
                       data={**data, "confirm_existing": "1", "csrf_token": csrf_from(step.text)})
    assert done.headers["location"] == "/admin/users?done=granted"
    session.refresh(account)
    assert account.role == "judge"
    assert [m.template for m in _mails(session)] == ["role_granted"]


def test_resend_from_the_console_ends_the_old_link(client, session):
    _organizer(client, session)
    _post(client, "/admin/users/invitations", {
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge"}, "/admin/users")
    invitation = session.exec(select(AccountToken)).one()
    response = _post(client, f"/admin/users/invitations/{invitation.id}/resend", {},
                     "/admin/users")
    assert response.headers["location"] == "/admin/users?done=resent"
    old, new = _mails(session)
    client.cookies.clear()
    page = client.get(f"/invitations/accept?token={_token(old)}")
    assert page.status_code == 400 and "Đường dẫn này đã được thay bằng một đường dẫn mới hơn" in page.text
    assert "Vui lòng đề nghị Ban tổ chức gửi cho bạn lời mời mới." in page.text
    assert client.get(f"/invitations/accept?token={_token(new)}").status_code == 200


def test_an_invitation_takes_over_a_squatter_and_signs_the_squatter_out(client, session):
    squatter = make_user(session, email="gk@example.vn", verified=False, full_name="Kẻ Chiếm")
    squatter_browser = RequestClient(client.app, session)
    page_login(squatter_browser, squatter)
    _organizer(client, session)
    _post(client, "/admin/users/invitations", {
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge"}, "/admin/users")
    client.cookies.clear()
    _post(client, "/invitations/accept", {"token": _token(_mails(session)[0]),
                                          "password": NEW_PASSWORD})
    assert squatter_browser.get("/me", follow_redirects=False).status_code == 303
    session.refresh(squatter)
    assert (squatter.role, squatter.full_name, squatter.email_verified) == (
        "judge", "Phạm Văn Giám", True)
