"""Walks every route: each one refuses the callers it must refuse."""

import re

import pytest
from fastapi.routing import iter_route_contexts

from app.deps import api_user, page_user
from app.main import app
from tests.conftest import csrf_from
from tests.factories import api_headers, make_user, page_login

# Routes that anybody may call without signing in. A new public route must be added here.
PUBLIC_API = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/awards"),
    ("GET", "/api/v1/awards/{award_id}"),
    ("GET", "/api/v1/awards/{award_id}/categories"),
    # Results once published (organizers before); a certificate by its verification token.
    ("GET", "/api/v1/awards/{award_id}/results"),
    ("GET", "/api/v1/certificates/{token}"),
    # Mailed links: the secret in the body is the credential.
    ("POST", "/api/v1/auth/verification/confirm"),
    ("POST", "/api/v1/auth/email-change/confirm"),
    ("POST", "/api/v1/auth/password-reset"),
    ("POST", "/api/v1/auth/password-reset/confirm"),
    ("POST", "/api/v1/users/invitations/accept"),
    ("GET", "/api/v1/awards/{award_id}/results"),
    ("GET", "/api/v1/certificates/{token}"),
    # Results files: anyone once the award is published (checked in the route, 404 before).
    ("GET", "/api/v1/awards/{award_id}/results.csv"),
    ("GET", "/api/v1/awards/{award_id}/results.xlsx"),
    ("GET", "/api/v1/awards/{award_id}/results.pdf"),
    ("GET", "/api/v1/awards/{award_id}/scores.csv"),
}
PUBLIC_PAGES = {
    ("GET", "/"), ("GET", "/register"), ("POST", "/register"), ("GET", "/login"),
    ("POST", "/login"), ("POST", "/logout"), ("GET", "/lang/{code}"),
    ("GET", "/awards/{slug}"), ("GET", "/healthz"), ("GET", "/favicon.ico"),
    # Pages that mailed links open (GET shows, POST uses the link) and the forgotten password.
    ("GET", "/verify"), ("POST", "/verify"), ("GET", "/confirm-email"), ("POST", "/confirm-email"),
    ("GET", "/forgot-password"), ("POST", "/forgot-password"), ("GET", "/reset-password"),
    ("POST", "/reset-password"), ("GET", "/invitations/accept"), ("POST", "/invitations/accept"),
    # Results files once published (404 before, but to the organizer), certificates by token.
    ("GET", "/awards/{slug}/results.csv"), ("GET", "/awards/{slug}/results.xlsx"),
    ("GET", "/awards/{slug}/results.pdf"), ("GET", "/awards/{slug}/scores.csv"),
    ("GET", "/certificates/{token}.pdf"),
    # The results page (organizers see a preview before publishing) and a certificate's check.
    ("GET", "/awards/{slug}/results"), ("GET", "/certificates/{token:certificate_token}"),
}


def _walk(dependant):
    for dep in dependant.dependencies:
        yield dep.call
        yield from _walk(dep)


def _requirement(route):
    calls = list(_walk(route.dependant))
    roles = [c.allowed_roles for c in calls if hasattr(c, "allowed_roles")]
    if roles:
        return tuple(roles[0])
    if api_user in calls or page_user in calls:
        return ("any",)
    return None


def _routes(prefix_api: bool):
    for route in iter_route_contexts(app.routes):
        if getattr(route, "dependant", None) is None:
            continue
        if route.path.startswith("/api/") != prefix_api:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            yield method, route.path, _requirement(route)


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


API_ROUTES = list(_routes(True))
PAGE_ROUTES = list(_routes(False))


def test_public_api_routes_are_exactly_the_known_ones():
    assert {(m, p) for m, p, req in API_ROUTES if req is None} == PUBLIC_API


def test_public_pages_are_exactly_the_known_ones():
    assert {(m, p) for m, p, req in PAGE_ROUTES if req is None} == PUBLIC_PAGES


def test_every_admin_page_is_for_organizers_only():
    admin = [(m, p, req) for m, p, req in PAGE_ROUTES if p.startswith("/admin/")]
    assert admin and all(req == ("organizer",) for _, _, req in admin)


@pytest.mark.parametrize(("method", "path", "req"),
                         [r for r in API_ROUTES if r[2] is not None], ids=lambda v: str(v))
def test_api_refuses_anonymous_callers(client, method, path, req):
    response = client.request(method, _url(path), json={})
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "req"),
                         [r for r in API_ROUTES if r[2] not in (None, ("any",))],
                         ids=lambda v: str(v))
def test_api_refuses_roles_not_allowed(client, session, method, path, req):
    for role in {"journalist", "judge", "organizer"} - set(req):
        headers = api_headers(client, make_user(session, role=role))
        response = client.request(method, _url(path), json={}, headers=headers)
        assert response.status_code == 403, (role, response.text)


@pytest.mark.parametrize(("method", "path", "req"),
                         [r for r in PAGE_ROUTES if r[2] is not None], ids=lambda v: str(v))
def test_pages_send_anonymous_visitors_to_login(client, method, path, req):
    if method == "POST":
        token = csrf_from(client.get("/login").text)
        response = client.post(_url(path), data={"csrf_token": token}, follow_redirects=False)
    else:
        response = client.get(_url(path), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(("method", "path", "req"),
                         [r for r in PAGE_ROUTES if r[2] not in (None, ("any",))],
                         ids=lambda v: str(v))
def test_pages_refuse_roles_not_allowed(client, session, method, path, req):
    for role in {"journalist", "judge", "organizer"} - set(req):
        client.cookies.clear()
        page_login(client, make_user(session, role=role))
        if method == "POST":
            token = csrf_from(client.get("/me").text)
            response = client.post(_url(path), data={"csrf_token": token},
                                   follow_redirects=False)
        else:
            response = client.get(_url(path), follow_redirects=False)
        assert response.status_code == 403, (role, path)
