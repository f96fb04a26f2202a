"""People in a real browser, in Vietnamese: the organizer finds a journalist without typing
diacritics and deactivates the account (their open browser is signed out on its next
request); reactivated, the journalist's profile form, sent from the page that was open when
the session ended, is saved after signing in again."""

import itertools

from playwright.sync_api import expect

from tests.e2e.conftest import ORGANIZER

_n = itertools.count(1)
PASSWORD = "mat-khau-an-toan"


def _log_in(page, email, password):
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def _organizer_opens(page, name_without_diacritics: str, full_name: str):
    page.goto("/admin/users")
    page.get_by_label("Tìm theo họ tên hoặc e-mail").fill(name_without_diacritics)
    page.get_by_role("button", name="Lọc").click()
    page.get_by_role("link", name=full_name).click()
    expect(page.get_by_role("heading", name=full_name)).to_be_visible()


def test_a_deactivated_journalist_is_signed_out_and_a_form_survives_reactivation(
        browser, live_server):
    email = f"khoa-{next(_n)}@example.vn"
    full_name = f"Đoàn Thị Hương {next(_n)}"
    journalist = browser.new_context(base_url=live_server, locale="vi-VN").new_page()
    organizer = browser.new_context(base_url=live_server, locale="vi-VN").new_page()

    journalist.goto("/register")
    journalist.get_by_label("E-mail").fill(email)
    journalist.get_by_label("Mật khẩu").fill(PASSWORD)
    journalist.get_by_label("Họ và tên").fill(full_name)
    journalist.get_by_role("button", name="Đăng ký").click()
    expect(journalist.get_by_role("heading", name="Các giải đang nhận tác phẩm")).to_be_visible()

    _log_in(organizer, *ORGANIZER[:2])
    _organizer_opens(organizer, full_name.replace("Đoàn Thị Hương", "doan thi huong"),
                     full_name)
    organizer.get_by_role("link", name="Khóa tài khoản").click()
    expect(organizer.get_by_text("Họ bị đăng xuất ngay trên mọi thiết bị")).to_be_visible()
    organizer.get_by_role("button", name="Khóa tài khoản").click()
    expect(organizer.get_by_text("Tài khoản đã bị khóa và đăng xuất trên mọi thiết bị.")
           ).to_be_visible()

    # The journalist's open browser: the next request finds the session ended.
    journalist.goto("/me")
    expect(journalist.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    _log_in(journalist, email, PASSWORD)
    expect(journalist.get_by_role("alert")).to_contain_text(
        "Tài khoản này đã bị Ban tổ chức khóa.")

    organizer.get_by_role("link", name="Mở khóa tài khoản").click()
    organizer.get_by_role("button", name="Mở khóa tài khoản").click()
    expect(organizer.get_by_text("Tài khoản đã được mở khóa")).to_be_visible()

    # Signed in again, the profile page open; the organizer deactivates and reactivates the
    # account meanwhile, which ends the session under the open form.
    _log_in(journalist, email, PASSWORD)
    journalist.goto("/me")
    journalist.get_by_label("Cơ quan báo chí / đơn vị công tác").fill("Báo Ninh Thuận")
    organizer.get_by_role("link", name="Khóa tài khoản").click()
    organizer.get_by_role("button", name="Khóa tài khoản").click()
    organizer.get_by_role("link", name="Mở khóa tài khoản").click()
    organizer.get_by_role("button", name="Mở khóa tài khoản").click()

    journalist.get_by_role("button", name="Lưu hồ sơ").click()
    expect(journalist.get_by_text("Phiên đăng nhập đã kết thúc nên nội dung bạn vừa gửi chưa "
                                  "được lưu.")).to_be_visible()
    journalist.get_by_label("E-mail").fill(email)
    journalist.get_by_label("Mật khẩu").fill(PASSWORD)
    journalist.get_by_role("button", name="Đăng nhập").click()
    expect(journalist.get_by_text("Bạn đã đăng nhập lại — bấm Lưu để lưu những gì bạn đã "
                                  "nhập.")).to_be_visible()
    journalist.get_by_role("button", name="Lưu", exact=True).click()
    expect(journalist.get_by_text("Đã lưu hồ sơ.")).to_be_visible()
    expect(journalist.get_by_label("Cơ quan báo chí / đơn vị công tác")).to_have_value(
        "Báo Ninh Thuận")
    journalist.context.close()
    organizer.context.close()
