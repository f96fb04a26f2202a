"""The organizer closes submissions (asked first), reopens them with a new deadline, and an
award whose window has not opened reads "Sắp mở" for everyone."""

import itertools
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.conftest import ORGANIZER

SHOTS = os.environ.get("GIAIBAO_SHOTS")  # a folder to keep screenshots in, when set
_n = itertools.count(1)


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _log_in(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANIZER[0])
    page.get_by_label("Mật khẩu").fill(ORGANIZER[1])
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Quản trị Ban tổ chức")).to_be_visible()


def test_organizer_closes_with_confirmation_then_reopens_with_a_new_deadline(page, open_award):
    _log_in(page)
    page.goto(f"/admin/awards/{open_award['id']}")
    _shot(page, "award-open")
    page.get_by_role("button", name="Đóng nhận tác phẩm…").click()
    expect(page.get_by_role("heading", name="Đóng nhận tác phẩm")).to_be_visible()
    expect(page.get_by_text("0 bài nháp sẽ không thể gửi nữa.")).to_be_visible()
    _shot(page, "confirm-close")
    page.get_by_role("button", name="Đóng nhận tác phẩm", exact=True).click()
    expect(page.get_by_text("Đã chuyển trạng thái của giải.")).to_be_visible()
    expect(page.locator(".badge-closed").first).to_have_text("Đã đóng nhận tác phẩm")

    day = (datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(days=45)).strftime("%d/%m/%Y")
    page.get_by_label("Hạn nhận mới (dd/mm/yyyy)").fill(day)
    page.locator("#f-reopen_closes_time").fill("17:00")
    _shot(page, "award-closed")
    page.get_by_role("button", name="Mở lại nhận tác phẩm").click()
    expect(page.get_by_text(f"Đã mở lại nhận tác phẩm đến 17:00 {day} "
                            "giờ Việt Nam (GMT+7).")).to_be_visible()
    expect(page.locator("#f-submission_closes_at_date")).to_have_value(day)
    expect(page.locator("#f-submission_closes_at_time")).to_have_value("17:00")


def test_an_award_not_yet_open_reads_opening_soon(page, organizer_api):
    n = next(_n)
    opens = datetime.now(UTC) + timedelta(days=3)
    award = organizer_api.post("/awards", json={
        "title": f"Giải báo chí sắp mở E2E {n}", "year": 2027, "slug": f"sap-mo-{n}",
        "submission_opens_at": opens.isoformat(),
        "submission_closes_at": (opens + timedelta(days=60)).isoformat()}).json()
    organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "BDT", "name": "Báo điện tử", "accepted_kinds": ["pdf"], "max_file_mb": 2048})
    assert organizer_api.patch(f"/awards/{award['id']}",
                               json={"status": "open"}).status_code == 200
    when = opens.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%H:%M %d/%m/%Y")

    page.goto("/")
    card = page.locator("li.card", has_text=award["title"])
    expect(card).to_contain_text(f"Sắp mở Nhận tác phẩm từ {when} giờ Việt Nam (GMT+7)")
    page.get_by_role("link", name=award["title"]).click()
    expect(page.get_by_text(f"Sắp mở: nhận tác phẩm từ {when} giờ Việt Nam (GMT+7).")
           ).to_be_visible()
    expect(page.get_by_role("button", name="Gửi tác phẩm dự giải")).to_be_disabled()
    expect(page.get_by_role("cell", name="2 GB")).to_be_visible()
    _shot(page, "award-upcoming")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "award-upcoming-phone")

    _log_in(page)
    page.goto("/admin/")
    row = page.locator("tr", has_text=award["title"])
    expect(row.locator(".badge-upcoming")).to_have_text("Sắp mở")
    expect(row).to_contain_text(f"mở nhận từ {when}")
