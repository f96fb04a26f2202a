"""The API of verified identities (shared/API.md, "Auth and users"): codes and fields."""

import re

from sqlmodel import select

from app.accounts.models import User
from app.mail.models import Mail
from tests.factories import PASSWORD, api_headers, make_user

NEW_PASSWORD = "mot-mat-khau-moi-rat-dai"
NOT_VALID = "Đường dẫn này không hợp lệ. Vui lòng kiểm tra bạn đã sao chép đầy đủ địa chỉ."


def _mails(session, template=None):
    query = select(Mail).order_by(Mail.id)
    if template:
        query = query.where(Mail.template == template)
    return list(session.exec(query).all())


def _token(mail: Mail) -> str:
    return re.search(r"token=([A-Za-z0-9_-]+)", mail.text).group(1)


def test_registration_mails_a_link_in_the_language_of_the_request(client, session):
    response = client.post("/api/v1/auth/register", headers={"Accept-Language": "en"}, json={
        "email": "tacgia@example.vn", "password": "mat-khau-an-toan", "full_name": "Trần Bích"})
    assert response.status_code == 201
    body = response.json()
    assert (body["email_verified"], body["pending_email"], body["language"]) == (
        False, None, "en")
    [mail] = _mails(session)
    assert (mail.to, mail.template, mail.language) == ("tacgia@example.vn", "verify_email", "en")


def test_confirming_a_verification_link_answers_the_verified_user(client, session):
    client.post("/api/v1/auth/register", json={
        "email": "tacgia@example.vn", "password": "mat-khau-an-toan", "full_name": "Trần Bích"})
    token = _token(_mails(session)[0])
    response = client.post("/api/v1/auth/verification/confirm", json={"token": token})
    assert response.status_code == 200
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "tacgia@example.vn", True)
    again = client.post("/api/v1/auth/verification/confirm", json={"token": token})
    assert (again.status_code, again.json()) == (400, {"detail": "Đường dẫn này đã được sử dụng."})


def test_a_tampered_verification_link_is_400(client):
    response = client.post("/api/v1/auth/verification/confirm", json={"token": "gia-mao"})
    assert (response.status_code, response.json()) == (400, {"detail": NOT_VALID})


def test_asking_for_a_new_verification_link_is_202_then_429(client, session):
    user = make_user(session, email="a@example.vn", verified=False)
    headers = api_headers(client, user)
    response = client.post("/api/v1/auth/verification", headers=headers)
    assert (response.status_code, response.json()) == (
        202, {"message": "Chúng tôi đã gửi một đường dẫn xác nhận mới tới a@example.vn."})
    again = client.post("/api/v1/auth/verification", headers=headers)
    assert again.status_code == 429
    assert 0 < int(again.headers["retry-after"]) <= 60
    assert again.json()["detail"].startswith("Bạn đã yêu cầu quá nhiều lần. Vui lòng chờ ")
    assert [m.to for m in _mails(session)] == ["a@example.vn"]


def test_asking_for_a_verification_link_when_verified_is_409(client, session):
    response = client.post("/api/v1/auth/verification",
                           headers=api_headers(client, make_user(session)))
    assert (response.status_code, response.json()) == (
        409, {"detail": "Địa chỉ e-mail của bạn đã được xác nhận."})


def test_language_is_set_through_patch_me_and_shown_by_get_me(client, session):
    headers = api_headers(client, make_user(session, full_name="Lê Văn Tám"))
    response = client.patch("/api/v1/me", headers=headers, json={"language": "en"})
    assert (response.status_code, response.json()["language"],
            response.json()["full_name"]) == (200, "en", "Lê Văn Tám")
    assert client.get("/api/v1/me", headers=headers).json()["language"] == "en"
    refused = client.patch("/api/v1/me", headers=headers, json={"language": "fr"})
    assert (refused.status_code, refused.json()) == (
        422, {"detail": "Ngôn ngữ không được hỗ trợ."})


def test_patch_me_with_an_empty_name_is_422(client, session):
    headers = api_headers(client, make_user(session))
    response = client.patch("/api/v1/me", headers=headers, json={"full_name": "  "})
    assert (response.status_code, response.json()) == (
        422, {"detail": "Vui lòng nhập họ và tên."})


def test_changing_the_address(client, session):
    user = make_user(session, email="cu@example.vn")
    headers = api_headers(client, user)
    response = client.post("/api/v1/me/email", headers=headers,
                           json={"email": "moi@example.vn", "password": PASSWORD})
    assert response.status_code == 202
    me = client.get("/api/v1/me", headers=headers).json()
    assert (me["email"], me["pending_email"]) == ("cu@example.vn", "moi@example.vn")
    link = _mails(session, "change_email")[0]
    confirmed = client.post("/api/v1/auth/email-change/confirm", json={"token": _token(link)})
    assert confirmed.status_code == 200
    assert (confirmed.json()["email"], confirmed.json()["pending_email"],
            confirmed.json()["email_verified"]) == ("moi@example.vn", None, True)


def test_changing_to_a_taken_address_is_409_and_a_wrong_password_422(client, session):
    make_user(session, email="khac@example.vn")
    headers = api_headers(client, make_user(session, email="cu@example.vn"))
    taken = client.post("/api/v1/me/email", headers=headers,
                        json={"email": "khac@example.vn", "password": PASSWORD})
    assert (taken.status_code, taken.json()) == (
        409, {"detail": "Đã có tài khoản dùng e-mail này."})
    wrong = client.post("/api/v1/me/email", headers=headers,
                        json={"email": "moi@example.vn", "password": "sai-mat-khau"})
    assert (wrong.status_code, wrong.json()) == (
        422, {"detail": "Mật khẩu hiện tại không đúng."})


RESET_SENT = ("Nếu có tài khoản dùng địa chỉ này, chúng tôi đã gửi tới đó một đường dẫn để đặt "
              "mật khẩu mới. Đường dẫn có hiệu lực trong một giờ.")


def test_password_reset_answers_the_same_whether_or_not_the_address_exists(client, session):
    make_user(session, email="a@example.vn")
    known = client.post("/api/v1/auth/password-reset", json={"email": "a@example.vn"})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "khong@example.vn"})
    assert (known.status_code, known.json()) == (202, {"message": RESET_SENT})
    assert (unknown.status_code, unknown.json()) == (202, {"message": RESET_SENT})
    assert sorted(known.headers.keys()) == sorted(unknown.headers.keys())
    assert [(m.to, m.template) for m in _mails(session)] == [
        ("a@example.vn", "password_reset"), ("khong@example.vn", "password_reset_unknown")]


def test_password_reset_is_429_after_five_requests_from_one_address(client, session):
    for n in range(5):
        response = client.post("/api/v1/auth/password-reset", json={"email": f"{n}@example.vn"})
        assert response.status_code == 202
    response = client.post("/api/v1/auth/password-reset", json={"email": "6@example.vn"})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) == 3600
    assert len(_mails(session)) == 5


def test_password_reset_confirm_revokes_every_token(client, session):
    user = make_user(session, email="a@example.vn")
    headers = api_headers(client, user)
    client.post("/api/v1/auth/password-reset", json={"email": "a@example.vn"})
    token = _token(_mails(session)[0])
    weak = client.post("/api/v1/auth/password-reset/confirm",
                       json={"token": token, "new_password": "123"})
    assert (weak.status_code, weak.json()) == (422, {"detail": "Mật khẩu phải có ít nhất 10 ký tự."})
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    response = client.post("/api/v1/auth/password-reset/confirm",
                           json={"token": token, "new_password": NEW_PASSWORD})
    assert (response.status_code, response.json()) == (
        200, {"message": "Mật khẩu của bạn đã được thay đổi. Vui lòng đăng nhập bằng mật khẩu mới."})
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert api_headers(client, user, NEW_PASSWORD)
    reused = client.post("/api/v1/auth/password-reset/confirm",
                         json={"token": token, "new_password": NEW_PASSWORD + "2"})
    assert (reused.status_code, reused.json()) == (400, {"detail": "Đường dẫn này đã được sử dụng."})


def test_invitation_created_listed_resent_and_accepted(client, session):
    organizer = make_user(session, role="organizer")
    headers = api_headers(client, organizer)
    response = client.post("/api/v1/users/invitations", headers=headers, json={
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge"})
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("email", "full_name", "role", "status", "user_id")} == {
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "judge",
        "status": "pending", "user_id": None}
    assert set(body) == {"id", "email", "full_name", "role", "status", "created_at",
                         "expires_at", "user_id"}
    listed = client.get("/api/v1/users/invitations", headers=headers)
    assert (listed.json(), listed.headers["x-total-count"]) == ([body], "1")
    resent = client.post(f"/api/v1/users/invitations/{body['id']}/resend", headers=headers)
    assert resent.status_code == 201 and resent.json()["id"] != body["id"]
    first, second = _mails(session, "invitation")
    old = client.post("/api/v1/users/invitations/accept",
                      json={"token": _token(first), "password": NEW_PASSWORD})
    assert (old.status_code, old.json()) == (400, {"detail": (
        "Đường dẫn này đã được thay bằng một đường dẫn mới hơn: vui lòng dùng đường dẫn trong "
        "thư gửi gần nhất.")})
    accepted = client.post("/api/v1/users/invitations/accept",
                           json={"token": _token(second), "password": NEW_PASSWORD})
    assert accepted.status_code == 200
    assert {k: accepted.json()[k] for k in ("email", "role", "email_verified", "full_name")} == {
        "email": "gk@example.vn", "role": "judge", "email_verified": True,
        "full_name": "Phạm Văn Giám"}
    assert client.get("/api/v1/users/invitations", headers=headers).json() == []


def test_inviting_a_verified_account_is_409_unless_confirmed(client, session):
    headers = api_headers(client, make_user(session, role="organizer"))
    account = make_user(session, email="gk@example.vn", full_name="Hoàng Thị Lan")
    data = {"email": "gk@example.vn", "full_name": "Hoàng Thị Lan", "role": "judge"}
    refused = client.post("/api/v1/users/invitations", headers=headers, json=data)
    assert (refused.status_code, refused.json()) == (409, {"detail": (
        "Tài khoản của Hoàng Thị Lan (gk@example.vn) đang dùng địa chỉ này. Hãy xác nhận để cấp "
        "cho tài khoản đó vai trò Giám khảo.")})
    granted = client.post("/api/v1/users/invitations", headers=headers,
                          json={**data, "confirm_existing": True})
    assert granted.status_code == 201
    assert {k: granted.json()[k] for k in ("id", "status", "user_id", "expires_at")} == {
        "id": None, "status": "granted", "user_id": account.id, "expires_at": None}
    session.refresh(account)
    assert account.role == "judge"


def test_invitation_errors(client, session):
    headers = api_headers(client, make_user(session, role="organizer"))
    journalist = client.post("/api/v1/users/invitations", headers=headers, json={
        "email": "a@example.vn", "full_name": "A", "role": "journalist"})
    assert (journalist.status_code, journalist.json()) == (
        422, {"detail": "Chỉ có thể mời giám khảo và thành viên Ban tổ chức."})
    missing = client.post("/api/v1/users/invitations/999/resend", headers=headers)
    assert (missing.status_code, missing.json()) == (404, {"detail": "Không tìm thấy lời mời này."})
    bad = client.post("/api/v1/users/invitations/accept",
                      json={"token": "gia-mao", "password": NEW_PASSWORD})
    assert (bad.status_code, bad.json()) == (400, {"detail": NOT_VALID})


def test_accepting_with_a_weak_password_is_422_and_keeps_the_link(client, session):
    headers = api_headers(client, make_user(session, role="organizer"))
    client.post("/api/v1/users/invitations", headers=headers, json={
        "email": "gk@example.vn", "full_name": "Phạm Văn Giám", "role": "organizer"})
    token = _token(_mails(session)[0])
    weak = client.post("/api/v1/users/invitations/accept",
                       json={"token": token, "password": "password123"})
    assert weak.status_code == 422
    ok = client.post("/api/v1/users/invitations/accept",
                     json={"token": token, "password": NEW_PASSWORD})
    assert (ok.status_code, ok.json()["role"]) == (200, "organizer")
    assert session.exec(select(User).where(User.email == "gk@example.vn")).one().role == \
        "organizer"


def test_registrations_from_one_address_are_limited_to_thirty_an_hour(client):
    """Each registration mails a link to an address the registrant chose: one network
    address may register thirty accounts an hour, then 429."""
    for i in range(30):
        assert client.post("/api/v1/auth/register", json={
            "email": f"tac-gia-{i}@example.vn", "password": "mat-khau-an-toan",
            "full_name": "Trần Văn Bình"}).status_code == 201
    refused = client.post("/api/v1/auth/register", json={
        "email": "tac-gia-31@example.vn", "password": "mat-khau-an-toan",
        "full_name": "Trần Văn Bình"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 3000
