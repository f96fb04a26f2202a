"""The secretariat's day in a real browser: screening three entries one after another
(a player for the audio, a reason forgotten then given, a rejection confirmed), the list as
an Excel file, and the audit log read in plain words — desktop and phone."""

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openpyxl
from playwright.sync_api import expect

from app.samples import pdf, wav
from tests.e2e.conftest import ORGANIZER

SHOTS = Path("/tmp/shots-office/e2e")
PASSWORD = "mat-khau-8"


def _ok(response):
    assert response.status_code < 400, response.text
    return response.json() if response.content else {}


def _scene(organizer_api, live_server):
    now = datetime.now(UTC)
    stamp = now.strftime("%H%M%S%f")
    award = _ok(organizer_api.post("/awards", json={
        "title": f"Giải báo chí Ninh Thuận {stamp}", "year": 2026, "slug": f"so-duyet-{stamp}",
        "rules": "## Thể lệ", "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=30)).isoformat(),
        "published_from": "2025-11-01", "published_to": "2026-10-31",
        "max_entries_per_author": 5, "max_authors_per_entry": 5, "max_series_parts": 5}))
    category = _ok(organizer_api.post(f"/awards/{award['id']}/categories", json={
        "code": "PT", "name": "Phát thanh", "accepted_kinds": ["pdf", "audio"],
        "max_file_mb": 50, "url_required": False,
        "prize_quota": {"A": 1, "B": 2, "C": 3, "KK": 4}}))
    _ok(organizer_api.patch(f"/awards/{award['id']}", json={"status": "open"}))
    email = f"phongvien-{stamp}@example.vn"
    _ok(organizer_api.post("/users", json={"email": email, "password": PASSWORD,
                                           "full_name": "Võ Thị Hồng Nhung",
                                           "role": "journalist"}))
    with httpx.Client(base_url=f"{live_server}/api/v1", timeout=60) as api:
        token = _ok(api.post("/auth/token", data={"username": email,
                                                  "password": PASSWORD}))["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        for n, title in enumerate(("Tiếng nói từ làng biển", "Chi bộ giữa đại ngàn",
                                   "Người giữ rừng"), start=1):
            entry = _ok(api.post(f"/awards/{award['id']}/entries", json={
                "category_id": category["id"], "title": title, "summary": "Phóng sự.",
                "outlet": "Đài PT-TH Ninh Thuận", "published_on": "2026-04-30",
                "co_authors": [{"full_name": "Trần Văn Nam", "pen_name": "Nam Trần"}]}))
            _ok(api.post(f"/entries/{entry['id']}/files", files={
                "file": (f"ban-tin-{n}.wav", wav(seconds=2.0 + n), "audio/wav")}))
            _ok(api.post(f"/entries/{entry['id']}/files", files={
                "file": (f"kich-ban-{n}.pdf", pdf(f"Kich ban {n}"), "application/pdf")}))
            _ok(api.post(f"/entries/{entry['id']}/submit"))
    return award


def _log_in(page):
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANIZER[0])
    page.get_by_label("Mật khẩu").fill(ORGANIZER[1])
    page.get_by_role("button", name="Đăng nhập").click()


def test_the_secretariat_screens_in_a_row_exports_and_reads_the_log(
        page, browser, organizer_api, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    award = _scene(organizer_api, live_server)
    _log_in(page)
    page.goto(f"/admin/awards/{award['id']}/entries")
    page.get_by_role("link", name="Tiếng nói từ làng biển").click()
    expect(page.get_by_text("Còn 3 bài chờ sơ duyệt.")).to_be_visible()
    audio = page.locator("audio.file-audio")
    expect(audio).to_have_count(1)
    duration = audio.evaluate("a => new Promise(r => a.readyState >= 1 ? r(a.duration) : "
                              "a.addEventListener('loadedmetadata', () => r(a.duration)))")
    assert round(duration) == 3
    audio.evaluate("a => { a.currentTime = 2; }")  # seeking: a Range request answered 206
    page.screenshot(path=str(SHOTS / "1-screening.png"), full_page=True)

    page.get_by_role("radio", name="Tiếp nhận", exact=True).check()
    page.get_by_role("button", name="Lưu và sang bài tiếp theo").click()
    expect(page.get_by_text("Đã ghi nhận kết quả sơ duyệt tác phẩm PT-001.")).to_be_visible()
    expect(page.get_by_text("Còn 2 bài chờ sơ duyệt.")).to_be_visible()

    page.get_by_role("radio", name="Không tiếp nhận").check()
    page.get_by_role("button", name="Lưu và sang bài tiếp theo").click()
    expect(page.locator("#e-reason")).to_have_text(
        "Vui lòng nêu lý do; tác giả sẽ thấy lý do này.")
    expect(page.get_by_role("radio", name="Không tiếp nhận")).to_be_checked()
    page.get_by_role("textbox", name="Lý do").fill("Tác phẩm phát sóng ngoài thời gian quy định")
    page.get_by_role("button", name="Lưu và sang bài tiếp theo").click()
    expect(page.get_by_text("Không tiếp nhận tác phẩm PT-002?")).to_be_visible()
    page.screenshot(path=str(SHOTS / "2-reject-confirm.png"), full_page=True)
    page.get_by_role("button", name="Không tiếp nhận tác phẩm").click()
    expect(page.get_by_text("Đã ghi nhận kết quả sơ duyệt tác phẩm PT-002.")).to_be_visible()

    page.get_by_role("radio", name="Tiếp nhận", exact=True).check()
    page.get_by_role("button", name="Lưu và sang bài tiếp theo").click()
    expect(page.get_by_text("Không còn tác phẩm nào của giải chờ sơ duyệt.")).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Tải về dạng Excel (XLSX)").click()
    today = datetime.now(UTC).astimezone().strftime("%Y")
    assert download.value.suggested_filename.startswith(
        f"{award['slug']}-tat-ca-tac-pham-da-gui-{today}")
    sheet = openpyxl.load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [(r[0], r[3], r[5], r[9]) for r in rows[1:]] == [
        ("PT-001", "Đã tiếp nhận", "Võ Thị Hồng Nhung; Trần Văn Nam (bút danh Nam Trần)", 2),
        ("PT-002", "Không tiếp nhận", "Võ Thị Hồng Nhung; Trần Văn Nam (bút danh Nam Trần)", 2),
        ("PT-003", "Đã tiếp nhận", "Võ Thị Hồng Nhung; Trần Văn Nam (bút danh Nam Trần)", 2)]

    page.goto("/admin/audit?action=entry.reject")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Không tiếp nhận tác phẩm")
    expect(row).to_contain_text("PT-002 · Chi bộ giữa đại ngàn")
    expect(row).to_contain_text("Trạng thái: Đã gửi → Không tiếp nhận")
    page.locator(".table-wrap").focus()
    expect(page.locator(".table-wrap")).to_be_focused()
    page.screenshot(path=str(SHOTS / "3-audit.png"), full_page=True)

    phone = browser.new_context(base_url=live_server, locale="vi-VN",
                                viewport={"width": 390, "height": 844})
    small = phone.new_page()
    _log_in(small)
    small.goto(f"/admin/audit?lang=en&object_type=entry&actor={ORGANIZER[0]}")
    expect(small.locator("tbody tr").first).to_contain_text("Accepted an entry")
    small.screenshot(path=str(SHOTS / "4-phone-audit-en.png"), full_page=True)
    phone.close()
