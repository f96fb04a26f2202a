"""Verified identities in a real browser, in Vietnamese: the verification link and the
password reset, each read from the mail the server's sender delivered over SMTP."""

import itertools

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import link_in

_n = itertools.count(1)


@pytest.fixture
def outbox(mailbox):
    subjects = {"verify_email": "Xác nhận địa chỉ e-mail", "password_reset": "Đặt lại mật khẩu"}

    def last_link(to: str, template: str) -> str:
        """The link in the newest such mail, as the SMTP server received it."""
        return link_in(mailbox.mail_to(to, subjects[template]).text)

    return last_link


def test_newcomer_registers_and_verifies_the_address_from_the_mailed_link(page, outbox):
    email = f"xac-nhan-{next(_n)}@example.vn"
    page.goto("/register")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("mat-khau-an-toan")
    page.get_by_label("Họ và tên").fill("Vũ Thị Mai")
    page.get_by_role("button", name="Đăng ký").click()
    banner = page.get_by_text(f"Địa chỉ e-mail {email} của bạn chưa được xác nhận")
    expect(banner).to_be_visible()

    page.goto(outbox(email, "verify_email"))
    expect(page.get_by_text(f"Xác nhận {email} là địa chỉ e-mail của bạn.")).to_be_visible()
    page.get_by_role("button", name="Xác nhận địa chỉ e-mail của tôi").click()
    expect(page.get_by_text(f"Cảm ơn bạn: địa chỉ {email} đã được xác nhận.")).to_be_visible()
    expect(banner).to_have_count(0)
    page.goto("/me")
    expect(page.get_by_text("đã xác nhận", exact=True)).to_be_visible()


def test_forgotten_password_is_reset_from_the_mailed_link(page, outbox):
    email = f"quen-mat-khau-{next(_n)}@example.vn"
    page.goto("/register")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("mat-khau-cu-an-toan")
    page.get_by_label("Họ và tên").fill("Đặng Văn Hùng")
    page.get_by_role("button", name="Đăng ký").click()
    page.get_by_role("button", name="Đăng xuất").click()

    page.goto("/login")
    page.get_by_role("link", name="Quên mật khẩu?").click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Gửi đường dẫn cho tôi").click()
    expect(page.get_by_text("Nếu có tài khoản dùng địa chỉ này")).to_be_visible()

    page.goto(outbox(email, "password_reset"))
    page.get_by_label("Mật khẩu mới").fill("ngan")
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_role("alert")).to_have_text("Mật khẩu phải có ít nhất 10 ký tự.")
    page.get_by_label("Mật khẩu mới").fill("mat-khau-moi-an-toan")
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_text("Mật khẩu của bạn đã được thay đổi. Vui lòng đăng nhập bằng mật "
                            "khẩu mới.")).to_be_visible()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("mat-khau-moi-an-toan")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("link", name="Đặng Văn Hùng")).to_be_visible()
    # The reset proved the address too.
    expect(page.get_by_text("chưa được xác nhận")).to_have_count(0)
