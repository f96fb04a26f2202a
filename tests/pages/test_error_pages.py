"""Every refusal shown to a signed-in person is a page with the message, in their language,
with their header, and the right status — never a bare "Internal Server Error"."""

import pytest

from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login

NAME = "Trần Thị Bích"


@pytest.fixture
def journalist(client, session):
    user = make_user(session, full_name=NAME)
    page_login(client, user)
    return user


def _assert_error_page(response, status: int, message: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert message in response.text
    assert f'<a href="/me">{NAME}</a>' in response.text
    assert "Đăng xuất" in response.text


def test_forbidden_page_for_a_signed_in_journalist(client, journalist):
    response = client.get("/admin/")
    _assert_error_page(response, 403, "Bạn không có quyền thực hiện thao tác này.")


def test_missing_entry_for_a_signed_in_journalist(client, journalist):
    _assert_error_page(client.get("/entries/999999"), 404, "Không tìm thấy tác phẩm.")


def test_someone_elses_entry_is_404_with_the_header(client, session, journalist):
    other = make_entry(session, make_award(session, status="open"))
    _assert_error_page(client.get(f"/entries/{other.id}"), 404, "Không tìm thấy tác phẩm.")


def test_unknown_address_keeps_the_signed_in_header(client, journalist):
    _assert_error_page(client.get("/khong-co-trang-nay"), 404, "Trang này không tồn tại.")


def test_conflict_page_after_a_refused_action(client, session, journalist):
    award = make_award(session, status="open")
    entry = make_entry(session, award, user=journalist)  # a draft cannot be withdrawn
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    response = client.post(f"/entries/{entry.id}/withdraw", data={"csrf_token": token})
    assert response.status_code == 409
    assert f'<a href="/me">{NAME}</a>' in response.text


def test_csrf_refusal_for_a_signed_in_person(client, journalist):
    response = client.post("/me", data={"csrf_token": "0" * 64, "full_name": "X"})
    _assert_error_page(response, 403, "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này.")


def test_stale_login_form_in_a_second_tab(client, session, journalist):
    """The login form was opened before signing in elsewhere: its token belongs to the
    anonymous visitor, so it is refused with a page, not a 500."""
    client.cookies.clear()
    stale = csrf_from(client.get("/login").text)
    page_login(client, journalist)
    response = client.post("/login", data={"email": journalist.email, "password": "x",
                                           "csrf_token": stale})
    _assert_error_page(response, 403, "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này.")


def test_error_page_in_english_on_request(client, journalist):
    client.cookies.set("lang", "en")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "You do not have permission to do this." in response.text


@pytest.mark.parametrize("path", ["/entries/abc", "/entries/-1", "/entries/99999999999",
                                  "/entries/1.5"])
def test_an_address_that_names_nothing_is_a_missing_page(client, journalist, path):
    _assert_error_page(client.get(path), 404, "Trang này không tồn tại.")
