"""The S3 backend against a real S3 HTTP server (moto's server mode): multipart uploads,
aborts that leave nothing, cut-off uploads, Range downloads, the sweep, a store that is down,
and the settings that choose it. The tests shared with the local folder take the
``storage_backend`` fixture (tests/conftest.py)."""

import asyncio
import hashlib
import os
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError
from sqlmodel import func, select

from app.config import Settings, get_settings
from app.entries.models import EntryFile
from app.main import app
from app.samples import pdf
from app.storage import get_storage
from app.storage_s3 import S3Storage, parse_range
from tests.factories import api_headers, make_award, make_category, make_entry, make_user

MIB = 1024 * 1024


@pytest.fixture
def s3(s3_server, monkeypatch):
    """The app on a fresh bucket: (server, bucket, a client of our own)."""
    bucket = s3_server.new_bucket()
    settings = get_settings()
    for name, value in s3_server.settings(bucket).items():
        monkeypatch.setattr(settings, name, value)
    return s3_server, bucket, s3_server.client()


def _objects(client, bucket) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", ())]


def _uploads(client, bucket) -> list[str]:
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ())]


def _big_pdf(size: int) -> bytes:
    head = pdf()
    return head + os.urandom(size - len(head))


def test_a_file_of_three_parts_streams_as_a_multipart_upload_and_keeps_its_hash(s3):
    _, bucket, client = s3
    storage = get_storage()
    assert isinstance(storage, S3Storage) and storage.part_size == 5 * MIB
    data = _big_pdf(11 * MIB)
    writer = storage.open_writer(max_bytes=20 * MIB, accept=lambda s: s.kind == "pdf")
    for i in range(0, len(data), 64 * 1024):
        writer.write(data[i:i + 64 * 1024])
        assert len(writer._buffer) < 2 * 5 * MIB  # never more than a part held back
        if writer.pending:
            writer.flush()
    # Two full parts are in the store; the last 1 MiB waits for finish.
    (upload,) = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    parts = client.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == [(1, 5 * MIB),
                                                                       (2, 5 * MIB)]
    assert _objects(client, bucket) == []
    stored = writer.finish()
    assert (stored.size, stored.sha256, stored.kind) == (
        len(data), hashlib.sha256(data).hexdigest(), "pdf")
    assert _uploads(client, bucket) == []
    head = client.head_object(Bucket=bucket, Key=stored.name)
    assert (head["ContentLength"], head["ETag"].strip('"').endswith("-3")) == (len(data), True)
    body = client.get_object(Bucket=bucket, Key=stored.name)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == stored.sha256


def test_a_small_file_is_one_put_and_never_a_multipart_upload(s3):
    _, bucket, client = s3
    writer = get_storage().open_writer(max_bytes=MIB, accept=lambda s: True)
    writer.write(pdf())
    assert not writer.pending
    stored = writer.finish()
    assert _objects(client, bucket) == [stored.name]
    assert client.head_object(Bucket=bucket, Key=stored.name)["ETag"].count("-") == 0


def test_abort_leaves_no_object_and_no_multipart_upload(s3):
    _, bucket, client = s3
    writer = get_storage().open_writer(max_bytes=20 * MIB, accept=lambda s: True)
    writer.write(_big_pdf(11 * MIB))  # two parts sent by write itself (no one flushed)
    assert len(_uploads(client, bucket)) == 1
    writer.abort()
    assert (_uploads(client, bucket), _objects(client, bucket)) == ([], [])


def test_an_upload_through_the_api_is_stored_whole_with_its_hash(s3, client, session):
    _, bucket, s3_client = s3
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    headers = api_headers(client, journalist)
    data = _big_pdf(11 * MIB + 123)
    response = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                           files={"file": ("bai.pdf", data, "application/pdf")})
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
    row = session.get(EntryFile, response.json()["id"])
    assert _objects(s3_client, bucket) == [row.stored_name]
    assert _uploads(s3_client, bucket) == []
    download = client.get(f"/api/v1/files/{row.id}", headers=headers)
    assert download.status_code == 200
    assert hashlib.sha256(download.content).hexdigest() == row.sha256
    assert (download.headers["x-content-type-options"], download.headers["cache-control"]) == (
        "nosniff", "private, no-store")


def test_a_cut_off_upload_leaves_no_object_no_multipart_upload_and_no_row(s3, client, session):
    _, bucket, s3_client = s3
    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, files=[])
    token = api_headers(client, journalist)["Authorization"].encode()
    before = _objects(s3_client, bucket)
    # 11 MiB sent in 1 MiB chunks (two parts reach the store), then the client is gone.
    body = [b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"]
    data = _big_pdf(11 * MIB)
    body += [data[i:i + MIB] for i in range(0, len(data), MIB)]
    seen_uploads = []

    async def receive():
        if body:
            if len(body) == 1:
                seen_uploads.extend(_uploads(s3_client, bucket))
            return {"type": "http.request", "body": body.pop(0), "more_body": True}
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
    session.commit()
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 422
    assert len(seen_uploads) == 1  # it was streaming to the store as it arrived
    assert (_objects(s3_client, bucket), _uploads(s3_client, bucket)) == (before, [])
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 0


def test_range_downloads_are_proxied_in_chunks(s3, client, session):
    award = make_award(session, status="open")
    journalist = make_user(session)
    data = _big_pdf(600 * 1024)
    entry = make_entry(session, award, user=journalist, files=[data])
    headers = api_headers(client, journalist)
    url = f"/api/v1/files/{entry.files[0].id}"
    size = len(data)
    whole = client.get(url, headers=headers)
    assert (whole.status_code, whole.headers["content-length"], whole.content == data) == (
        200, str(size), True)
    part = client.get(url, headers={**headers, "Range": "bytes=300000-300099"})
    assert (part.status_code, part.headers["content-range"], part.content) == (
        206, f"bytes 300000-300099/{size}", data[300000:300100])
    several = client.get(url, headers={**headers, "Range": "bytes=0-9,20-29"})
    assert (several.status_code, several.content == data) == (200, True)
    beyond = client.get(url, headers={**headers, "Range": f"bytes={size}-"})
    assert (beyond.status_code, beyond.headers["content-range"], beyond.content) == (
        416, f"bytes */{size}", b"")
    head = client.head(url, headers=headers)
    assert head.status_code in (200, 405)


@pytest.mark.parametrize(("header", "wanted"), [
    (None, None), ("bytes=0-9", (0, 9)), ("bytes=-10", (90, 99)), ("bytes=95-", (95, 99)),
    ("bytes=90-500", (90, 99)), ("bytes=100-", "unsatisfiable"), ("bytes=-0", "unsatisfiable"),
    ("bytes=0-1,5-6", None), ("items=0-1", None), ("bytes=5-1", None), ("bytes=a-b", None),
    ("bytes=-", None),
])
def test_parse_range(header, wanted):
    assert parse_range(header, 100) == wanted


def test_the_sweep_removes_old_unreferenced_objects_and_abandoned_uploads_only(s3):
    _, bucket, client = s3
    storage = get_storage()
    kept, orphan = "a" * 32, "b" * 32
    for key in (kept, orphan, "certificates/x.pdf", "not-ours.txt"):
        client.put_object(Bucket=bucket, Key=key, Body=b"%PDF-1.4")
    abandoned = storage.open_writer(max_bytes=20 * MIB, accept=lambda s: True)
    abandoned.write(_big_pdf(6 * MIB))
    abandoned.flush()  # one part sent, then its server was killed
    # A fresh sweep keeps everything: the orphan is young, the upload received a part now.
    assert storage.sweep({kept}) == []
    live = storage.open_writer(max_bytes=20 * MIB, accept=lambda s: True)
    live.write(_big_pdf(6 * MIB))
    live.flush()
    removed = storage.sweep({kept}, older_than_seconds=0, abandoned_after_seconds=0)
    assert sorted(removed) == sorted([orphan, f"{abandoned.name}.part", f"{live.name}.part"])
    assert sorted(_objects(client, bucket)) == sorted([kept, "certificates/x.pdf",
                                                      "not-ours.txt"])
    assert _uploads(client, bucket) == []


def test_the_sweep_never_aborts_an_upload_still_receiving_parts(s3):
    _, bucket, client = s3
    storage = get_storage()
    live = storage.open_writer(max_bytes=20 * MIB, accept=lambda s: True)
    live.write(_big_pdf(6 * MIB))
    live.flush()
    (upload,) = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    (part,) = client.list_parts(Bucket=bucket, Key=upload["Key"],
                                UploadId=upload["UploadId"])["Parts"]
    assert abs(part["LastModified"] - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert storage.sweep(set(), abandoned_after_seconds=600) == []
    live.write(b"x" * 100)
    stored = live.finish()
    assert _objects(client, bucket) == [stored.name]


def test_the_prefix_keeps_our_keys_apart_in_a_shared_bucket(s3_server, monkeypatch):
    bucket = s3_server.new_bucket()
    settings = get_settings()
    for name, value in s3_server.settings(bucket, prefix="giaibao/").items():
        monkeypatch.setattr(settings, name, value)
    client = s3_server.client()
    client.put_object(Bucket=bucket, Key="c" * 32, Body=b"someone else's")
    storage = get_storage()
    writer = storage.open_writer(max_bytes=MIB, accept=lambda s: True)
    writer.write(pdf())
    stored = writer.finish()
    import io
    storage.put("certificates/t.pdf", io.BytesIO(b"%PDF-1.4 c"))
    assert sorted(_objects(client, bucket)) == sorted(
        ["c" * 32, f"giaibao/{stored.name}", "giaibao/certificates/t.pdf"])
    assert storage.keys() == sorted([stored.name, "certificates/t.pdf"])
    assert storage.open_read("certificates/t.pdf").read() == b"%PDF-1.4 c"
    assert storage.sweep(set(), older_than_seconds=0) == [stored.name]


# --- A store that is down, a bucket that is missing -----------------------------------------

MESSAGE_507 = ("Máy chủ hiện không lưu được tệp: bộ nhớ đã đầy hoặc không ghi được. Vui lòng "
               "thử lại sau hoặc báo cho Ban tổ chức.")
MESSAGE_503 = ("Máy chủ hiện không đọc được các tệp đã lưu. Vui lòng thử lại sau hoặc báo cho "
               "Ban tổ chức.")


@pytest.mark.parametrize("problem", ["endpoint down", "bucket missing"])
def test_a_store_that_cannot_be_used_answers_507_503_and_healthz_503(
        s3, client, session, monkeypatch, problem):
    from tests.s3_server import free_port

    award = make_award(session, status="open")
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist)
    headers = api_headers(client, journalist)
    file_id = entry.files[0].id
    if problem == "endpoint down":
        monkeypatch.setattr(get_settings(), "s3_endpoint_url", f"http://127.0.0.1:{free_port()}")
    else:
        monkeypatch.setattr(get_settings(), "s3_bucket", "giaibao-no-such-bucket")
    started = datetime.now()
    upload = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                         files={"file": ("bai.pdf", _big_pdf(6 * MIB), "application/pdf")})
    assert (upload.status_code, upload.json()) == (507, {"detail": MESSAGE_507})
    small = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                        files={"file": ("nho.pdf", pdf(), "application/pdf")})
    assert (small.status_code, small.json()) == (507, {"detail": MESSAGE_507})
    download = client.get(f"/api/v1/files/{file_id}", headers=headers)
    assert (download.status_code, download.json()) == (503, {"detail": MESSAGE_503})
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (503, {"status": "file storage unavailable"})
    assert datetime.now() - started < timedelta(seconds=60)  # timeouts, never a hang
    assert session.exec(select(func.count()).select_from(EntryFile)).one() == 1


def test_healthz_is_ok_on_a_reachable_bucket(s3, client, session):
    assert client.get("/healthz").json() == {"status": "ok"}


# --- Settings ---------------------------------------------------------------------------------

def test_settings_refuse_an_unknown_backend_and_an_s3_without_bucket(monkeypatch):
    monkeypatch.setenv("GIAIBAO_STORAGE", "ftp")
    with pytest.raises(ValidationError, match="'local' or 's3'"):
        Settings()
    monkeypatch.setenv("GIAIBAO_STORAGE", "s3")
    with pytest.raises(ValidationError, match="GIAIBAO_S3_BUCKET must be set"):
        Settings()
    monkeypatch.setenv("GIAIBAO_S3_BUCKET", "b")
    monkeypatch.setenv("GIAIBAO_S3_PART_MIB", "4")
    with pytest.raises(ValidationError, match="at least 5"):
        Settings()
    monkeypatch.setenv("GIAIBAO_S3_PART_MIB", "16")
    monkeypatch.setenv("GIAIBAO_S3_ADDRESSING_STYLE", "path")
    settings = Settings()
    assert (settings.storage, settings.s3_bucket, settings.s3_part_mib,
            settings.s3_addressing_style) == ("s3", "b", 16, "path")


def test_local_stays_the_default():
    assert Settings().storage == "local"


def test_no_call_to_the_store_runs_on_the_event_loop(s3, client, session):
    """Every S3 call of an upload (parts, completion), a refused upload (abort) and a
    download is made from a worker thread: botocore's own event hook records where."""
    from app.awards import service as awards

    organizer = make_user(session, role="organizer")
    award = make_award(session, organizer=organizer, categories=0)
    big = make_category(session, award, organizer=organizer)
    small = make_category(session, award, organizer=organizer, code="BIN", name="Báo in",
                          max_file_mb=6, accepted_kinds=["pdf"])
    awards.change_status(session, award, "open", actor=organizer)
    journalist = make_user(session)
    entry = make_entry(session, award, user=journalist, category=big, files=[])
    headers = api_headers(client, journalist)
    calls = []

    def record(event_name, **kwargs):
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        calls.append((event_name.split(".")[-1], on_loop))

    get_storage().client.meta.events.register("before-call.s3", record)
    data = _big_pdf(11 * MIB)
    uploaded = client.post(f"/api/v1/entries/{entry.id}/files", headers=headers,
                           files={"file": ("bai.pdf", data, "application/pdf")})
    assert uploaded.status_code == 201
    other = make_entry(session, award, user=journalist, category=small, files=[])

    # Sent in 1 MiB chunks as a real client would: one part reaches the store, then the
    # limit stops the upload (the test client would send the whole body at once).
    token = headers["Authorization"].encode()
    chunks = [b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n"]
    chunks += [data[i:i + MIB] for i in range(0, len(data), MIB)] + [b"\r\n--B--\r\n"]

    async def receive():
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/api/v1/entries/{other.id}/files", "raw_path": b"",
        "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"authorization", token),
                    (b"content-type", b"multipart/form-data; boundary=B")],
    }
    session.commit()
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413
    assert _uploads(s3[2], s3[1]) == []
    download = client.get(f"/api/v1/files/{uploaded.json()['id']}", headers=headers)
    assert hashlib.sha256(download.content).hexdigest() == uploaded.json()["sha256"]
    names = {name for name, _ in calls}
    assert {"CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
            "AbortMultipartUpload", "HeadObject", "GetObject"} <= names
    assert [c for c in calls if c[1]] == []
