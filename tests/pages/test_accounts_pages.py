from urllib.parse import quote

from sqlmodel import select

from app.accounts.models import User
from app.web import SESSION_COOKIE
from tests.conftest import RequestClient, csrf_from
from tests.factories import PASSWORD, make_user, page_login


def _post(client, path, data, page=None):
    token = csrf_from(client.get(page or path).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def test_pages_speak_vietnamese_by_default(client):
    html = client.get("/login").text
    assert '<html lang="vi">' in html
    assert "<h1>Đăng nhập</h1>" in html


def test_language_switch_remembers_english(client):
    response = client.get("/lang/en?next=/login", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    html = client.get("/login").text
    assert '<html lang="en">' in html and "<h1>Log in</h1>" in html
    client.get("/lang/vi?next=/")
    assert "<h1>Đăng nhập</h1>" in client.get("/login").text


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_register_signs_in_and_shows_the_profile(client, session):
    response = _post(client, "/register", {
        "email": "moi@example.vn", "password": "mat-khau-8", "full_name": "Hoàng Thị Mai",
        "pen_name": "Mai Hoàng"})
    assert (response.status_code, response.headers["location"]) == (303, "/me?welcome=1")
    html = client.get("/me?welcome=1").text
    assert "Chào mừng! Tài khoản của bạn đã được tạo." in html
    assert 'value="Mai Hoàng"' in html
    user = session.exec(select(User).where(User.email == "moi@example.vn")).one()
    assert user.role == "journalist"


def test_register_errors_show_the_form_again_with_the_message(client, session):
    response = _post(client, "/register", {
        "email": "moi@example.vn", "password": "ngan", "full_name": "Hoàng Thị Mai"})
    assert response.status_code == 422
    assert "Mật khẩu phải có ít nhất 10 ký tự." in response.text
    assert 'value="Hoàng Thị Mai"' in response.text
    assert "ngan" not in response.text.split("<main")[1]
    assert session.exec(select(User).where(User.email == "moi@example.vn")).first() is None


def test_login_sets_a_new_session_cookie_each_time(client, session):
    user = make_user(session)
    page_login(client, user)
    first = client.cookies.get(SESSION_COOKIE)
    page_login(client, user)
    second = client.cookies.get(SESSION_COOKIE)
    assert first and second and first != second
    # The replaced session is dead.
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, first)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_session_cookie_flags(client, session):
    user = make_user(session)
    response = page_login(client, user)
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE)][0]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


def test_wrong_login_shows_the_form_again(client, session):
    make_user(session, email="a@example.vn")
    response = _post(client, "/login", {"email": "a@example.vn", "password": "sai-mat-khau"})
    assert response.status_code == 401
    assert "E-mail hoặc mật khẩu không đúng." in response.text
    assert 'value="a@example.vn"' in response.text


def test_login_is_throttled_on_pages_too(client, session):
    from datetime import UTC, datetime

    from app.deps import get_now

    client.app.dependency_overrides[get_now] = lambda: datetime(2026, 11, 1, 9, tzinfo=UTC)
    try:
        make_user(session, email="a@example.vn")
        responses = [_post(client, "/login", {"email": "a@example.vn", "password": "x"})
                     for _ in range(6)]
    finally:
        client.app.dependency_overrides.pop(get_now, None)
    assert [r.status_code for r in responses] == [401, 401, 401, 401, 401, 429]
    refused = responses[-1]
    assert refused.headers["retry-after"] == "900"
    assert '<div class="alert alert-error" role="alert">Đăng nhập sai quá nhiều lần. ' \
           'Vui lòng chờ 15 phút rồi thử lại.</div>' in refused.text
    assert 'value="a@example.vn"' in refused.text


def test_register_refuses_a_password_with_the_name_on_its_field(client, session):
    response = _post(client, "/register", {
        "email": "moi@example.vn", "password": "Hoàng Thị Mai 1990", "full_name": "Hoàng Thị Mai"})
    assert response.status_code == 422
    assert '<p class="field-error" id="e-password">Mật khẩu không được chứa họ tên của bạn.</p>' \
        in response.text
    assert session.exec(select(User).where(User.email == "moi@example.vn")).first() is None


def test_register_a_full_width_look_alike_is_refused(client, session):
    make_user(session, email="phongvien1@giaibao.vn")
    response = _post(client, "/register", {
        "email": "ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ", "password": "mat-khau-an-toan",
        "full_name": "Hoàng Thị Mai"})
    assert response.status_code == 422
    assert '<p class="field-error" id="e-email">Đã có tài khoản dùng e-mail này.</p>' \
        in response.text
    # Its owner is shown the way in: a reset mailed to the address.
    typed = quote("ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ")
    assert f'<a href="/forgot-password?email={typed}">Đặt lại mật khẩu</a>' in response.text


def test_password_change_refuses_a_common_password_on_its_field(client, session):
    page_login(client, make_user(session))
    response = _post(client, "/me/password",
                     {"current_password": PASSWORD, "new_password": "1q2w3e4r5t"}, page="/me")
    assert response.status_code == 422
    assert ('<p class="field-error" id="e-new_password">Mật khẩu này thuộc nhóm mật khẩu phổ '
            'biến nhất, dễ bị đoán; vui lòng chọn mật khẩu khác.</p>') in response.text


def test_login_redirects_to_next_but_only_on_site(client, session):
    user = make_user(session)
    response = _post(client, "/login", {"email": user.email, "password": PASSWORD,
                                        "next": "/me"})
    assert response.headers["location"] == "/me"
    client.cookies.clear()
    response = _post(client, "/login", {"email": user.email, "password": PASSWORD,
                                        "next": "https://evil.example/"})
    assert response.headers["location"] == "/"


def test_logout_kills_the_copied_cookie(client, session):
    user = make_user(session)
    page_login(client, user)
    cookie = client.cookies.get(SESSION_COOKIE)
    response = _post(client, "/logout", {}, page="/me")
    assert response.status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_password_change_kills_other_sessions(client, session):
    user = make_user(session)
    other = RequestClient(client.app, session)
    page_login(other, user)
    page_login(client, user)
    old_cookie = client.cookies.get(SESSION_COOKIE)
    response = _post(client, "/me/password",
                     {"current_password": PASSWORD, "new_password": "mat-khau-moi"}, page="/me")
    assert (response.status_code, response.headers["location"]) == (303, "/me?saved=2")
    assert client.cookies.get(SESSION_COOKIE) != old_cookie
    assert client.get("/me", follow_redirects=False).status_code == 200
    assert other.get("/me", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_cookie)
    assert client.get("/me", follow_redirects=False).status_code == 303


def test_password_change_with_wrong_current_password_is_refused(client, session):
    user = make_user(session)
    page_login(client, user)
    response = _post(client, "/me/password",
                     {"current_password": "sai", "new_password": "mat-khau-moi"}, page="/me")
    assert response.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in response.text


def test_profile_is_saved(client, session):
    user = make_user(session)
    page_login(client, user)
    response = _post(client, "/me", {"full_name": "Ngô Bảo Châu", "pen_name": "",
                                     "press_card_number": "HN-1"})
    assert response.headers["location"] == "/me?saved=1"
    session.refresh(user)
    assert (user.full_name, user.pen_name, user.press_card_number) == ("Ngô Bảo Châu", None, "HN-1")


def test_profile_needs_a_name(client, session):
    page_login(client, make_user(session))
    response = _post(client, "/me", {"full_name": "  "})
    assert response.status_code == 422
    assert "Vui lòng nhập họ và tên." in response.text


def test_me_needs_sign_in(client):
    response = client.get("/me", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login?next=/me")


def test_unknown_page_is_a_vietnamese_404(client):
    response = client.get("/khong-co")
    assert response.status_code == 404
    assert "Trang này không tồn tại." in response.text


def test_a_stranger_at_the_owners_address_cannot_lock_the_owners_browser_out(client, session):
    from app.main import app

    owner = make_user(session)
    page_login(client, owner)  # the owner's browser now carries its device token
    assert client.cookies.get("gb_device")
    stranger = RequestClient(app, session)  # the same address, no device token

    def attempt(browser, password):
        token = csrf_from(browser.get("/login").text)
        return browser.post("/login", data={"email": owner.email, "password": password,
                                            "csrf_token": token}, follow_redirects=False)

    assert [attempt(stranger, "sai-mat-khau").status_code for _ in range(6)] == \
        [401] * 5 + [429]
    assert attempt(stranger, PASSWORD).status_code == 429
    assert attempt(client, PASSWORD).status_code == 303
    # The owner's browser is limited too: a stolen device token allows few guesses.
    assert [attempt(client, "sai-mat-khau").status_code for _ in range(6)] == [401] * 5 + [429]


def test_register_an_empty_name_is_asked_for_in_words(client, session):
    response = _post(client, "/register", {
        "email": "moi@example.vn", "password": "mat-khau-du-dai-10", "full_name": ""})
    assert response.status_code == 422
    assert '<p class="field-error" id="e-full_name">Trường này là bắt buộc.</p>' in response.text
    assert session.exec(select(User).where(User.email == "moi@example.vn")).first() is None
