"""The submission journey in a real browser: the address verified from the mailed link, entry,
upload with progress and receipt, submit and the receipt mail, return by the organizer (and
its mail), fix and resubmit."""

import hashlib
import re

from playwright.sync_api import expect

from app.samples import pdf
from tests.e2e.conftest import ORGANIZER, link_in


def _log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_submit_screen_return_and_resubmit(page, open_award, tmp_path, mailbox):
    email = f"tacgia-{open_award['id']}@example.vn"
    page.goto("/register")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("mat-khau-8")
    page.get_by_label("Họ và tên").fill("Phan Thị Thu")
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_text("Chào mừng!")).to_be_visible()
    page.goto(link_in(mailbox.mail_to(email, "Xác nhận địa chỉ e-mail").text))
    page.get_by_role("button", name="Xác nhận địa chỉ e-mail của tôi").click()
    expect(page.get_by_text(f"Cảm ơn bạn: địa chỉ {email} đã được xác nhận.")).to_be_visible()

    page.goto(f"/awards/{open_award['slug']}")
    page.get_by_role("link", name="Gửi tác phẩm dự giải").click()
    page.get_by_label("Tên tác phẩm").fill("Người đảng viên giữa đại ngàn")
    page.get_by_label("Cơ quan báo chí").fill("Báo Ninh Thuận điện tử")
    page.get_by_label("Ngày đăng, phát").fill("30/04/2026")
    page.get_by_label("Họ và tên (2)").fill("Trịnh Văn Nam")
    page.get_by_role("button", name="Lưu bản nháp và tiếp tục").click()
    expect(page.get_by_text("Đã lưu bản nháp.")).to_be_visible()

    # A file large enough, on a slowed connection, to watch the progress bar move.
    data = pdf("Nguoi dang vien") + b"%" * (3 * 1024 * 1024)
    path = tmp_path / "Người đảng viên.pdf"
    path.write_bytes(data)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 1024 * 1024})
    page.set_input_files("#f-file", str(path))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator("#upload-progress")).to_be_visible()
    expect(page.locator("#upload-status")).to_have_text(re.compile(r"^\d+,\d/3,0 MB"))
    receipt = page.locator(".receipt")
    expect(receipt).to_contain_text("Người đảng viên.pdf", timeout=30000)
    expect(receipt).to_contain_text(hashlib.sha256(data).hexdigest())
    cdp.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    page.get_by_role("button", name="Gửi tác phẩm").click()
    expect(page.get_by_text("Đã gửi tác phẩm, mã tác phẩm là BDT-001.")).to_be_visible()
    expect(page.locator(".entry-code")).to_have_text("BDT-001")
    entry_url = page.url.split("?")[0]
    receipt_mail = mailbox.mail_to(email, "Biên nhận tác phẩm dự giải BDT-001")
    assert receipt_mail.subject == ("Biên nhận tác phẩm dự giải BDT-001: Người đảng viên giữa "
                                    "đại ngàn")
    assert hashlib.sha256(data).hexdigest() in receipt_mail.text
    assert "Người đảng viên.pdf" in receipt_mail.text
    assert entry_url in receipt_mail.text

    page.get_by_role("button", name="Đăng xuất").click()
    _log_in(page, *ORGANIZER[:2])
    page.goto(f"/admin/awards/{open_award['id']}/entries")
    page.get_by_label("Tìm theo tên tác phẩm hoặc tác giả").fill("nguoi dang vien")
    page.get_by_role("button", name="Lọc").click()
    page.get_by_role("link", name="Người đảng viên giữa đại ngàn").click()
    page.get_by_label("Trả lại để bổ sung").check()
    page.get_by_label("Lý do").fill("Đề nghị ghi rõ số báo, trang đăng.")
    page.get_by_role("button", name="Lưu và sang bài tiếp theo").click()
    expect(page.get_by_text("Đã ghi nhận kết quả sơ duyệt tác phẩm BDT-001.")).to_be_visible()

    returned_mail = mailbox.mail_to(email, "trả lại")
    assert "Đề nghị ghi rõ số báo, trang đăng." in returned_mail.text

    page.get_by_role("button", name="Đăng xuất").click()
    _log_in(page, email, "mat-khau-8")
    page.goto("/me/entries")
    expect(page.get_by_role("cell", name="Đề nghị ghi rõ số báo, trang đăng.")).to_be_visible()
    page.goto(entry_url)
    expect(page.get_by_role("alert")).to_contain_text("Đề nghị ghi rõ số báo, trang đăng.")
    page.get_by_label("Tóm tắt nội dung").fill("Đăng trên số 1234, trang 5.")
    page.get_by_role("button", name="Lưu thay đổi").click()
    expect(page.get_by_text("Đã lưu thay đổi.")).to_be_visible()
    page.get_by_role("button", name="Gửi lại", exact=True).click()
    expect(page.get_by_text("Đã gửi tác phẩm, mã tác phẩm là BDT-001.")).to_be_visible()
