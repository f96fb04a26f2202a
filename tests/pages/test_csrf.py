"""Every state-changing form refuses a missing, wrong or foreign CSRF token and a foreign Origin."""

import re

import pytest
from fastapi.routing import iter_route_contexts
from sqlmodel import select

from app.main import app
from app.accounts.models import User
from tests.conftest import RequestClient, csrf_from
from tests.factories import make_user, page_login

REFUSED = "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này."
FOREIGN_SITE = "Biểu mẫu được gửi từ một trang khác nên đã bị từ chối."

POST_PAGES = sorted(
    {re.sub(r"\{[^}]+\}", "1", r.path) for r in iter_route_contexts(app.routes)
     if getattr(r, "dependant", None) is not None and not r.path.startswith("/api/")
     and "POST" in (r.methods or ())}
)


def test_there_are_forms_to_protect():
    assert "/login" in POST_PAGES and "/admin/awards/new" in POST_PAGES


@pytest.fixture
def signed_in(client, session):
    page_login(client, make_user(session, role="organizer"))
    return client


@pytest.mark.parametrize("path", POST_PAGES)
def test_missing_token_is_refused(signed_in, path):
    response = signed_in.post(path, data={"email": "x@example.vn"}, follow_redirects=False)
    assert response.status_code == 403
    assert REFUSED in response.text


@pytest.mark.parametrize("path", POST_PAGES)
def test_wrong_token_is_refused(signed_in, path):
    response = signed_in.post(path, data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert response.status_code == 403
    assert REFUSED in response.text


@pytest.mark.parametrize("path", POST_PAGES)
def test_another_sessions_token_is_refused(signed_in, session, path):
    other = RequestClient(app, session)
    page_login(other, make_user(session, role="organizer"))
    foreign = csrf_from(other.get("/me").text)
    response = signed_in.post(path, data={"csrf_token": foreign}, follow_redirects=False)
    assert response.status_code == 403
    assert REFUSED in response.text


@pytest.mark.parametrize("path", POST_PAGES)
def test_foreign_origin_is_refused_even_with_a_token(signed_in, path):
    token = csrf_from(signed_in.get("/me").text)
    response = signed_in.post(path, data={"csrf_token": token}, follow_redirects=False,
                              headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert FOREIGN_SITE in response.text


def test_anonymous_form_token_is_bound_to_the_visitor(client, session):
    other = RequestClient(app, session)
    foreign = csrf_from(other.get("/register").text)
    csrf_from(client.get("/register").text)
    response = client.post("/register", data={"csrf_token": foreign, "email": "x@example.vn",
                                              "password": "mat-khau-8", "full_name": "X"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert session.exec(select(User).where(User.email == "x@example.vn")).first() is None


def test_same_origin_with_token_passes(signed_in):
    token = csrf_from(signed_in.get("/me").text)
    response = signed_in.post("/logout", data={"csrf_token": token}, follow_redirects=False,
                              headers={"Origin": "http://testserver"})
    assert response.status_code == 303


def test_bearer_api_calls_need_no_csrf_token(client, session):
    from tests.factories import api_headers

    headers = api_headers(client, make_user(session, role="organizer"))
    response = client.patch("/api/v1/me", json={"full_name": "Không cần CSRF"}, headers=headers)
    assert response.status_code == 200
