"""Co-authors over the API: nobody reads an entry through an address they have not proven;
the linked flag; the limit counting co-authored entries; a verified address to submit."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from app.accounts.models import User
from app.awards import service as awards
from app.entries import writes as entry_writes
from app.mail.models import Mail
from tests.factories import PASSWORD, api_headers, make_award, make_entry, make_user

HOA = {"full_name": "Lê Thị Hoa", "pen_name": "Hoa Lê", "email": "hoa@example.vn"}


@pytest.fixture
def award(session):
    return make_award(session, status="open", categories=1, max_entries_per_author=2)


def _create(client, session, award, headers, co_authors):
    category = awards.list_categories(session, award)[0]
    return client.post(f"/api/v1/awards/{award.id}/entries", headers=headers, json={
        "category_id": category.id, "title": "Chi bộ vùng cao", "summary": "",
        "outlet": "Báo Ninh Thuận", "published_on": "2026-04-02", "co_authors": co_authors})


def test_an_address_registered_first_by_someone_else_reads_nothing(client, session, award):
    # The squatter registers the real co-author's address before the entry exists.
    response = client.post("/api/v1/auth/register", json={
        "email": "HOA@example.vn", "password": PASSWORD, "full_name": "Kẻ Mạo Danh"})
    assert response.status_code == 201
    squatter = session.exec(select(User).where(User.email == "hoa@example.vn")).one()
    submitter = make_user(session)
    created = _create(client, session, award, api_headers(client, submitter), [HOA])
    assert [a["linked"] for a in created.json()["authors"]] == [True, False]
    entry = make_entry(session, award, user=submitter, status="submitted",
                       co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}])
    headers = api_headers(client, squatter)
    for entry_id in (created.json()["id"], entry.id):
        assert client.get(f"/api/v1/entries/{entry_id}", headers=headers).json() == {
            "detail": "Không tìm thấy tác phẩm."}
    assert client.get(f"/api/v1/files/{entry.files[0].id}", headers=headers).status_code == 404
    assert client.get("/api/v1/me/entries", headers=headers).json() == []
    assert client.post(f"/api/v1/entries/{entry.id}/withdraw",
                       headers=headers).status_code == 404

    # The address proven (by whoever really holds the mailbox): the entries appear.
    squatter.email_verified_at = datetime.now(UTC)
    entry_writes.link_co_author_accounts(session, squatter)
    response = client.get(f"/api/v1/entries/{entry.id}", headers=headers)
    assert (response.status_code, response.json()["viewer_role"]) == (200, "co_author")
    mine = client.get("/api/v1/me/entries", headers=headers).json()
    assert sorted((e["id"], e["viewer_role"]) for e in mine) == sorted(
        [(created.json()["id"], "co_author"), (entry.id, "co_author")])
    refused = client.patch(f"/api/v1/entries/{entry.id}", headers=headers, json={"title": "x"})
    assert (refused.status_code, refused.json()) == (
        403, {"detail": "Chỉ tác giả đã gửi tác phẩm mới có thể thay đổi tác phẩm."})


def test_the_submitter_sees_which_co_authors_are_linked(client, session, award):
    make_user(session, email="hoa@example.vn")
    submitter = make_user(session)
    response = _create(client, session, award, api_headers(client, submitter),
                       [HOA, {"full_name": "Phạm Văn Nam", "email": "nam@example.vn"}])
    assert response.status_code == 201
    body = response.json()
    assert body["viewer_role"] == "submitter"
    assert [(a["full_name"], a["email"], a["is_submitter"], a["linked"])
            for a in body["authors"]] == [
        ("Nguyễn Văn An", submitter.email, True, True),
        ("Lê Thị Hoa", "hoa@example.vn", False, True),
        ("Phạm Văn Nam", "nam@example.vn", False, False)]


def test_the_limit_counts_co_authored_entries_at_create_and_submit(client, session, award):
    hoa = make_user(session, email="hoa@example.vn", verified=False)
    line = {"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}
    make_entry(session, award, co_authors=[line], status="submitted")
    submitter = make_user(session)
    draft = make_entry(session, award, user=submitter, co_authors=[line])
    make_entry(session, award, user=hoa)
    hoa.email_verified_at = datetime.now(UTC)
    entry_writes.link_co_author_accounts(session, hoa)  # Hoa now has three entries; limit two
    headers = api_headers(client, submitter)
    response = client.post(f"/api/v1/entries/{draft.id}/submit", headers=headers)
    message = ("Đồng tác giả Lê Thị Hoa đã có 2 tác phẩm dự giải này (tự gửi hoặc là đồng "
               "tác giả), là số tối đa được phép.")
    assert (response.status_code, response.json()) == (409, {"detail": message})
    response = _create(client, session, award, headers, [HOA])
    assert (response.status_code, response.json()) == (409, {"detail": message})
    own = client.post(f"/api/v1/awards/{award.id}/entries", headers=api_headers(client, hoa),
                      json={"category_id": draft.category_id, "title": "Bài của Hoa",
                            "outlet": "Báo Ninh Thuận", "published_on": "2026-04-02"})
    assert (own.status_code, own.json()) == (409, {
        "detail": "Bạn đã có 2 tác phẩm dự giải này, là số tối đa được phép."})


def test_an_unverified_account_cannot_submit(client, session, award):
    user = make_user(session, verified=False)
    entry = make_entry(session, award, user=user)
    response = client.post(f"/api/v1/entries/{entry.id}/submit",
                           headers=api_headers(client, user))
    assert (response.status_code, response.json()) == (403, {
        "detail": "Vui lòng xác nhận địa chỉ e-mail của bạn trước khi gửi tác phẩm dự giải."})
    session.refresh(entry)
    assert (entry.status, entry.code) == ("draft", None)
    assert session.exec(select(Mail)).all() == []


def test_a_submission_through_the_api_queues_the_receipt_once(client, session, award):
    user = make_user(session, language="en")
    entry = make_entry(session, award, user=user,
                       co_authors=[{"full_name": "Phạm Văn Nam", "email": "nam@example.vn"}])
    response = client.post(f"/api/v1/entries/{entry.id}/submit",
                           headers=api_headers(client, user))
    assert response.status_code == 200
    code = response.json()["code"]
    assert [(m.template, m.to, m.subject) for m in session.exec(
        select(Mail).order_by(Mail.id)).all()] == [
        ("entry_receipt", user.email, f"Receipt for your entry {code}: Xây dựng Đảng từ cơ sở"),
        ("co_author_listed", "nam@example.vn",
         "Bạn có tên là đồng tác giả của tác phẩm “Xây dựng Đảng từ cơ sở”")]
