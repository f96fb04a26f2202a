"""Lists on a 390 px phone, in Vietnamese and in English: every table a stack of cards with
each value labelled, nothing wider than the screen, status badges whole; the focus ring
visible on the red header; axe-core (tests/e2e/axe.py) checks every page on the way.
Screenshots go to GIAIBAO_SCREENSHOTS (or a fresh temporary folder)."""

import os
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.samples import pdf
from tests.e2e.conftest import ORGANIZER

SHOTS = Path(os.environ.get("GIAIBAO_SCREENSHOTS") or tempfile.mkdtemp(prefix="giaibao-shots-"))
PASSWORD = "mat-khau-tac-gia"
PHONE = {"width": 390, "height": 844}


def _ok(response):
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


@pytest.fixture(scope="module")
def author(organizer_api, live_server):
    """A journalist with one entry submitted and one draft in an open award."""
    import httpx

    from tests.e2e.conftest import _award_numbers

    n = next(_award_numbers) + 5000
    award = _ok(organizer_api.post("/awards", json={
        "title": f"Giải báo chí Ninh Thuận lần thứ {n}", "year": 2026, "slug": f"look-{n}",
        "rules": "## Thể lệ", "submission_opens_at": "2026-01-01T00:00:00+00:00",
        "submission_closes_at": "2099-12-31T10:00:00+00:00",
        "published_from": "2025-11-01", "published_to": "2026-10-31",
        "max_entries_per_author": 3, "max_authors_per_entry": 5, "max_series_parts": 5}))
    category = _ok(organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "PTTH", "name": "Phát thanh – truyền hình", "accepted_kinds": ["pdf"],
        "max_file_mb": 10, "url_required": False, "prize_quota": {"A": 1, "B": 1, "C": 1}}))
    _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": "open"}))
    email = f"look-{n}@example.vn"
    _ok(organizer_api.post("/users", json={"email": email, "password": PASSWORD,
                                           "full_name": "Nguyễn Thị Phương Thảo",
                                           "role": "journalist"}))
    with httpx.Client(base_url=f"{live_server}/api/v1") as api:
        token = _ok(api.post("/auth/token", data={"username": email,
                                                  "password": PASSWORD}))["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        for title in ("Những người giữ rừng phòng hộ ven biển Ninh Hải – ghi chép dài kỳ",
                      "Bản nháp chưa gửi"):
            entry = _ok(api.post(f"/awards/{award['id']}/entries", json={
                "category_id": category["id"], "title": title, "summary": "Tóm tắt.",
                "outlet": "Đài Phát thanh – Truyền hình Ninh Thuận",
                "published_on": "2026-04-30", "co_authors": []}))
            if title.startswith("Những"):
                _ok(api.post(f"/entries/{entry['id']}/files",
                             files={"file": ("bai.pdf", pdf("Bai"), "application/pdf")}))
                _ok(api.post(f"/entries/{entry['id']}/submit"))
    return {"email": email, "award": award}


def _log_in(page, email, password, button="Đăng nhập"):
    page.goto("/login")
    page.locator("#f-email").fill(email)
    page.locator("#f-password").fill(password)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()


def _fits_the_phone(page) -> None:
    """No sideways scrolling, each card's cells labelled, no badge broken over two lines."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for table in page.locator("table.stack").all():
        expect(table.locator("thead")).to_have_css("position", "absolute")
        assert table.locator("tbody td:not([data-label])").count() == 0
        assert table.locator("tbody tr").first.evaluate("r => getComputedStyle(r).display") == \
            "block"
    for badge in page.locator(".badge:visible").all():
        box = badge.bounding_box()
        line = float(badge.evaluate("b => parseFloat(getComputedStyle(b).lineHeight)"))
        assert box["height"] < 2 * line, badge.inner_text()


def test_lists_are_cards_on_a_phone(page, author):
    page.set_viewport_size(PHONE)
    _log_in(page, author["email"], PASSWORD)
    page.goto("/me/entries")
    expect(page.locator("table.stack td[data-label='Trạng thái']").first).to_be_visible()
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "look-me-entries-390-vi.png"), full_page=True)
    page.goto("/lang/en?next=/me/entries")
    expect(page.locator("table.stack td[data-label='Status']").first).to_be_visible()
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "look-me-entries-390-en.png"), full_page=True)
    page.goto(f"/awards/{author['award']['slug']}")
    _fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "look-award-390-en.png"), full_page=True)


def test_organizer_lists_are_cards_on_a_phone(page, author):
    award = author["award"]
    page.set_viewport_size(PHONE)
    _log_in(page, ORGANIZER[0], ORGANIZER[1])
    for path, name in ((f"/admin/awards/{award['id']}/entries?status=", "entries"),
                       (f"/admin/awards/{award['id']}", "award"), ("/admin/audit", "audit"),
                       ("/admin/users", "users"), ("/admin/outbox", "outbox"),
                       ("/admin/", "console")):
        page.goto(path)
        _fits_the_phone(page)
        page.screenshot(path=str(SHOTS / f"look-{name}-390-vi.png"), full_page=True)


def test_the_focus_ring_shows_on_the_red_header(page):
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the site name, on the red header
    focused = page.evaluate("""(() => { const s = getComputedStyle(document.activeElement);
        return [document.activeElement.className, s.outlineStyle, s.outlineColor,
                s.outlineWidth]; })()""")
    assert focused == ["brand", "solid", "rgb(255, 255, 255)", "3px"]
    page.screenshot(path=str(SHOTS / "look-focus-header.png"))
