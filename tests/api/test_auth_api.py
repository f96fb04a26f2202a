import pytest

from tests.factories import PASSWORD, api_headers, make_user

REGISTER = {"email": "tacgia@example.vn", "password": "mat-khau-8", "full_name": "Trần Thị Bích",
            "pen_name": "Bích Trần", "phone": "0912345678", "organization": "Báo Ninh Thuận",
            "press_card_number": "NT-0042"}


def test_register_answers_201_with_a_journalist(client):
    response = client.post("/api/v1/auth/register", json=REGISTER)
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("email", "full_name", "pen_name", "role", "organization",
                                 "press_card_number")} == {
        "email": "tacgia@example.vn", "full_name": "Trần Thị Bích", "pen_name": "Bích Trần",
        "role": "journalist", "organization": "Báo Ninh Thuận", "press_card_number": "NT-0042"}
    assert "password_hash" not in body and "password" not in body


def test_register_ignores_a_requested_role(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "role": "organizer"})
    assert response.json()["role"] == "journalist"


def test_register_taken_email_is_409_in_vietnamese(client):
    client.post("/api/v1/auth/register", json=REGISTER)
    response = client.post("/api/v1/auth/register", json={**REGISTER, "email": "TacGia@example.vn"})
    assert response.status_code == 409
    assert response.json() == {"detail": "Đã có tài khoản dùng e-mail này."}


def test_register_short_password_is_422(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "password": "mat-khau9"})
    assert response.status_code == 422
    assert response.json() == {"detail": "Mật khẩu phải có ít nhất 10 ký tự."}


def test_register_bad_email_is_422(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "email": "not-an-email"})
    assert response.status_code == 422
    assert response.json() == {"detail": "Địa chỉ e-mail không hợp lệ."}


def test_errors_speak_english_on_request(client):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "password": "short"},
                           headers={"Accept-Language": "en-US,en;q=0.8"})
    assert response.json() == {"detail": "The password must have at least 10 characters."}


def test_token_then_me(client, session):
    user = make_user(session, email="me@example.vn", full_name="Lê Văn Tám")
    response = client.post("/api/v1/auth/token", data={"username": "me@example.vn",
                                                       "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["email"], me.json()["role"]) == (user.id, "me@example.vn",
                                                                        "journalist")


def test_wrong_credentials_are_401(client, session):
    make_user(session, email="me@example.vn")
    response = client.post("/api/v1/auth/token", data={"username": "me@example.vn",
                                                       "password": "wrong-password"})
    assert response.status_code == 401
    assert response.json() == {"detail": "E-mail hoặc mật khẩu không đúng."}


def test_me_without_or_with_a_bad_token_is_401(client):
    assert client.get("/api/v1/me").status_code == 401
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_stops_working(client, session):
    headers = api_headers(client, make_user(session))
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_profile_update_through_the_api(client, session):
    headers = api_headers(client, make_user(session))
    response = client.patch("/api/v1/me", headers=headers,
                            json={"full_name": "Phạm Minh", "pen_name": "Minh Phạm"})
    assert (response.status_code, response.json()["pen_name"]) == (200, "Minh Phạm")


def test_organizer_creates_users_with_roles(client, session):
    headers = api_headers(client, make_user(session, role="organizer"))
    response = client.post("/api/v1/users", headers=headers, json={
        "email": "gk1@example.vn", "password": "mat-khau-8", "full_name": "Giám khảo Một",
        "role": "judge"})
    assert response.status_code == 201
    assert response.json()["role"] == "judge"


def test_organizer_lists_users_by_role_with_a_total(client, session):
    organizer = make_user(session, role="organizer")
    for _ in range(3):
        make_user(session, role="judge")
    headers = api_headers(client, organizer)
    response = client.get("/api/v1/users?role=judge&limit=2", headers=headers)
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "3"
    assert [u["role"] for u in response.json()] == ["judge", "judge"]


def test_list_limit_is_capped_at_200(client, session):
    headers = api_headers(client, make_user(session, role="organizer"))
    assert client.get("/api/v1/users?limit=201", headers=headers).status_code == 422


def test_journalist_cannot_create_or_list_users(client, session):
    headers = api_headers(client, make_user(session))
    assert client.get("/api/v1/users", headers=headers).status_code == 403
    response = client.post("/api/v1/users", headers=headers, json={
        "email": "x@example.vn", "password": "mat-khau-8", "full_name": "X", "role": "organizer"})
    assert response.status_code == 403


@pytest.fixture
def frozen_now(client):
    """Every request sees the same ``now``, so that waits are exact."""
    from datetime import UTC, datetime

    from app.deps import get_now
    from app.main import app

    app.dependency_overrides[get_now] = lambda: datetime(2026, 11, 1, 9, tzinfo=UTC)
    yield
    app.dependency_overrides.pop(get_now, None)


def _token(client, email, password):
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def _client_from(session, address: str):
    from app.main import app
    from tests.conftest import RequestClient

    return RequestClient(app, session, client=(address, 50000))


def test_repeated_failures_are_429_with_retry_after(client, session, frozen_now):
    make_user(session, email="me@example.vn")
    responses = [_token(client, "me@example.vn", "sai-mat-khau") for _ in range(6)]
    assert [r.status_code for r in responses] == [401] * 5 + [429]
    assert responses[-1].headers["retry-after"] == "900"
    assert responses[-1].json() == {
        "detail": "Đăng nhập sai quá nhiều lần. Vui lòng chờ 15 phút rồi thử lại."}


def test_the_owner_signs_in_from_a_known_address_while_strangers_are_refused(client, session,
                                                                            frozen_now):
    make_user(session, email="me@example.vn")
    owner = _client_from(session, "10.7.7.7")
    assert _token(owner, "me@example.vn", PASSWORD).status_code == 200
    stranger = _client_from(session, "10.66.0.1")
    assert [_token(stranger, "me@example.vn", "sai-mat-khau").status_code
            for _ in range(6)] == [401] * 5 + [429]
    elsewhere = _token(_client_from(session, "10.66.0.2"), "me@example.vn", PASSWORD)
    assert (elsewhere.status_code, elsewhere.headers["retry-after"]) == (429, "2")
    assert elsewhere.json() == {
        "detail": "Đăng nhập sai quá nhiều lần. Vui lòng chờ 2 giây rồi thử lại."}
    assert _token(owner, "me@example.vn", PASSWORD).status_code == 200


def test_signing_in_with_a_full_width_email_finds_the_account(client, session):
    make_user(session, email="phongvien1@giaibao.vn")
    assert _token(client, "ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ", PASSWORD).status_code == 200


@pytest.mark.parametrize("email", ["ＴＡＣＧＩＡ＠ｅｘａｍｐｌｅ．ｖｎ", "TacGia@Example.VN"])
def test_register_a_look_alike_email_is_409(client, email):
    assert client.post("/api/v1/auth/register", json=REGISTER).status_code == 201
    response = client.post("/api/v1/auth/register", json={**REGISTER, "email": email})
    assert (response.status_code, response.json()) == (
        409, {"detail": "Đã có tài khoản dùng e-mail này."})


@pytest.mark.parametrize(("password", "detail"), [
    ("tranthibich", "Mật khẩu không được chứa họ tên của bạn."),
    ("tacgia-2026", "Mật khẩu không được chứa địa chỉ e-mail của bạn."),
    ("qwertyuiop", "Mật khẩu này thuộc nhóm mật khẩu phổ biến nhất, dễ bị đoán; "
                   "vui lòng chọn mật khẩu khác."),
    ("x" * 257, "Mật khẩu chỉ được có tối đa 256 ký tự."),
])
def test_register_a_weak_password_is_422(client, password, detail):
    response = client.post("/api/v1/auth/register", json={**REGISTER, "password": password})
    assert (response.status_code, response.json()) == (422, {"detail": detail})


def test_organizer_cannot_create_a_look_alike_or_a_weak_password(client, session):
    organizer = make_user(session, role="organizer", email="btc@giaibao.vn")
    headers = api_headers(client, organizer)
    taken = client.post("/api/v1/users", headers=headers, json={
        "email": "ＢＴＣ@giaibao.vn", "password": "mat-khau-an-toan", "full_name": "Ban tổ chức",
        "role": "organizer"})
    assert taken.status_code == 409
    weak = client.post("/api/v1/users", headers=headers, json={
        "email": "gk9@giaibao.vn", "password": "1234567890", "full_name": "Giám khảo",
        "role": "judge"})
    assert weak.status_code == 422


def test_password_change_refuses_the_name(client, session):
    user = make_user(session, full_name="Phạm Quốc Bảo")
    response = client.post("/api/v1/me/password", headers=api_headers(client, user), json={
        "current_password": PASSWORD, "new_password": "phamquocbao!"})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Mật khẩu không được chứa họ tên của bạn."})
