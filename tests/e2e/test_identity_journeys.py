"""Verified identities in a real browser, in Vietnamese: the verification link and the
password reset, each read from the outbox the server wrote."""

import itertools
import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, col, select

from app.db import make_engine
from app.mail.models import Mail
from tests.e2e.conftest import SERVERS

_n = itertools.count(1)


@pytest.fixture(scope="module")
def outbox(live_server):
    engine = make_engine(SERVERS["e2e"].database_url)

    def last_link(to: str, template: str) -> str:
        """The path and query of the link in the newest such mail (the server's own
        address, whatever GIAIBAO_BASE_URL says)."""
        with Session(engine) as session:
            text = session.exec(select(Mail.text).where(Mail.to == to, Mail.template == template)
                                .order_by(col(Mail.id).desc())).first()
        assert text is not None, (to, template)
        url = urlsplit(re.search(r"https?://\S+token=\S+", text).group(0))
        return f"{url.path}?{url.query}"

    yield last_link
    engine.dispose()


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
