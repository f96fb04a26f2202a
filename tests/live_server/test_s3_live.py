"""The real server (``giaibao serve`` in a subprocess) configured by environment for an S3
store (a bucket on the run's moto server): an upload cut off mid-body streams parts to the
store and leaves neither an object nor a multipart upload; a whole upload is stored with its
hash and downloaded whole and by Range; /healthz checks the bucket."""

import hashlib
import os
import socket
import time

import httpx
import pytest
from sqlmodel import Session, select

from app.db import make_engine
from app.entries.models import EntryFile
from app.samples import pdf
from tests.factories import PASSWORD, make_award, make_entry, make_user
from tests.live import live_server

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3_live(s3_server):
    bucket = s3_server.new_bucket()
    with live_server("s3_live", **s3_server.settings(bucket)) as live:
        engine = make_engine(live.database_url)
        yield live, engine, s3_server.client(), bucket
        engine.dispose()


def _state(client, bucket) -> tuple[list[str], list[str]]:
    objects = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", ())]
    uploads = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ())]
    return objects, uploads


def test_uploads_and_downloads_through_the_real_server_on_s3(s3_live):
    live, engine, client, bucket = s3_live
    with Session(engine, expire_on_commit=False) as session:
        award = make_award(session, status="open")
        journalist = make_user(session)
        entry = make_entry(session, award, user=journalist, files=[])
        session.commit()
    token = httpx.post(f"{live.base}/api/v1/auth/token", data={
        "username": journalist.email, "password": PASSWORD}).json()["access_token"]
    assert httpx.get(f"{live.base}/healthz").json() == {"status": "ok"}

    # Cut off after 7 MiB of an announced 12 MiB: one part reached the store, then nothing.
    boundary = "huy-tai-len"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="phong-su.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    host, port = live.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((f"POST /api/v1/entries/{entry.id}/files HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {token}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {12 * MIB}\r\n\r\n").encode())
        sock.sendall(head + pdf() + os.urandom(7 * MIB))
        for _ in range(100):
            if _state(client, bucket)[1]:
                break
            time.sleep(0.1)
        during = _state(client, bucket)
    for _ in range(100):
        if _state(client, bucket) == ([], []):
            break
        time.sleep(0.1)
    assert (len(during[0]), len(during[1])) == (0, 1)  # streaming as a multipart upload…
    assert _state(client, bucket) == ([], [])  # …aborted when the client went away
    with Session(engine) as session:
        assert session.exec(select(EntryFile).where(EntryFile.entry_id == entry.id)).all() == []

    data = pdf() + os.urandom(11 * MIB)
    headers = {"Authorization": f"Bearer {token}"}
    done = httpx.post(f"{live.base}/api/v1/entries/{entry.id}/files", headers=headers,
                      files={"file": ("phong-su.pdf", data, "application/pdf")}, timeout=60)
    assert done.status_code == 201, done.text
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert _state(client, bucket)[1] == []
    url = f"{live.base}/api/v1/files/{done.json()['id']}"
    whole = httpx.get(url, headers=headers, timeout=60)
    assert (whole.status_code, hashlib.sha256(whole.content).hexdigest()) == (
        200, done.json()["sha256"])
    part = httpx.get(url, headers={**headers, "Range": "bytes=6000000-6000099"})
    assert (part.status_code, part.headers["content-range"], part.content) == (
        206, f"bytes 6000000-6000099/{len(data)}", data[6000000:6000100])
