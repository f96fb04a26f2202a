"""The journalist's forms in a real browser: the limit before the form, every problem at
once, an upload cancelled leaves nothing, leaving with unsaved changes asks first, and the
submit button submits what is on the screen."""

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from app.samples import pdf


def _log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def _stored(live) -> set[str]:
    folder = Path(live.env["GIAIBAO_UPLOAD_DIR"])
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _throttle(page, bytes_per_second: int):
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": bytes_per_second})
    return cdp


def test_edits_are_submitted_unsaved_changes_warn_and_cancelled_uploads_leave_nothing(
        page, live, open_award, tmp_path):
    email = f"bieumau-{open_award['id']}@example.vn"
    live.cli("create-user", "--email", email, "--password", "mat-khau-bieu-mau",
             "--name", "Đinh Thị Mai", "--role", "journalist")
    _log_in(page, email, "mat-khau-bieu-mau")

    page.goto(f"/awards/{open_award['slug']}")
    expect(page.get_by_text("Bạn đã gửi 0/3 tác phẩm trong giải này.")).to_be_visible()
    page.get_by_role("link", name="Gửi tác phẩm dự giải").click()
    expect(page.locator(".deadline")).to_contain_text(", giờ Việt Nam (GMT+7)")

    # Every problem at once, each beside its field, the form kept as typed.
    page.get_by_label("Tóm tắt nội dung").fill("Ghi chép về một bản làng vùng cao.")
    page.get_by_label("Số kỳ (chỉ với loạt bài)").fill("9")
    page.get_by_role("button", name="Lưu bản nháp và tiếp tục").click()
    expect(page.locator("#error-summary li")).to_have_count(4)
    expect(page.locator("#e-title")).to_have_text("Vui lòng nhập tên tác phẩm.")
    expect(page.locator("#f-title")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#e-series_parts")).to_have_text("Loạt bài có tối đa 5 kỳ.")
    expect(page.get_by_label("Tóm tắt nội dung")).to_have_value("Ghi chép về một bản làng vùng cao.")
    page.locator("#error-summary").get_by_role("link").first.click()
    expect(page.locator("#f-title")).to_be_focused()

    page.get_by_label("Tên tác phẩm").fill("Bản làng bên dòng Đa Nhim")
    page.get_by_label("Cơ quan báo chí").fill("Báo Lâm Đồng")
    page.get_by_label("Ngày đăng, phát").fill("30/04/2026")
    page.get_by_label("Số kỳ (chỉ với loạt bài)").fill("")
    page.get_by_role("button", name="Lưu bản nháp và tiếp tục").click()
    expect(page.get_by_text("Đã lưu bản nháp.")).to_be_visible()
    entry_url = page.url.split("?")[0]
    expect(page.locator("#f-file")).to_have_attribute("accept", re.compile(r"^\.pdf,.*image/tiff$"))

    # An upload on a slow line: MB done of the total, speed, time left; cancelled, it leaves
    # nothing on the server.
    big = tmp_path / "ban-lang.pdf"
    big.write_bytes(pdf("Ban lang") + b"%" * (4 * 1024 * 1024))
    before = _stored(live)
    cdp = _throttle(page, 256 * 1024)
    page.set_input_files("#f-file", str(big))
    page.get_by_role("button", name="Tải lên", exact=True).click()
    status = page.locator("#upload-status")
    expect(status).to_have_text(re.compile(r"^\d+,\d/4,0 MB · \d+,\d MB/giây · còn khoảng \d+ "
                                           r"(giây|phút)$"), timeout=10000)
    expect(page.locator("#upload-button")).to_be_disabled()
    expect(page.locator("#upload-button")).to_have_text("Đang tải lên…")
    page.get_by_role("button", name="Hủy tải lên").click()
    expect(status).to_have_text("Đã hủy tải lên: không có gì được lưu lại.")
    expect(page.locator("#upload-button")).to_be_enabled()
    for _ in range(50):
        if _stored(live) == before:
            break
        time.sleep(0.1)
    assert _stored(live) == before
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    expect(page.get_by_text("Chưa có tệp nào.")).to_be_visible()

    small = tmp_path / "trang-bao.pdf"
    small.write_bytes(pdf("Trang bao"))
    page.set_input_files("#f-file", str(small))
    page.get_by_role("button", name="Tải lên", exact=True).click()
    expect(page.locator(".receipt")).to_contain_text("trang-bao.pdf")

    # A changed title: leaving asks first; staying keeps it.
    page.get_by_label("Tên tác phẩm").fill("Bản làng bên dòng Đa Nhim (bản cuối)")
    dialogs = []

    def stay(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.get_by_role("link", name="Tác phẩm của tôi").first.click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.split("?")[0].split("#")[0] == entry_url
    expect(page.get_by_label("Tên tác phẩm")).to_have_value("Bản làng bên dòng Đa Nhim (bản cuối)")

    # Submitting straight away: the new title is what is submitted and locked.
    page.get_by_role("button", name="Gửi tác phẩm").click()
    expect(page.get_by_text("Đã gửi tác phẩm, mã tác phẩm là BDT-")).to_be_visible()
    expect(page.locator("h1")).to_have_text("Bản làng bên dòng Đa Nhim (bản cuối)")
    assert dialogs == ["beforeunload"]  # sending the form did not ask
    page.reload()
    expect(page.locator("h1")).to_have_text("Bản làng bên dòng Đa Nhim (bản cuối)")
    expect(page.locator("#entry-form")).to_have_count(0)
