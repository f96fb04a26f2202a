import re

import pytest
from sqlmodel import select

from app.awards import service as awards
from app.entries.models import Entry
from app.samples import pdf, png
from tests.conftest import csrf_from
from tests.factories import make_award, make_entry, make_user, page_login


def _form(session, award, **over):
    category = awards.list_categories(session, award)[0]
    values = {"category_id": str(category.id), "title": "Bí thư chi bộ bản làng",
              "summary": "Câu chuyện về một bí thư chi bộ.", "outlet": "Báo Ninh Thuận",
              "published_on": "2026-05-19", "url": "", "series_parts": "",
              "co_full_name_0": "Lò Văn Pá", "co_pen_name_0": "Pá Lò", "co_email_0": ""}
    values.update(over)
    return values


def _post(client, path, data, page):
    token = csrf_from(client.get(page).text)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def test_journalist_creates_an_entry_through_the_form(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session))
    page = f"/awards/{award.slug}/entries/new"
    response = _post(client, page, _form(session, award, published_on="19/05/2026"), page)
    assert response.status_code == 303
    entry = session.exec(select(Entry).where(Entry.title == "Bí thư chi bộ bản làng")).one()
    assert response.headers["location"] == f"/entries/{entry.id}?created=1"
    assert [a.full_name for a in entry.authors][1:] == ["Lò Văn Pá"]
    assert str(entry.published_on) == "2026-05-19"
    html = client.get(response.headers["location"]).text
    assert "Đã lưu bản nháp." in html
    # Shown back as typed: dd/mm/yyyy in a text box, whatever the browser's locale.
    assert re.search(r'<input id="f-published_on" name="published_on" type="text" '
                     r'value="19/05/2026"', html)


def test_entry_form_errors_keep_the_input(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session))
    page = f"/awards/{award.slug}/entries/new"
    response = _post(client, page, _form(session, award, published_on="2019-01-01"), page)
    assert response.status_code == 422
    assert "Tác phẩm phải được đăng, phát trong khoảng từ 01/11/2025 đến 31/10/2026." in response.text
    assert 'value="Bí thư chi bộ bản làng"' in response.text
    assert 'value="Lò Văn Pá"' in response.text
    assert session.exec(select(Entry).where(Entry.title == "Bí thư chi bộ bản làng")).first() is None


def test_organizer_cannot_open_the_entry_form(client, session):
    award = make_award(session, status="open")
    page_login(client, make_user(session, role="organizer"))
    assert client.get(f"/awards/{award.slug}/entries/new").status_code == 403


def _empty_draft_signed_in(client, session):
    """A draft without files on an open award, its author signed in on ``client``."""
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    page_login(client, journalist)
    return entry


def test_upload_without_script_then_submit_shows_the_code(client, session):
    entry = _empty_draft_signed_in(client, session)
    html = client.get(f"/entries/{entry.id}").text
    action = re.search(r'id="upload-form" method="post" enctype="multipart/form-data" '
                       r'class="card form upload"\s+action="([^"]+)"', html).group(1)
    response = client.post(action, data={"csrf_token": csrf_from(html)},
                           files={"file": ("trang-bao.pdf", pdf(), "application/pdf")},
                           follow_redirects=False)
    assert response.status_code == 303
    receipt = client.get(response.headers["location"]).text
    assert "Đã nhận" in receipt and "trang-bao.pdf" in receipt
    session.refresh(entry)
    assert entry.files[0].sha256 in receipt
    response = _post(client, f"/entries/{entry.id}/submit", {}, f"/entries/{entry.id}")
    assert response.headers["location"] == f"/entries/{entry.id}?saved=2"
    assert "Đã gửi tác phẩm, mã tác phẩm là C1-001." in client.get(response.headers["location"]).text


def test_script_upload_gets_json_and_errors_in_vietnamese(client, session):
    entry = _empty_draft_signed_in(client, session)
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    ok = client.post(f"/entries/{entry.id}/files", headers=headers,
                     files={"file": ("anh.png", png(), "image/png")})
    assert ok.status_code == 201
    assert ok.json()["redirect"] == f"/entries/{entry.id}?uploaded={ok.json()['id']}#files"
    bad = client.post(f"/entries/{entry.id}/files", headers=headers,
                      files={"file": ("anh.png", b"<html>not an image</html>" * 5, "image/png")})
    assert bad.status_code == 415
    assert bad.json() == {"detail": "Loại tệp này không được chấp nhận. Chấp nhận: Ảnh (JPEG, PNG, TIFF), Tài liệu PDF."}


def test_upload_needs_the_csrf_token(client, session):
    entry = _empty_draft_signed_in(client, session)
    response = client.post(f"/entries/{entry.id}/files", files={"file": ("a.pdf", pdf(),
                                                                        "application/pdf")})
    assert response.status_code == 403
    assert entry.files == []


def _upload_dir_names() -> set[str]:
    from app.storage import get_storage

    return {p.name for p in get_storage().root.iterdir()}


def test_page_upload_takes_its_token_from_the_field_before_the_file(client, session):
    entry = _empty_draft_signed_in(client, session)
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    before = _upload_dir_names()
    # In the address (where logs would keep it): refused, nothing stored.
    in_url = client.post(f"/entries/{entry.id}/files?csrf_token={token}",
                         files={"file": ("a.pdf", pdf(), "application/pdf")})
    assert in_url.status_code == 403
    # After the file: refused too, before the file is stored.
    boundary = "b0undary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n").encode() + pdf() + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token}\r\n--{boundary}--\r\n").encode()
    after = client.post(f"/entries/{entry.id}/files", content=body,
                        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert after.status_code == 403
    assert "Biểu mẫu đã hết hạn" in after.text
    assert _upload_dir_names() == before
    assert entry.files == []
    # Before the file, as the page's form sends it: stored.
    ok = client.post(f"/entries/{entry.id}/files", data={"csrf_token": token},
                     files={"file": ("a.pdf", pdf(), "application/pdf")}, follow_redirects=False)
    assert ok.status_code == 303
    assert len(entry.files) == 1


def test_the_upload_form_carries_its_token_in_the_body_not_the_address(client, session):
    entry = _empty_draft_signed_in(client, session)
    html = client.get(f"/entries/{entry.id}").text
    assert "csrf_token=" not in html
    form = html[html.index('id="upload-form"'):html.index("</form>", html.index('id="upload-form"'))]
    assert form.index('name="csrf_token"') < form.index('name="file"')


def test_submit_without_file_shows_why(client, session):
    entry = _empty_draft_signed_in(client, session)
    response = _post(client, f"/entries/{entry.id}/submit", {}, f"/entries/{entry.id}")
    assert response.status_code == 409
    assert "Vui lòng tải lên ít nhất một tệp của tác phẩm trước khi gửi." in response.text


def test_a_second_click_on_submit_shows_the_submitted_entry_not_an_error(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist)
    page_login(client, journalist)
    page = f"/entries/{entry.id}"
    token = csrf_from(client.get(page).text)
    answers = [client.post(f"/entries/{entry.id}/submit", data={"csrf_token": token},
                           follow_redirects=False) for _ in range(2)]
    assert [(a.status_code, a.headers["location"]) for a in answers] == [
        (303, f"/entries/{entry.id}?saved=2")] * 2


def test_an_unverified_author_sees_a_disabled_submit_button_and_why(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session, verified=False)
    entry = make_entry(session, award, user=journalist)
    page_login(client, journalist)
    html = client.get(f"/entries/{entry.id}").text
    assert ('<button type="submit" form="entry-form" name="action" value="submit" class="btn" '
            'disabled aria-describedby="submit-why">Gửi tác phẩm</button>') in html
    assert "Mở trang cá nhân để nhận lại đường dẫn xác nhận." in html


def test_organizer_returns_with_a_reason_and_the_author_sees_it(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, status="submitted")
    page_login(client, make_user(session, role="organizer"))
    page = f"/admin/entries/{entry.id}"
    refused = _post(client, f"/admin/entries/{entry.id}/screen", {"decision": "return"}, page)
    assert refused.status_code == 422
    assert "Vui lòng nêu lý do; tác giả sẽ thấy lý do này." in refused.text
    response = _post(client, f"/admin/entries/{entry.id}/screen",
                     {"decision": "return", "reason": "Thiếu ảnh chụp trang báo",
                      "then": "stay"}, page)
    assert response.headers["location"] == f"/admin/entries/{entry.id}?saved=1"
    client.cookies.clear()
    page_login(client, journalist)
    mine = client.get("/me/entries").text
    assert "Thiếu ảnh chụp trang báo" in mine and "Trả lại để bổ sung" in mine
    assert "Thiếu ảnh chụp trang báo" in client.get(f"/entries/{entry.id}").text


def test_organizer_list_searches_without_diacritics_and_flags_duplicates(client, session):
    award = make_award(session, status="open")
    same = pdf("trung")
    first = make_entry(session, award, title="Xây dựng Đảng vững mạnh", files=[same],
                       status="submitted")
    make_entry(session, award, title="Biển đảo quê hương", files=[same], status="submitted")
    page_login(client, make_user(session, role="organizer"))
    html = client.get(f"/admin/awards/{award.id}/entries?q=xay+dung+dang").text
    assert "Xây dựng Đảng vững mạnh" in html and "Biển đảo quê hương" not in html
    html = client.get(f"/admin/awards/{award.id}/entries").text
    assert f"Trùng tệp với {first.code}" in html


def test_others_cannot_see_an_entry_page_or_its_files(client, session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, status="submitted")
    file_id = entry.files[0].id
    assert client.get(f"/entries/{entry.id}", follow_redirects=False).status_code == 303
    page_login(client, make_user(session))
    assert client.get(f"/entries/{entry.id}").status_code == 404
    assert client.get(f"/entries/{entry.id}/files/{file_id}").status_code == 404
    client.cookies.clear()
    page_login(client, make_user(session, role="judge"))
    assert client.get(f"/entries/{entry.id}/files/{file_id}").status_code == 404


def test_preview_is_inline_only_for_images_and_pdfs(client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[png()])
    page_login(client, journalist)
    response = client.get(f"/entries/{entry.id}/files/{entry.files[0].id}?inline=1")
    assert response.headers["content-disposition"].startswith("inline;")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_organizer_filter_form_with_empty_fields_works(client, session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, status="submitted")
    page_login(client, make_user(session, role="organizer"))
    response = client.get(f"/admin/awards/{award.id}/entries?q=&status=&category_id=&sort=author")
    assert response.status_code == 200
    assert f'href="/admin/entries/{entry.id}"' in response.text


def test_author_removes_a_file_and_withdraws_from_the_page(client, session):
    from app.storage import get_storage

    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[pdf("mot"), png()])
    first_id, first_name = entry.files[0].id, entry.files[0].stored_name
    page_login(client, journalist)
    page = f"/entries/{entry.id}"
    response = _post(client, f"/entries/{entry.id}/files/{first_id}/delete", {}, page)
    assert response.headers["location"] == f"/entries/{entry.id}#files"
    assert not get_storage().exists(first_name)
    _post(client, f"/entries/{entry.id}/submit", {}, page)
    refused = _post(client, f"/entries/{entry.id}/files/{entry.files[0].id}/delete", {}, page)
    assert refused.status_code == 409
    assert "Chỉ có thể sửa tác phẩm khi còn là bản nháp hoặc đã được trả lại." in refused.text
    response = _post(client, f"/entries/{entry.id}/withdraw",
                     {"reason": "Gửi nhầm", "confirmed": "1"}, page)
    assert response.headers["location"] == f"/entries/{entry.id}?saved=3"
    html = client.get(response.headers["location"]).text
    assert "Đã rút tác phẩm." in html and "Gửi nhầm" in html


def test_award_console_counts_entries_by_category_and_status(client, session):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, status="open")
    make_entry(session, award, status="submitted")
    make_entry(session, award, status="submitted")
    make_entry(session, award, status="returned")
    page_login(client, organizer)
    html = client.get(f"/admin/awards/{award.id}").text
    row = html.split(f'entries?category_id={award.id and awards.list_categories(session, award)[0].id}"')[1]
    cells = re.findall(r"<td>(\d+)</td>", row.split("</tr>")[0])
    assert cells == ["2", "0", "1", "0", "0", "0"]


def test_organizer_downloads_the_filtered_list_from_the_page(client, session):
    award = make_award(session, status="open")
    entry = make_entry(session, award, title="Biển đảo", status="submitted")
    make_entry(session, award, title="Núi rừng", status="submitted")
    page_login(client, make_user(session, role="organizer"))
    response = client.get(f"/admin/awards/{award.id}/entries.csv?q=bien+dao&status=&category_id=")
    assert response.status_code == 200
    body = response.content.decode("utf-8-sig")
    assert entry.code in body and "Núi rừng" not in body
    assert response.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize("problem", ["full", "uncreatable"])
def test_a_storage_failure_shows_the_entry_page_with_507(client, session, tmp_path, monkeypatch,
                                                         problem):
    from app.config import get_settings
    from tests.storage_helpers import storage_problem

    entry = _empty_draft_signed_in(client, session)
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    with storage_problem(problem, tmp_path) as folder:
        monkeypatch.setattr(get_settings(), "upload_dir", folder)
        response = client.post(f"/entries/{entry.id}/files", data={"csrf_token": token},
                               files={"file": ("bai.pdf", pdf() + b"x" * 200_000,
                                               "application/pdf")},
                               follow_redirects=False)
        assert response.status_code == 507
        assert ('<div class="alert alert-error" role="alert">Máy chủ hiện không lưu được tệp: '
                "bộ nhớ đã đầy hoặc không ghi được. Vui lòng thử lại sau hoặc báo cho Ban tổ "
                "chức.</div>") in response.text
        assert entry.title in response.text
        assert not folder.exists() or list(folder.iterdir()) == []
    session.refresh(entry)
    assert entry.files == []


def test_the_entry_page_shows_the_name_with_the_contents_extension(client, session):
    entry = _empty_draft_signed_in(client, session)
    token = csrf_from(client.get(f"/entries/{entry.id}").text)
    response = client.post(f"/entries/{entry.id}/files", data={"csrf_token": token},
                           files={"file": ("anh.jpg.exe", png(), "image/png")},
                           follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    assert ">anh.jpg.png</a>" in page and "anh.jpg.exe" not in page


def test_a_save_from_a_stale_tab_is_refused_and_keeps_what_was_typed(client, session):
    entry = _empty_draft_signed_in(client, session)
    page = client.get(f"/entries/{entry.id}").text
    token = csrf_from(page)
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    fields = {"csrf_token": token, "version": version, "outlet": "Báo Ninh Thuận",
              "published_on": "2026-03-15", "category_id": str(entry.category_id)}
    first = client.post(f"/entries/{entry.id}", data={**fields, "title": "Tên từ thẻ thứ nhất"},
                        follow_redirects=False)
    assert first.status_code == 303
    second = client.post(f"/entries/{entry.id}", data={**fields, "title": "Tên cũ",
                                                       "summary": "Tóm tắt từ thẻ thứ hai"})
    assert second.status_code == 409
    assert "Tác phẩm vừa được thay đổi ở một thẻ hoặc cửa sổ khác" in second.text
    assert "Tóm tắt từ thẻ thứ hai" in second.text
    session.refresh(entry)
    assert entry.title == "Tên từ thẻ thứ nhất"
