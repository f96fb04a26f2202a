"""Uploads cut off by the client, and the server's crash leftovers."""

import asyncio
import os

import pytest
from sqlmodel import func, select

from app.config import get_settings
from app.entries.models import EntryFile
from app.main import app
from app.samples import pdf
from app.storage import get_storage
from tests.factories import api_headers, make_award, make_entry, make_user
from tests.storage_helpers import stored_names


def _disk() -> list[str]:
    return stored_names()


def test_client_disconnect_mid_upload_leaves_no_file_and_no_row(storage_backend, client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    token = api_headers(client, journalist)["Authorization"].encode()
    before = _disk()
    chunks = [
        b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n",
        pdf() + b"x" * 200_000,
    ]

    async def receive():
        if chunks:
            return {"type": "http.request", "body": chunks.pop(0), "more_body": True}
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/api/v1/entries/{entry.id}/files", "raw_path": b"",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"authorization", token),
                    (b"content-type", b"multipart/form-data; boundary=B")],
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 422
    assert _disk() == before
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0


def test_sweep_removes_what_a_killed_server_left_and_keeps_rows_files(client, session, tmp_path,
                                                                     monkeypatch):
    from app.entries import files as entry_files

    # A folder of its own: the run's folder holds other tests' files, which the sweep would
    # rightly remove once they are ten minutes old.
    monkeypatch.setattr(get_settings(), "upload_dir", tmp_path / "uploads")
    award = make_award(session, status="open")
    entry = make_entry(session, award)
    kept = entry.files[0].stored_name
    storage = get_storage()
    for name in ("e" * 32 + ".part", "f" * 32):
        (storage.root / name).write_bytes(b"half")
        os.utime(storage.root / name, (1, 1))
    os.utime(storage.path_of(kept), (1, 1))
    removed = storage.sweep(entry_files.referenced_files(session))
    assert sorted(removed) == ["e" * 32 + ".part", "f" * 32]
    assert storage.exists(kept)


def test_openapi_documents_the_contract(client):
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    for path, method in [("/api/v1/auth/token", "post"), ("/api/v1/awards", "post"),
                         ("/api/v1/entries/{entry_id}/files", "post"),
                         ("/api/v1/entries/{entry_id}/screen", "post"),
                         ("/api/v1/files/{file_id}", "get")]:
        assert method in paths[path]
    upload = paths["/api/v1/entries/{entry_id}/files"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert client.get("/docs").status_code == 200


# Names as downloaded -------------------------------------------------------------------------

def test_the_name_takes_the_contents_extension_everywhere_it_is_shown(storage_backend,
                                                                     client, session):
    from urllib.parse import quote

    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    response = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                           files={"file": ("Báo cáo\u202ehta.pdf.hta", pdf(), "application/pdf")})
    assert response.status_code == 201
    assert response.json()["filename"] == "Báo cáohta.pdf.pdf"
    file_id = response.json()["id"]
    download = client.get(f"/api/v1/files/{file_id}", headers=headers)
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"B_o c_ohta.pdf.pdf\"; "
        f"filename*=UTF-8''{quote('Báo cáohta.pdf.pdf', safe='')}")
    listed = client.get(f"/api/v1/entries/{entry.id}", headers=headers).json()
    assert [f["filename"] for f in listed["files"]] == ["Báo cáohta.pdf.pdf"]


# Storage failures: 507, nothing stored -------------------------------------------------------

MESSAGE_VI = ("Máy chủ hiện không lưu được tệp: bộ nhớ đã đầy hoặc không ghi được. Vui lòng thử "
              "lại sau hoặc báo cho Ban tổ chức.")


@pytest.mark.parametrize("problem", ["full", "read-only", "uncreatable"])
def test_a_storage_failure_answers_507_and_stores_nothing(client, session, tmp_path, monkeypatch,
                                                          problem):
    from app.config import get_settings
    from tests.storage_helpers import storage_problem

    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    with storage_problem(problem, tmp_path) as folder:
        monkeypatch.setattr(get_settings(), "upload_dir", folder)
        response = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                               files={"file": ("bai.pdf", pdf() + b"x" * 200_000,
                                               "application/pdf")})
        assert (response.status_code, response.json()) == (507, {"detail": MESSAGE_VI})
        assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0
        assert not folder.exists() or list(folder.iterdir()) == []


def test_healthz_reports_an_unusable_upload_folder(client, tmp_path, monkeypatch):
    from app.config import get_settings
    from tests.storage_helpers import uncreatable_folder

    monkeypatch.setattr(get_settings(), "upload_dir", uncreatable_folder(tmp_path))
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {
        "status": "upload folder unavailable"})
