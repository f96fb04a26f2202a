"""An upload the browser cancels (the upload widget's XMLHttpRequest.abort closes the
connection mid-body) leaves nothing behind on the real server: no partial file in storage,
no row."""

import socket
import time
from pathlib import Path

import httpx
from sqlmodel import Session, select

from app.entries.models import EntryFile
from app.samples import pdf
from tests.factories import PASSWORD, make_award, make_entry, make_user


def _token(server, email: str) -> str:
    response = httpx.post(f"{server.base}/api/v1/auth/token",
                          data={"username": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _stored(server) -> set[str]:
    folder = Path(server.env["GIAIBAO_UPLOAD_DIR"])
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def test_an_upload_cut_off_mid_body_leaves_no_file_and_no_row(server, db):
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open")
        journalist = make_user(session)
        entry = make_entry(session, award, user=journalist, files=[])
        session.commit()
    token = _token(server, journalist.email)
    before = _stored(server)
    boundary = "huy-tai-len"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="phong-su.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    size = 8 * 1024 * 1024  # announced; about a quarter is sent before the cut
    body_start = head + pdf() + b"x" * (2 * 1024 * 1024)
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((f"POST /api/v1/entries/{entry.id}/files HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {token}\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {size}\r\n\r\n").encode())
        sock.sendall(body_start)
        time.sleep(0.5)  # the server is writing the part to storage
        during = _stored(server) - before
    # The connection is closed: the server notices, removes the partial file, adds no row.
    for _ in range(50):
        if _stored(server) == before:
            break
        time.sleep(0.1)
    assert len(during) == 1  # it was being stored…
    assert _stored(server) == before  # …and is gone
    with Session(db) as session:
        assert session.exec(select(EntryFile).where(EntryFile.entry_id == entry.id)).all() == []
    # The entry still takes a whole upload afterwards.
    done = httpx.post(f"{server.base}/api/v1/entries/{entry.id}/files",
                      headers={"Authorization": f"Bearer {token}"},
                      files={"file": ("phong-su.pdf", pdf(), "application/pdf")})
    assert done.status_code == 201
