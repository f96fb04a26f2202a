"""Security headers on every response (app.headers), and templates that the CSP cannot break."""

import re

import pytest

from app.headers import API_CSP, PAGE_CSP
from app.web import ROOT
from tests.factories import api_headers, make_award, make_entry, make_user, page_login


def _assert_common(response, csp=PAGE_CSP):
    assert response.headers["content-security-policy"] == csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"


def test_the_page_policy_allows_no_inline_script():
    directives = dict(d.strip().split(" ", 1) for d in PAGE_CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    # The scoring page plays the entry's audio and video and frames its PDFs: this site only.
    assert directives["media-src"] == "'self'"
    assert directives["frame-src"] == "'self'"
    assert directives["default-src"] == "'self'"


@pytest.mark.parametrize("path", ["/", "/login", "/register"])
def test_public_pages_have_the_headers_and_may_be_cached(client, path):
    response = client.get(path)
    assert response.status_code == 200
    _assert_common(response)
    assert "cache-control" not in response.headers


def test_error_pages_have_the_headers(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    _assert_common(response)


def test_signed_in_pages_are_not_stored(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session))
    for path in ("/me", "/me/entries", f"/awards/{award.slug}", "/khong-co-trang-nay"):
        response = client.get(path)
        _assert_common(response)
        assert response.headers["cache-control"] == "no-store", path


def test_static_files_have_the_headers_and_stay_cacheable_when_signed_in(client, session):
    page_login(client, make_user(session))
    response = client.get("/static/app.css")
    assert response.status_code == 200
    _assert_common(response)
    assert "cache-control" not in response.headers


def test_api_answers_have_the_headers_and_are_not_stored_for_a_token(client, session):
    anonymous = client.get("/api/v1/awards")
    _assert_common(anonymous, API_CSP)
    assert "cache-control" not in anonymous.headers
    headers = api_headers(client, make_user(session))
    for path in ("/api/v1/me", "/api/v1/entries/2147483647"):
        response = client.get(path, headers=headers)
        _assert_common(response, API_CSP)
        assert response.headers["cache-control"] == "no-store", path


def test_downloads_keep_their_own_stricter_policy(client, session):
    author = make_user(session)
    entry = make_entry(session, make_award(session, status="open"), user=author)
    response = client.get(f"/api/v1/files/{entry.files[0].id}",
                          headers=api_headers(client, author))
    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'; ")
    assert response.headers["cache-control"] == "private, no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


def test_no_template_holds_what_the_policy_would_block():
    # Mail bodies (templates/mail) are never served as pages: mail clients need inline styles.
    templates = sorted(p for p in (ROOT / "templates").rglob("*.html")
                       if p.parent.name != "mail")
    assert len(templates) > 10
    found = []
    for path in templates:
        text = path.read_text(encoding="utf-8")
        rules = [INLINE_SCRIPT, EVENT_HANDLER, JAVASCRIPT_URL]
        # Mails are read in mail programs, which only keep inline styles; never served
        # under the pages' policy.
        if path.parent.name != "mail":
            rules.append(STYLE_ATTRIBUTE)
        for rule in rules:
            found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in rule.finditer(text)]
    assert found == []


def test_the_template_check_catches_inline_code():
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script src="/static/upload.js" defer></script>')
    assert EVENT_HANDLER.search('<button type="button" onclick="go()">')
    assert STYLE_ATTRIBUTE.search('<div class="x" style="color: red">')
    assert not EVENT_HANDLER.search('<input name="only_one" value="x">')
