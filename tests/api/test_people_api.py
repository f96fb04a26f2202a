"""The organizer's user endpoints: search and filters, deactivate, reactivate, reset link."""

from sqlmodel import select

from app.mail.models import Mail
from tests.factories import PASSWORD, api_headers, make_user


def _scene(session, client):
    organizer = make_user(session, role="organizer", full_name="Trần Minh Đức",
                          email="duc@btc.vn")
    journalist = make_user(session, full_name="Đặng Thị Đào", email="dao@example.vn")
    judge = make_user(session, role="judge", full_name="Lê Văn Giám", email="giam@example.vn")
    return organizer, journalist, judge, api_headers(client, organizer)


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["full_name"] for u in response.json()]


def test_users_are_searched_with_or_without_diacritics_and_filtered(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    assert _names(client.get("/api/v1/users?q=dang thi", headers=headers)) == ["Đặng Thị Đào"]
    assert _names(client.get("/api/v1/users?q=Đặng", headers=headers)) == ["Đặng Thị Đào"]
    assert _names(client.get("/api/v1/users?q=example.vn&role=judge",
                             headers=headers)) == ["Lê Văn Giám"]
    client.post(f"/api/v1/users/{judge.id}/deactivate", headers=headers)
    inactive = client.get("/api/v1/users?active=false", headers=headers)
    assert _names(inactive) == ["Lê Văn Giám"]
    assert inactive.headers["X-Total-Count"] == "1"
    assert inactive.json()[0]["is_active"] is False
    assert _names(client.get("/api/v1/users?active=true", headers=headers)) == [
        "Trần Minh Đức", "Đặng Thị Đào"]


def test_an_unknown_role_is_refused(client, session):
    *_, headers = _scene(session, client)
    response = client.get("/api/v1/users?role=admin", headers=headers)
    assert response.status_code == 422


def test_deactivate_ends_the_accounts_tokens_and_sign_in(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    theirs = api_headers(client, journalist)
    response = client.post(f"/api/v1/users/{journalist.id}/deactivate", headers=headers)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["is_active"]) == (journalist.id, False)
    assert client.get("/api/v1/me", headers=theirs).status_code == 401
    refused = client.post("/api/v1/auth/token",
                          data={"username": journalist.email, "password": PASSWORD})
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Tài khoản này đã bị Ban tổ chức khóa. Nếu cho rằng có nhầm lẫn, xin vui lòng liên hệ "
        "Ban tổ chức.")

    back = client.post(f"/api/v1/users/{journalist.id}/reactivate", headers=headers)
    assert (back.status_code, back.json()["is_active"]) == (200, True)
    assert client.get("/api/v1/me", headers=api_headers(client, journalist)).status_code == 200


def test_refusals_are_409_with_a_clear_detail(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    itself = client.post(f"/api/v1/users/{organizer.id}/deactivate", headers=headers,
                         params={"lang": "en"})
    assert (itself.status_code, itself.json()["detail"]) == (
        409, "You cannot deactivate your own account.")
    other = make_user(session, role="organizer")
    other_headers = api_headers(client, other)
    assert client.post(f"/api/v1/users/{organizer.id}/deactivate",
                       headers=other_headers).status_code == 200
    # ``other`` is now the only active organizer: nobody can deactivate it.
    last = client.post(f"/api/v1/users/{other.id}/deactivate", headers=other_headers,
                       params={"lang": "en"})
    assert (last.status_code, last.json()["detail"]) == (
        409, "You cannot deactivate your own account.")


def test_the_last_active_organizer_is_refused_by_another_organizer(client, session):
    first = make_user(session, role="organizer")
    second = make_user(session, role="organizer")
    first_headers, second_headers = api_headers(client, first), api_headers(client, second)
    assert client.post(f"/api/v1/users/{second.id}/deactivate",
                       headers=first_headers).status_code == 200
    # ``second``'s token was revoked with the deactivation.
    assert client.post(f"/api/v1/users/{first.id}/deactivate",
                       headers=second_headers).status_code == 401


def test_a_missing_user_is_404_on_every_route(client, session):
    *_, headers = _scene(session, client)
    for path in ("/api/v1/users/999999", ):
        assert client.get(path, headers=headers).status_code == 404
    for action in ("deactivate", "reactivate", "password-reset"):
        response = client.post(f"/api/v1/users/999999/{action}", headers=headers)
        assert response.status_code == 404, action


def test_one_user_is_read_by_id(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    response = client.get(f"/api/v1/users/{journalist.id}", headers=headers)
    assert (response.status_code, response.json()["email"]) == (200, "dao@example.vn")
    assert response.json()["last_login_at"] is None


def test_password_reset_on_request_mails_the_link_and_is_throttled(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    for _ in range(3):
        response = client.post(f"/api/v1/users/{journalist.id}/password-reset",
                               headers=headers, params={"lang": "en"})
        assert response.status_code == 202
    assert response.json() == {"message": "We sent a link to choose a new password to "
                                          "dao@example.vn."}
    mails = session.exec(select(Mail).where(Mail.template == "password_reset")).all()
    assert [m.to for m in mails] == ["dao@example.vn"] * 3
    throttled = client.post(f"/api/v1/users/{journalist.id}/password-reset", headers=headers)
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) > 0


def test_password_reset_for_a_deactivated_account_is_409(client, session):
    organizer, journalist, judge, headers = _scene(session, client)
    client.post(f"/api/v1/users/{journalist.id}/deactivate", headers=headers)
    response = client.post(f"/api/v1/users/{journalist.id}/password-reset", headers=headers)
    assert response.status_code == 409


def test_the_accounts_list_runs_as_many_queries_for_one_match_as_for_forty(client, session,
                                                                           queries):
    from tests.factories import page_login

    organizer = make_user(session, role="organizer")
    headers = api_headers(client, organizer)
    page_login(client, organizer)
    counts = []
    for n, word in ((1, "mot"), (40, "bon muoi")):
        for i in range(n):
            make_user(session, full_name=f"Người {word} {i}")
        q = word.replace(" ", "+")
        with queries:
            api = client.get(f"/api/v1/users?q={q}", headers=headers)
            page = client.get(f"/admin/users?q={q}")
        assert len(api.json()) == n
        assert page.text.count('<a href="/admin/users/') == n
        counts.append(queries.count)
    assert counts[0] == counts[1]
