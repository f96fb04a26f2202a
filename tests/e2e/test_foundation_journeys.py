"""The foundation's journeys in a real browser, in Vietnamese."""

import itertools
import re

from playwright.sync_api import expect

from tests.e2e.conftest import ORGANIZER

_n = itertools.count(1)


def test_newcomer_registers_logs_out_and_logs_in(page):
    email = f"nha-bao-{next(_n)}@example.vn"
    page.goto("/")
    page.get_by_role("link", name="Đăng ký").first.click()
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("mat-khau-8")
    page.get_by_label("Họ và tên").fill("Nguyễn Thị Hạnh")
    page.get_by_label("Bút danh").fill("Hạnh Nguyên")
    page.get_by_role("button", name="Đăng ký").click()
    expect(page.get_by_text("Chào mừng! Tài khoản của bạn đã được tạo.")).to_be_visible()
    expect(page.get_by_role("link", name="Nguyễn Thị Hạnh")).to_be_visible()

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
    page.goto("/me")
    expect(page).to_have_url(re.compile(r"/login\?next=/me$"))

    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text("E-mail hoặc mật khẩu không đúng.")
    page.get_by_label("Mật khẩu").fill("mat-khau-8")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Hồ sơ của tôi")).to_be_visible()


def test_organizer_sets_up_an_award_with_two_categories_and_opens_it(page):
    title = f"Giải báo chí Xây dựng Đảng thử nghiệm {next(_n)}"
    page.goto("/login")
    page.get_by_label("E-mail").fill(ORGANIZER[0])
    page.get_by_label("Mật khẩu").fill(ORGANIZER[1])
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Quản trị Ban tổ chức")).to_be_visible()

    page.get_by_role("link", name="Tạo giải mới").click()
    page.get_by_label("Tên giải").fill(title)
    page.get_by_label("Năm").fill("2026")
    page.get_by_label("Ngày bắt đầu (dd/mm/yyyy)").fill("01/11/2026")
    page.locator("#f-submission_opens_at_time").fill("08:00")
    page.get_by_label("Ngày kết thúc (dd/mm/yyyy)").fill("31/01/2027")
    page.locator("#f-submission_closes_at_time").fill("17:00")
    page.get_by_label("Từ ngày").fill("01/11/2025")
    page.get_by_label("Đến ngày").fill("31/10/2026")
    page.get_by_label("Thể lệ (Markdown)").fill("## Đối tượng\n\nMọi nhà báo.")
    page.get_by_role("button", name="Tạo giải").click()
    expect(page.get_by_text("Đã lưu giải.")).to_be_visible()

    page.get_by_role("button", name="Mở nhận tác phẩm").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Cần thêm ít nhất một thể loại trước khi mở nhận tác phẩm.")

    for code, name, kind in (("BDT", "Báo điện tử", "Tài liệu PDF"),
                             ("PT", "Phát thanh", "Âm thanh (MP3, M4A, WAV)")):
        page.get_by_role("link", name="Thêm thể loại").click()
        page.get_by_role("textbox", name="Mã thể loại", exact=True).fill(code)
        page.get_by_role("textbox", name="Tên thể loại", exact=True).fill(name)
        page.get_by_label(kind).check()
        page.get_by_role("button", name="Lưu thể loại").click()
        expect(page.get_by_text("Đã lưu thể loại.")).to_be_visible()

    page.get_by_role("button", name="Mở nhận tác phẩm").click()
    expect(page.get_by_text("Đã chuyển trạng thái của giải.")).to_be_visible()
    page.get_by_role("link", name="Trang công khai").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_role("cell", name="Phát thanh")).to_be_visible()
    expect(page.get_by_role("heading", name="Đối tượng")).to_be_visible()


def test_visitor_switches_the_language(page):
    page.goto("/login")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/register")
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.get_by_role("heading", name="Tạo tài khoản")).to_be_visible()
