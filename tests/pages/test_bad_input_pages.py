"""Pages answer bad bodies and values with a message and a 4xx, never a 500, and read no
file where a text form is expected."""

from sqlmodel import select

from app.entries.models import Entry
from app.samples import pdf
from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login

MB = 1024 * 1024


def _signed_in_draft(client, session):
    """A draft, its author signed in, and the CSRF token of its page."""
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist)
    page_login(client, journalist)
    return award, entry, csrf_from(client.get(f"/entries/{entry.id}").text)


def test_a_title_too_long_for_its_column_is_refused_with_the_form(client, session):
    award, entry, token = _signed_in_draft(client, session)
    response = client.post(f"/entries/{entry.id}", data={
        "csrf_token": token, "title": "T" * 600, "outlet": "Báo Ninh Thuận",
        "published_on": "2026-03-15", "category_id": str(entry.category_id)})
    assert response.status_code == 422
    assert '<p class="field-error" id="e-title">Nội dung quá dài: tối đa 500 ký tự.</p>' in \
        response.text
    assert session.exec(select(Entry.title).where(Entry.id == entry.id)).one() == \
        "Xây dựng Đảng từ cơ sở"
    organizer = make_user(session, role="organizer")
    client.cookies.clear()
    page_login(client, organizer)
    assert client.get(f"/admin/awards/{award.id}/entries?status=draft").status_code == 200


def test_a_file_where_a_text_field_belongs_is_400(client, session):
    user = make_user(session)
    page_login(client, user)
    token = csrf_from(client.get("/me").text)
    response = client.post("/me", data={"csrf_token": token, "full_name": "Tên mới"},
                           files={"organization": ("x.pdf", pdf(), "application/pdf")})
    assert response.status_code == 400
    assert "Không đọc được biểu mẫu." in response.text


def test_a_token_sent_as_a_file_is_400_not_500(client, session):
    user = make_user(session)
    page_login(client, user)
    response = client.post("/me", files={"csrf_token": ("t.txt", b"abc", "text/plain")})
    assert response.status_code == 400


def test_a_non_ascii_csrf_header_is_simply_wrong(client, session):
    user = make_user(session)
    page_login(client, user)
    response = client.post("/me", headers={"X-CSRF-Token": "tôken".encode()}, data={"full_name": "X"})
    assert response.status_code == 403


def test_a_bad_multipart_boundary_on_a_form_is_400(client):
    client.get("/login")
    response = client.post("/login", content=b"garbage", headers={
        "Content-Type": "multipart/form-data; boundary=" + "b" * 300})
    assert response.status_code == 400


def test_an_anonymous_large_multipart_login_is_413(client):
    client.get("/login")
    response = client.post("/login", files={"junk": ("big.bin", b"x" * (2 * MB))},
                           data={"email": "a@b.vn", "password": "x"})
    assert response.status_code == 413
    assert "Dữ liệu gửi lên quá lớn (tối đa 1024 KB)." in response.text


def test_unicode_digits_in_number_fields_are_not_numbers(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    page_login(client, organizer)
    listing = client.get(f"/admin/awards/{award.id}/entries?category_id=%C2%B2")
    assert listing.status_code == 200
    page = f"/admin/awards/{award.id}/categories/new"
    token = csrf_from(client.get(page).text)
    response = client.post(page, data={"csrf_token": token, "code": "PT", "name": "Phát thanh",
                                       "accepted_kinds": "audio", "max_file_mb": "²",
                                       "quota_A": "١"})
    assert response.status_code == 422


def test_a_summary_that_grows_when_normalised_is_refused(client, session):
    award, entry, token = _signed_in_draft(client, session)
    response = client.post(f"/entries/{entry.id}", data={
        "csrf_token": token, "title": "T", "outlet": "Báo Ninh Thuận",
        "published_on": "2026-03-15", "category_id": str(entry.category_id),
        "summary": "\ufb2c" * 20_000})
    assert response.status_code == 422
    assert session.exec(select(Entry.summary).where(Entry.id == entry.id)).one() == "Tóm tắt"


def test_a_withdrawal_reason_longer_than_allowed_is_refused(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status="submitted")
    page_login(client, journalist)
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    response = client.post(f"/entries/{entry.id}/withdraw",
                           data={"csrf_token": token, "reason": "r" * 20_001})
    assert response.status_code == 422
    assert "Lý do chỉ được dài tối đa 20000 ký tự." in response.text
    assert session.exec(select(Entry.status).where(Entry.id == entry.id)).one() == "submitted"


def test_nul_in_a_login_form_is_a_wrong_login(client, session):
    user = make_user(session)
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"csrf_token": token, "email": "a\x00b@x.vn",
                                           "password": "x"})
    assert response.status_code == 401
    del user


def test_an_overlong_password_in_the_change_form_is_422(client, session):
    user = make_user(session)
    page_login(client, user)
    token = csrf_from(client.get("/me").text)
    response = client.post("/me/password", data={"csrf_token": token,
                                                  "current_password": "a" * 4097,
                                                  "new_password": "mot-mat-khau-moi-dai"})
    assert response.status_code == 422


def test_an_award_status_reason_is_cleaned_and_bounded(client, session):
    from app.audit.models import AuditEntry
    from app.awards.models import Award

    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    page_login(client, organizer)
    page = f"/admin/awards/{award.id}"
    token = csrf_from(client.get(page).text)
    too_long = client.post(f"{page}/status", data={"csrf_token": token, "status": "closed",
                                                   "reason": "r" * 20_001})
    assert too_long.status_code == 422
    assert "Lý do chỉ được dài tối đa 20000 ký tự." in too_long.text
    assert session.get(Award, award.id).status == "open"
    response = client.post(f"{page}/status", data={"csrf_token": token, "status": "closed",
                                                   "reason": "Hết\x00 hạn", "confirmed": "1"},
                           follow_redirects=False)
    assert response.status_code == 303
    reason = session.exec(select(AuditEntry.reason).where(
        AuditEntry.action == "award.status").order_by(AuditEntry.id.desc())).first()
    assert reason == "Hết hạn"
