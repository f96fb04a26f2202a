"""What every page looks and reads like (issue 10, part "look"): one site name per title, the
favicon, the API documentation link for organizers only, the words that tell an award's title
from a work's, English plurals, hints tied to their fields, Vietnamese user data marked as
such in the English UI, lists that become cards on a phone."""

import re

import pytest

from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login


def _english(client):
    client.get("/lang/en?next=/")


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_home_page_title_is_the_site_name_once(client, lang):
    if lang == "en":
        _english(client)
    assert _title(client.get("/").text) == "Giải báo chí"


def test_every_other_page_title_is_the_page_then_the_site_name(client, session):
    award = make_award(session, status="open", title="Giải báo chí tỉnh Ninh Thuận 2026")
    assert _title(client.get(f"/awards/{award.slug}").text) == (
        "Giải báo chí tỉnh Ninh Thuận 2026 · Giải báo chí")
    assert _title(client.get("/login").text) == "Đăng nhập · Giải báo chí"
    _english(client)
    assert _title(client.get("/login").text) == "Log in · Giải báo chí"


def test_the_favicon_is_linked_and_served(client):
    html = client.get("/").text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    icon = client.get("/static/favicon.svg")
    assert (icon.status_code, icon.headers["content-type"]) == (200, "image/svg+xml")
    ico = client.get("/favicon.ico")
    assert (ico.status_code, ico.headers["content-type"], ico.content) == (
        200, "image/svg+xml", icon.content)


@pytest.mark.parametrize("role, shown", [(None, False), ("journalist", False), ("judge", False),
                                         ("organizer", True)])
def test_the_api_documentation_link_is_for_organizers_only(client, session, role, shown):
    if role:
        page_login(client, make_user(session, role=role))
    html = client.get("/").text
    assert ('<a href="/docs">Tài liệu API</a>' in html) is shown
    assert ('href="/docs"' in html) is shown


def test_the_entry_form_asks_for_the_title_of_the_work(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session))
    html = client.get(f"/awards/{award.slug}/entries/new").text
    assert re.search(r'<label for="f-title">Tên tác phẩm\b', html)
    assert "Tên giải" not in html
    _english(client)
    html = client.get(f"/awards/{award.slug}/entries/new").text
    assert re.search(r'<label for="f-title">Title of the work\b', html)


def test_the_award_form_asks_for_the_award_title(client, session):
    page_login(client, make_user(session, role="organizer"))
    html = client.get("/admin/awards/new").text
    assert re.search(r'<label for="f-title">Tên giải\b', html)
    _english(client)
    html = client.get("/admin/awards/new").text
    assert re.search(r'<label for="f-title">Award title\b', html)


def test_counts_read_as_english_plurals_and_vietnamese(client, session):
    one = make_award(session, status="open", max_entries_per_author=1, max_authors_per_entry=1,
                     max_series_parts=1)
    three = make_award(session, status="open", max_entries_per_author=3,
                       max_authors_per_entry=5, max_series_parts=2)
    assert "mỗi tác giả tối đa 1 tác phẩm; mỗi tác phẩm tối đa 1 tác giả; mỗi loạt bài tối đa 1 kỳ" \
        in client.get(f"/awards/{one.slug}").text
    _english(client)
    assert "up to 1 entry per author; up to 1 author per entry; up to 1 part per series" \
        in client.get(f"/awards/{one.slug}").text
    assert "up to 3 entries per author; up to 5 authors per entry; up to 2 parts per series" \
        in client.get(f"/awards/{three.slug}").text


def test_the_co_author_hint_counts_in_english(client, session):
    award = make_award(session, status="open", max_authors_per_entry=2)
    page_login(client, make_user(session))
    _english(client)
    html = client.get(f"/awards/{award.slug}/entries/new").text
    assert "You are the first author. Up to 1 co-author; leave unused rows empty." in html


def test_the_login_page_says_who_issues_judges_and_organizers_accounts(client):
    html = client.get("/login").text
    assert "Tài khoản giám khảo và Ban tổ chức do Thường trực Ban tổ chức cấp." in html
    assert "Tài khoản giám khảo và Ban tổ chức do Thường trực Ban tổ chức cấp." in (
        client.get("/register").text)


def test_a_hint_is_tied_to_its_field(client):
    html = client.get("/register").text
    assert re.search(r'<input id="f-password"[^>]*aria-describedby="h-password"', html, re.S)
    assert '<p class="hint" id="h-password">' in html


def test_an_invalid_field_is_described_by_its_error_then_its_hint(client):
    html = client.get("/register").text
    response = client.post("/register", data={
        "csrf_token": csrf_from(html), "email": "moi@example.vn", "password": "ngan",
        "full_name": "Trần Thị Bình"})
    assert re.search(r'<input id="f-password"[^>]*aria-invalid="true"\s+'
                     r'aria-describedby="e-password h-password"', response.text, re.S)


def test_vietnamese_names_are_marked_when_the_ui_is_english(client, session):
    user = make_user(session, full_name="Nguyễn Thị Hồng")
    page_login(client, user)
    assert '<a href="/me">Nguyễn Thị Hồng</a>' in client.get("/me/entries").text
    _english(client)
    assert '<a href="/me" lang="vi">Nguyễn Thị Hồng</a>' in client.get("/me/entries").text


def test_lists_become_cards_on_a_phone(client, session):
    award = make_award(session, status="open")
    user = make_user(session)
    make_entry(session, award, user=user)
    page_login(client, user)
    html = client.get("/me/entries").text
    assert '<table class="stack">' in html
    assert '<script src="/static/tables.js" defer></script>' in html
    css = client.get("/static/app.css").text
    assert "table.stack td[data-label]::before" in css


def test_the_audit_log_scrolls_by_keyboard(client, session):
    organizer = make_user(session, role="organizer")
    make_award(session, organizer=organizer)  # a line in the log
    page_login(client, organizer)
    html = client.get("/admin/audit").text
    assert '<div class="table-wrap" tabindex="0" role="region" aria-label="Nhật ký thao tác">' \
        in html


@pytest.mark.parametrize("lang, count, text", [
    ("en", 1, "You have 1 entry to score in the round “Vòng sơ khảo” of Giải báo chí 2026."),
    ("en", 3, "You have 3 entries to score in the round “Vòng sơ khảo” of Giải báo chí 2026."),
    ("vi", 1, "Bạn có 1 tác phẩm cần chấm ở vòng “Vòng sơ khảo” của Giải báo chí 2026."),
])
def test_the_judges_mail_counts_in_the_judges_language(lang, count, text):
    from types import SimpleNamespace

    from app.mail.service import render

    _subject, plain, html = render("judge_queue", {
        "user": SimpleNamespace(full_name="Lê Thị Một"), "count": count,
        "round": "Vòng sơ khảo", "award": SimpleNamespace(title="Giải báo chí 2026"),
        "url": "http://giaibao.test/judge/rounds/1"}, lang)
    assert text in plain
    assert text.split(" “")[0] in html
