"""Co-authors on the pages: the squatter sees nothing, the linked co-author reads the entry
without acting on it, the submitter sees who is linked, an unverified account is told to
confirm its address before submitting."""

from datetime import UTC, datetime

from sqlmodel import select

from app.accounts.models import User
from app.entries import writes as entry_writes
from tests.conftest import csrf_from
from tests.factories import PASSWORD, make_award, make_entry, make_user, page_login

LINE = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}


def _post(client, path, page, data=None):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**(data or {}), "csrf_token": token},
                       follow_redirects=False)


def test_an_address_registered_first_by_someone_else_shows_nothing(client, session):
    award = make_award(session, status="open")
    response = _post(client, "/register", "/register", {
        "email": "hoa@example.vn", "password": PASSWORD, "full_name": "Kẻ Mạo Danh"})
    assert response.status_code == 303
    entry = make_entry(session, award, status="submitted", title="Những bàn tay giữ rừng",
                       co_authors=[LINE])
    assert client.get(f"/entries/{entry.id}").status_code == 404
    assert client.get(f"/entries/{entry.id}/files/{entry.files[0].id}").status_code == 404
    assert "Những bàn tay giữ rừng" not in client.get("/me/entries").text

    squatter = session.exec(select(User).where(User.email == "hoa@example.vn")).one()
    squatter.email_verified_at = datetime.now(UTC)
    entry_writes.link_co_author_accounts(session, squatter)
    mine = client.get("/me/entries").text
    assert (f'<a href="/entries/{entry.id}">Những bàn tay giữ rừng</a> '
            '<span class="badge">đồng tác giả</span>') in mine
    page = client.get(f"/entries/{entry.id}")
    assert page.status_code == 200
    assert ("Bạn có tên là đồng tác giả của tác phẩm này. Chỉ tác giả đã gửi tác phẩm mới có "
            "thể thay đổi tác phẩm.") in page.text
    for action in (f'action="/entries/{entry.id}"', f'action="/entries/{entry.id}/withdraw"',
                   f'action="/entries/{entry.id}/files"'):
        assert action not in page.text
    refused = _post(client, f"/entries/{entry.id}/withdraw", f"/entries/{entry.id}")
    assert refused.status_code == 403
    assert "Chỉ tác giả đã gửi tác phẩm mới có thể thay đổi tác phẩm." in refused.text


def test_the_submitter_sees_which_co_authors_have_an_account(client, session):
    award = make_award(session, status="open")
    make_user(session, email="hoa@example.vn")
    submitter = make_user(session)
    entry = make_entry(session, award, user=submitter, co_authors=[
        LINE, {"full_name": "Phạm Văn Nam", "email": "nam@example.vn"}])
    page_login(client, submitter)
    html = client.get(f"/entries/{entry.id}").text
    assert ('Lê Thị Hoa · hoa@example.vn\n      <span class="badge badge-accepted">đã liên kết '
            'tài khoản</span>') in html
    assert ('Phạm Văn Nam · nam@example.vn\n      <span class="badge badge-warn">chưa có tài '
            'khoản</span>') in html


def test_an_unverified_account_is_told_to_confirm_its_address_before_submitting(client,
                                                                               session):
    award = make_award(session, status="open")
    user = make_user(session, verified=False)
    entry = make_entry(session, award, user=user)
    page_login(client, user)
    notice = ('Vui lòng xác nhận địa chỉ e-mail của bạn trước khi gửi tác phẩm dự giải. '
              '<a href="/me">Mở trang cá nhân để nhận lại đường dẫn xác nhận.</a>')
    assert notice in client.get(f"/entries/{entry.id}").text
    response = _post(client, f"/entries/{entry.id}/submit", f"/entries/{entry.id}")
    assert response.status_code == 403
    assert response.text.count("Vui lòng xác nhận địa chỉ e-mail của bạn") == 1
    assert notice in response.text
    session.refresh(entry)
    assert entry.status == "draft"


def test_a_verified_account_sees_no_such_notice(client, session):
    award = make_award(session, status="open")
    user = make_user(session)
    entry = make_entry(session, award, user=user)
    page_login(client, user)
    assert "Vui lòng xác nhận địa chỉ e-mail" not in client.get(f"/entries/{entry.id}").text
