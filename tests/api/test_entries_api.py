import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from app.awards import service as awards
from app.entries.models import EntryFile
from app.samples import mp4_header, pdf, png, wav
from app.storage import get_storage
from tests.factories import api_headers, make_award, make_category, make_entry, make_user
from tests.storage_helpers import stored_names


@pytest.fixture
def award(session):
    return make_award(session, status="open", categories=1)


@pytest.fixture
def journalist(session):
    return make_user(session, full_name="Đinh Công Lý", pen_name="Công Lý")


def _create(client, award, headers, session, **over):
    category = awards.list_categories(session, award)[0]
    body = {"category_id": category.id, "title": "Chi bộ vùng cao", "summary": "Tóm tắt",
            "outlet": "Báo Ninh Thuận", "published_on": "2026-04-02",
            "co_authors": [{"full_name": "Hà Văn Sơn", "pen_name": "Sơn Hà"}]}
    body.update(over)
    return client.post(f"/api/v1/awards/{award.id}/entries", json=body, headers=headers)


def _files_on_disk() -> list[str]:
    return stored_names()


def _upload(client, entry_id, headers, data: bytes, name="bai-bao.pdf", ctype="application/pdf"):
    return client.post(f"/api/v1/entries/{entry_id}/files", headers=headers,
                       files={"file": (name, data, ctype)})


def test_create_entry_is_201_draft_without_code(client, session, award, journalist):
    headers = api_headers(client, journalist)
    response = _create(client, award, headers, session)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["code"], body["title"]) == ("draft", None, "Chi bộ vùng cao")
    assert [(a["full_name"], a["pen_name"], a["is_submitter"]) for a in body["authors"]] == [
        ("Đinh Công Lý", "Công Lý", True), ("Hà Văn Sơn", "Sơn Hà", False)]


def test_create_entry_in_a_closed_award_is_409(client, session, journalist):
    award = make_award(session, status="closed")
    response = _create(client, award, api_headers(client, journalist), session)
    assert response.status_code == 409
    assert response.json() == {"detail": "Giải này không nhận tác phẩm."}


def test_create_entry_with_bad_date_is_422(client, session, award, journalist):
    response = _create(client, award, api_headers(client, journalist), session,
                       published_on="2020-01-01")
    assert response.status_code == 422
    message = "Tác phẩm phải được đăng, phát trong khoảng từ 01/11/2025 đến 31/10/2026."
    assert response.json() == {
        "detail": message, "errors": [{"field": "published_on", "detail": message}]}


def test_full_journey_upload_submit_screen(storage_backend, client, session, award, journalist):
    headers = api_headers(client, journalist)
    entry_id = _create(client, award, headers, session).json()["id"]
    data = pdf("Chi bo vung cao")
    uploaded = _upload(client, entry_id, headers, data)
    assert uploaded.status_code == 201
    assert {k: uploaded.json()[k] for k in ("filename", "size", "sha256", "kind", "content_type")} == {
        "filename": "bai-bao.pdf", "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "kind": "pdf", "content_type": "application/pdf"}
    submitted = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
    assert submitted.status_code == 200
    assert (submitted.json()["status"], submitted.json()["code"]) == ("submitted", "C1-001")
    organizer = api_headers(client, make_user(session, role="organizer"))
    refused = client.post(f"/api/v1/entries/{entry_id}/screen", headers=organizer,
                          json={"decision": "return"})
    assert refused.status_code == 422
    returned = client.post(f"/api/v1/entries/{entry_id}/screen", headers=organizer,
                           json={"decision": "return", "reason": "Bổ sung bản PDF trang báo"})
    assert (returned.status_code, returned.json()["status"]) == (200, "returned")
    mine = client.get("/api/v1/me/entries", headers=headers)
    assert [(e["code"], e["status"], e["screening_reason"]) for e in mine.json()] == [
        ("C1-001", "returned", "Bổ sung bản PDF trang báo")]
    assert mine.headers["x-total-count"] == "1"
    patched = client.patch(f"/api/v1/entries/{entry_id}", headers=headers,
                           json={"title": "Chi bộ vùng cao (bản sửa)"})
    assert patched.status_code == 200
    again = client.post(f"/api/v1/entries/{entry_id}/submit", headers=headers)
    assert (again.json()["status"], again.json()["code"]) == ("submitted", "C1-001")
    accepted = client.post(f"/api/v1/entries/{entry_id}/screen", headers=organizer,
                           json={"decision": "accept"})
    assert accepted.json()["status"] == "accepted"
    withdrawn = client.post(f"/api/v1/entries/{entry_id}/withdraw", headers=headers)
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")


def test_patch_after_submission_is_409(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, status="submitted")
    response = client.patch(f"/api/v1/entries/{entry.id}", headers=api_headers(client, journalist),
                            json={"title": "Mới"})
    assert response.status_code == 409


def test_submit_without_files_is_409(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    response = client.post(f"/api/v1/entries/{entry.id}/submit",
                           headers=api_headers(client, journalist))
    assert response.status_code == 409
    assert response.json() == {"detail": "Vui lòng tải lên ít nhất một tệp của tác phẩm trước khi gửi."}


def test_submit_after_deadline_is_409(client, session, journalist):
    now = datetime.now(UTC)
    award = make_award(session, status="open", now=now - timedelta(days=40))
    entry = make_entry(session, award, user=journalist, now=now - timedelta(days=35))
    response = client.post(f"/api/v1/entries/{entry.id}/submit",
                           headers=api_headers(client, journalist))
    assert response.status_code == 409
    assert response.json() == {"detail": "Đã hết hạn nhận tác phẩm."}


def test_wrong_magic_bytes_are_415_and_leave_nothing(storage_backend, client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    before = _files_on_disk()
    response = _upload(client, entry.id, api_headers(client, journalist),
                       b"MZ\x90\x00 this is a program" * 10, name="video.mp4", ctype="video/mp4")
    assert response.status_code == 415
    assert response.json()["detail"].startswith("Loại tệp này không được chấp nhận.")
    assert _files_on_disk() == before
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0


def test_a_real_kind_the_category_refuses_is_415(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    response = _upload(client, entry.id, api_headers(client, journalist), wav(),
                       name="bai.pdf", ctype="application/pdf")
    assert response.status_code == 415


def test_over_size_is_413_while_streaming_and_leaves_nothing(storage_backend, client, session, journalist):
    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, categories=0)
    category = make_category(session, award, organizer=organizer, max_file_mb=1,
                             accepted_kinds=["video"])
    awards.change_status(session, award, "open", actor=organizer)
    entry = make_entry(session, award, user=journalist, category=category, files=[])
    before = _files_on_disk()

    def body():  # no Content-Length: the limit must be enforced while streaming
        yield b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"v.mp4\"\r\n"
        yield b"Content-Type: video/mp4\r\n\r\n"
        yield mp4_header(64 * 1024)
        for _ in range(40):
            yield b"\x00" * (64 * 1024)
        yield b"\r\n--XyZ--\r\n"

    response = client.post(f"/api/v1/entries/{entry.id}/files",
                           headers={**api_headers(client, journalist),
                                    "Content-Type": "multipart/form-data; boundary=XyZ"},
                           content=body())
    assert response.status_code == 413
    assert response.json() == {"detail": "Tệp lớn hơn mức thể loại này cho phép (1 MB)."}
    assert _files_on_disk() == before


def test_declared_over_size_is_413_before_reading(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    response = client.post(f"/api/v1/entries/{entry.id}/files",
                           headers={**api_headers(client, journalist),
                                    "Content-Type": "multipart/form-data; boundary=b",
                                    "Content-Length": str(500 * 1024 * 1024)},
                           content=b"--b--\r\n")
    assert response.status_code == 413


def test_traversal_and_control_characters_in_names_are_cleaned(client, session, award,
                                                               journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    body = (b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/\x07"
            + "ảnh".encode() + b"\x01.png\"\r\nContent-Type: image/png\r\n\r\n" + png()
            + b"\r\n--B--\r\n")
    response = client.post(f"/api/v1/entries/{entry.id}/files", content=body,
                           headers={**headers, "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 201
    assert response.json()["filename"] == "ảnh.png"
    row = session.get(EntryFile, response.json()["id"])
    assert "/" not in row.stored_name and row.stored_name != "ảnh.png"


def test_decomposed_vietnamese_names_are_stored_nfc_and_downloaded_exactly(
        storage_backend, client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    nfd = unicodedata.normalize("NFD", "Ảnh Đảng viên.png")
    response = _upload(client, entry.id, headers, png(), name=nfd, ctype="image/png")
    assert response.json()["filename"] == unicodedata.normalize("NFC", "Ảnh Đảng viên.png")
    download = client.get(f"/api/v1/files/{response.json()['id']}", headers=headers)
    assert download.status_code == 200
    assert download.content == png()
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"_nh __ng viên.png\"; "
        "filename*=UTF-8''%E1%BA%A2nh%20%C4%90%E1%BA%A3ng%20vi%C3%AAn.png"
    ).replace("viên.png\"", "vi_n.png\"")
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-type"] == "image/png"


def test_empty_and_missing_files_are_422(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    assert _upload(client, entry.id, headers, b"").status_code == 422
    response = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                           files={"other": ("x.pdf", pdf(), "application/pdf")})
    assert response.status_code == 422


def test_delete_file(storage_backend, client, session, award, journalist):
    entry = make_entry(session, award, user=journalist)
    headers = api_headers(client, journalist)
    file_id = entry.files[0].id
    stored = entry.files[0].stored_name
    assert client.delete(f"/api/v1/entries/{entry.id}/files/{file_id}",
                         headers=headers).status_code == 204
    assert not get_storage().exists(stored)
    assert client.get(f"/api/v1/files/{file_id}", headers=headers).status_code == 404


def test_upload_after_submission_is_409(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, status="submitted")
    response = _upload(client, entry.id, api_headers(client, journalist), pdf())
    assert response.status_code == 409


@pytest.mark.parametrize("who", ["anonymous", "other journalist", "judge"])
def test_others_cannot_read_entries_or_files(client, session, award, journalist, who):
    entry = make_entry(session, award, user=journalist, status="submitted")
    file_id = entry.files[0].id
    headers = {} if who == "anonymous" else api_headers(
        client, make_user(session, role="judge" if who == "judge" else "journalist"))
    expected = 401 if who == "anonymous" else 404
    assert client.get(f"/api/v1/entries/{entry.id}", headers=headers).status_code == expected
    assert client.get(f"/api/v1/files/{file_id}", headers=headers).status_code == expected
    assert _upload(client, entry.id, headers, pdf()).status_code == expected
    assert client.delete(f"/api/v1/entries/{entry.id}/files/{file_id}",
                         headers=headers).status_code == expected


def test_organizer_reads_entries_and_files(client, session, award, journalist):
    entry = make_entry(session, award, user=journalist, status="submitted")
    headers = api_headers(client, make_user(session, role="organizer"))
    assert client.get(f"/api/v1/entries/{entry.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/files/{entry.files[0].id}", headers=headers).status_code == 200


def test_duplicate_is_shown_to_the_organizer_with_the_other_code(client, session, award):
    same = pdf("ban sao")
    first = make_entry(session, award, files=[same], status="submitted")
    second = make_entry(session, award, files=[same], status="submitted")
    organizer = api_headers(client, make_user(session, role="organizer"))
    body = client.get(f"/api/v1/entries/{second.id}", headers=organizer).json()
    assert body["duplicates"][0]["other_code"] == first.code
    assert body["flags"] == [f"duplicate file: same SHA-256 as {first.code}"]
    author = client.get(f"/api/v1/entries/{second.id}",
                        headers=api_headers(client, session.get(type(make_user(session)),
                                                                second.submitter_id))).json()
    assert "duplicates" not in author and "flags" not in author


def test_organizer_list_filters_and_searches(client, session, award):
    a = make_entry(session, award, title="Xây dựng Đảng ở vùng biển", status="submitted")
    b = make_entry(session, award, title="Người giữ rừng", status="accepted")
    make_entry(session, award, title="Bản nháp")
    headers = api_headers(client, make_user(session, role="organizer"))
    url = f"/api/v1/awards/{award.id}/entries"
    assert [e["id"] for e in client.get(url, headers=headers).json()] == [a.id, b.id]
    assert [e["id"] for e in client.get(f"{url}?q=xay dung dang", headers=headers).json()] == [a.id]
    assert [e["id"] for e in client.get(f"{url}?status=accepted", headers=headers).json()] == [b.id]
    category = awards.list_categories(session, award)[0]
    listed = client.get(f"{url}?category_id={category.id}&limit=1", headers=headers)
    assert listed.headers["x-total-count"] == "2" and len(listed.json()) == 1
    assert client.get(f"{url}?status=bogus", headers=headers).status_code == 422
    journalist = api_headers(client, make_user(session))
    assert client.get(url, headers=journalist).status_code == 403


def test_organizer_exports_the_entry_list_as_csv(client, session, award):
    import csv
    import io

    same = pdf("trung")
    first = make_entry(session, award, title="=HYPERLINK(\"x\")", files=[same], status="submitted",
                       user=make_user(session, full_name="Vũ Thị Lan", pen_name="Lan Vũ"))
    second = make_entry(session, award, title="Làng chài", files=[same], status="accepted")
    make_entry(session, award, title="Bản nháp")
    headers = api_headers(client, make_user(session, role="organizer"))
    response = client.get(f"/api/v1/awards/{award.id}/entries.csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["Mã"], r["Tên tác phẩm"], r["Tác giả"], r["Trạng thái"],
             r["Có thể trùng lặp với"]) for r in rows] == [
        (first.code, "'=HYPERLINK(\"x\")", "Vũ Thị Lan (bút danh Lan Vũ)", "Đã gửi",
         second.code),
        (second.code, "Làng chài", second.authors[0].full_name, "Đã tiếp nhận", first.code)]
    only = client.get(f"/api/v1/awards/{award.id}/entries.csv?status=accepted", headers=headers)
    assert len(only.content.decode("utf-8-sig").strip().splitlines()) == 2


def test_the_same_file_twice_in_one_entry_is_409_and_leaves_no_second_copy(
        storage_backend, client, session, award, journalist):
    data = pdf("mot lan")
    entry = make_entry(session, award, user=journalist, files=[data])
    before = _files_on_disk()
    response = _upload(client, entry.id, api_headers(client, journalist), data)
    assert response.status_code == 409
    assert response.json() == {"detail": "Tệp này đã có trong tác phẩm."}
    assert _files_on_disk() == before
    assert len(client.get(f"/api/v1/entries/{entry.id}",
                          headers=api_headers(client, journalist)).json()["files"]) == 1


@pytest.mark.parametrize("category_id", [0, 2**31, 2**45])
def test_a_category_id_outside_the_id_range_is_refused_before_any_query(
        client, session, award, journalist, category_id):
    """PostgreSQL answered 500 (integer out of range) to a category id over 32 bits."""
    headers = api_headers(client, journalist)
    created = _create(client, award, headers, session, category_id=category_id)
    assert created.status_code == 422
    assert [e["loc"] for e in created.json()["detail"]] == [["body", "category_id"]]
    entry = make_entry(session, award, user=journalist)
    updated = client.patch(f"/api/v1/entries/{entry.id}", json={"category_id": category_id},
                           headers=headers)
    assert updated.status_code == 422
    assert [e["loc"] for e in updated.json()["detail"]] == [["body", "category_id"]]
