"""Two real ``giaibao serve`` processes on one database and one upload folder, with the same
settings, behave as one: a session, a CSRF token, a throttle, an entry code, a mail and a
file in the making are the same whichever process a request reaches (issue 11, several
processes). Also ``giaibao serve --workers 2``: it starts, answers and stops cleanly.

Every wait is bounded and waits for something observable (a port answering, a file
appearing, a mail arriving, a row changing), never for a fixed time."""

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session, func, select

from app.accounts.models import User, WebSession
from app.awards.models import Category
from app.db import make_engine
from app.entries.models import Entry
from app.mail import service as mail
from app.mail.models import Mail, MailAttempt
from app.samples import pdf
from app.storage import LocalStorage
from tests.conftest import _TMP, csrf_from, fresh_database_url
from tests.factories import PASSWORD, make_award, make_entry, make_user
from tests.live import CLI, ROOT, free_port
from tests.live_server.test_races import _parallel
from tests.smtp_sink import SmtpSink

NAME = "two_processes"
UPLOADS = _TMP / f"{NAME}-uploads"
SECRET = "hai-tien-trinh-cung-mot-khoa-bi-mat"


def _wait_until(condition: Callable[[], object], *, timeout: float, what: str):
    """Polls ``condition`` (something another process changes: a file, a row, a port)
    until it holds; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@contextmanager
def serving(env: dict[str, str], *extra: str, log: Path | None = None):
    """``giaibao serve`` on a free port with ``env``; yields (base address, process)."""
    port = free_port()
    out = open(log or os.devnull, "wb")  # noqa: SIM115
    process = subprocess.Popen([*CLI, "serve", "--port", str(port), "--no-migrate", *extra],
                               env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: process.poll() is not None or _answers(base), timeout=60,
                    what=f"the server on {port}")
        assert process.poll() is None, "the server exited at start-up"
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        out.close()


@dataclass
class Pair:
    a: str
    b: str
    env: dict[str, str]
    sink: SmtpSink

    @property
    def both(self) -> tuple[str, str]:
        return self.a, self.b


@pytest.fixture(scope="module")
def pair():
    """Processes A and B: the same database, upload folder, secret key and SMTP server.
    Their periodic sweep is off (sweeps are run on purpose below); their mail senders poll
    often so that they compete for the outbox."""
    with SmtpSink() as sink:
        url = fresh_database_url(NAME)
        env = {**os.environ, "GIAIBAO_DATABASE_URL": url, "GIAIBAO_ENV": "test",
               "GIAIBAO_SECRET_KEY": SECRET, "GIAIBAO_UPLOAD_DIR": str(UPLOADS),
               "GIAIBAO_BASE_URL": "http://giaibao.test", "GIAIBAO_UPLOAD_SWEEP_MINUTES": "0",
               "GIAIBAO_SMTP_HOST": "127.0.0.1", "GIAIBAO_SMTP_PORT": str(sink.port),
               "GIAIBAO_MAIL_POLL_SECONDS": "0.2"}
        subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT)
        with serving(env) as (a, _), serving(env) as (b, _):
            yield Pair(a=a, b=b, env=env, sink=sink)


@pytest.fixture(scope="module")
def db(pair):
    engine = make_engine(pair.env["GIAIBAO_DATABASE_URL"])
    yield engine
    engine.dispose()


def _user(db, **fields) -> User:
    with Session(db, expire_on_commit=False) as session:
        user = make_user(session, **fields)
        session.commit()
        return user


def _cli(pair: Pair, *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=pair.env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- Sessions and CSRF -----------------------------------------------------------------------

def _page_sign_in(form_from: str, post_to: str, user: User,
                  headers: dict[str, str] | None = None) -> httpx.Cookies:
    """The sign-in form fetched from one process and posted to the other."""
    with httpx.Client(base_url=form_from) as http:
        page = http.get("/login")
        token, pre = csrf_from(page.text), page.cookies["gb_pre"]
    response = httpx.post(f"{post_to}/login", cookies={"gb_pre": pre}, headers=headers,
                          data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return httpx.Cookies({"gb_session": response.cookies["gb_session"], "gb_pre": pre})


def _me(base: str, cookies: httpx.Cookies) -> httpx.Response:
    return httpx.get(f"{base}/me", cookies=cookies)


def test_a_session_opened_on_a_is_recognised_on_b_and_ended_on_a_is_refused_on_b(pair, db):
    user = _user(db, full_name="Nguyễn Thị Hai Nơi")
    cookies = _page_sign_in(pair.a, pair.b, user)  # A's form token accepted by B
    for base in pair.both:
        page = _me(base, cookies)
        assert page.status_code == 200
        assert "Nguyễn Thị Hai Nơi" in page.text
    token = csrf_from(_me(pair.a, cookies).text)
    signed_out = httpx.post(f"{pair.a}/logout", cookies=cookies, data={"csrf_token": token})
    assert signed_out.status_code == 303
    for base in (pair.b, pair.a):
        refused = _me(base, cookies)
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/login")


def test_an_api_token_issued_by_a_works_on_b_until_revoked_on_a(pair, db):
    user = _user(db)
    issued = httpx.post(f"{pair.a}/api/v1/auth/token",
                        data={"username": user.email, "password": PASSWORD})
    assert issued.status_code == 200
    headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    assert httpx.get(f"{pair.b}/api/v1/me", headers=headers).json()["email"] == user.email
    assert httpx.delete(f"{pair.a}/api/v1/auth/token", headers=headers).status_code == 204
    assert [httpx.get(f"{base}/api/v1/me", headers=headers).status_code
            for base in pair.both] == [401, 401]


def test_a_form_token_issued_by_a_is_accepted_by_b_and_a_forged_one_by_neither(pair, db):
    user = _user(db, full_name="Trần Văn Cũ")
    cookies = _page_sign_in(pair.b, pair.a, user)
    token = csrf_from(_me(pair.a, cookies).text)
    saved = httpx.post(f"{pair.b}/me", cookies=cookies,
                       data={"csrf_token": token, "full_name": "Trần Văn Mới",
                             "language": "vi"})
    assert (saved.status_code, saved.headers["location"]) == (303, "/me?saved=1")
    forged = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    for base in pair.both:
        refused = httpx.post(f"{base}/me", cookies=cookies,
                             data={"csrf_token": forged, "full_name": "Kẻ Giả Mạo"})
        assert refused.status_code == 403
    with Session(db) as session:
        assert session.get(User, user.id).full_name == "Trần Văn Mới"


def test_both_processes_take_the_client_address_from_the_trusted_proxy(pair, db):
    """The test connects from 127.0.0.1, which uvicorn trusts by default as a proxy: the
    address counted (throttles) and recorded (sessions) is the rightmost forwarded one."""
    user = _user(db)
    _page_sign_in(pair.a, pair.a, user, headers={"X-Forwarded-For": "203.0.113.7"})
    _page_sign_in(pair.b, pair.b, user,
                  headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
    with Session(db) as session:
        addresses = session.exec(select(WebSession.ip).where(WebSession.user_id == user.id)
                                 .order_by(WebSession.id)).all()
    assert addresses == ["203.0.113.7", "203.0.113.9"]


# --- Throttling ------------------------------------------------------------------------------

def _failed_sign_ins(bases: list[str], email: str) -> list[int]:
    return [httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": email, "password": "sai-mat-khau"}).status_code
            for base in bases]


def test_failed_sign_ins_spread_over_a_and_b_lock_out_as_on_one_process(pair, db):
    alone, spread = _user(db), _user(db)
    on_one = _failed_sign_ins([pair.a] * 6, alone.email)
    on_two = _failed_sign_ins([pair.a, pair.b] * 3, spread.email)
    assert on_one == on_two == [401, 401, 401, 401, 401, 429]
    # Locked out on both, even with the right password.
    for base in pair.both:
        right = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": spread.email, "password": PASSWORD})
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) > 0


def _mails_to(db, address: str) -> list[Mail]:
    with Session(db) as session:
        return list(session.exec(select(Mail).where(Mail.to == address)).all())


def _settled(db, addresses: set[str]) -> bool:
    """Every mail to ``addresses`` sent, and no sender holding it any more."""
    with Session(db) as session:
        return not session.exec(select(func.count()).select_from(Mail).where(
            Mail.to.in_(addresses),  # type: ignore[union-attr]
            (Mail.status != "sent") | Mail.claimed_by.is_not(None))).one()  # type: ignore


def test_password_reset_throttles_count_requests_to_a_and_b_together(pair, db):
    user = _user(db)
    statuses = [httpx.post(f"{base}/api/v1/auth/password-reset",
                           json={"email": user.email}).status_code
                for base in [pair.a, pair.b] * 3]
    # Five requests an hour from one address, three mails an hour to one address.
    assert statuses == [202, 202, 202, 202, 202, 429]
    assert len(_mails_to(db, user.email)) == 3
    _wait_until(lambda: _settled(db, {user.email}), timeout=30, what="the reset mails")
    received = [m for m in pair.sink.received if m.to == user.email]
    assert len(received) == 3
    assert {m.subject for m in received} == {_mails_to(db, user.email)[0].subject}


# --- Entry codes -----------------------------------------------------------------------------

def test_entries_submitted_in_parallel_through_a_and_b_get_gap_free_codes(pair, db):
    per_category = 6
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open", categories=2, max_entries_per_author=20)
        journalist = make_user(session)
        categories = session.exec(select(Category).where(Category.award_id == award.id)
                                  .order_by(Category.code)).all()
        entries = [make_entry(session, award, user=journalist, category=category,
                              title=f"Bài {category.code} số {i}")
                   for category in categories for i in range(per_category)]
        session.commit()
    token = httpx.post(f"{pair.a}/api/v1/auth/token",
                       data={"username": journalist.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def submit(base: str, entry_id: int):
        return lambda http: http.post(f"{base}/api/v1/entries/{entry_id}/submit",
                                      headers=headers)

    responses = _parallel([submit(pair.both[i % 2], entry.id)
                           for i, entry in enumerate(entries)])
    assert [r.status_code for r in responses] == [200] * len(entries)
    with Session(db) as session:
        codes = session.exec(select(Category.code, Entry.code)
                             .join(Category, Category.id == Entry.category_id)
                             .where(Entry.award_id == award.id)
                             .order_by(Entry.code)).all()
        counters = session.exec(select(Category.last_code_number)
                                .where(Category.award_id == award.id)
                                .order_by(Category.code)).all()
    assert codes == [(c, f"{c}-{n:03d}") for c in ("C1", "C2")
                     for n in range(1, per_category + 1)]
    assert counters == [per_category, per_category]


# --- Mail sending ----------------------------------------------------------------------------

def test_the_outbox_is_delivered_exactly_once_by_competing_senders(pair, db):
    """Three senders at once: A's and B's threads, and ``giaibao worker --once``."""
    count = 40
    addresses = {f"nguoi-nhan-{i}@hai-tien-trinh.test" for i in range(count)}
    pair.sink.delay = 0.02  # each send takes a moment: the senders overlap
    try:
        worker = subprocess.Popen([*CLI, "worker", "--once"], env=pair.env, cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with Session(db) as session:
            now = datetime.now(UTC)
            for address in sorted(addresses):
                mail.queue(session, to=address, template="password_reset_unknown", now=now,
                           lang="vi", context={"email": address, "url": "http://x/register",
                                               "reset_url": "http://x/forgot-password"})
            session.commit()
        output, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0, output
        _wait_until(lambda: _settled(db, addresses), timeout=60, what="the outbox")
    finally:
        pair.sink.delay = 0
    received = [m for m in pair.sink.received if m.to in addresses]
    assert sorted(m.to for m in received) == sorted(addresses)
    assert len({m.message["Message-ID"] for m in received}) == count
    with Session(db) as session:
        attempts = session.exec(
            select(MailAttempt.ok, func.count()).join(Mail, Mail.id == MailAttempt.mail_id)
            .where(Mail.to.in_(addresses))  # type: ignore[union-attr]
            .group_by(MailAttempt.ok)).all()
    assert attempts == [(True, count)]


# --- The upload sweep ------------------------------------------------------------------------

def _files(suffix: str = "") -> set[str]:
    return {p.name for p in UPLOADS.iterdir() if p.is_file() and p.name.endswith(suffix)}


@contextmanager
def _streaming_upload(base: str, token: str, entry_id: int):
    """An upload of which only the start has been sent; yields the socket, to finish or
    drop. Returns once the server has created its ``.part``."""
    boundary = "hai-tien-trinh"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="phong-su.pdf"\r\nContent-Type: application/pdf\r\n\r\n').encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    first = head + pdf("hai tien trinh") + b"%" * (256 * 1024)
    rest = b"%" * (256 * 1024) + tail
    host, port = base.removeprefix("http://").split(":")
    before = _files(".part")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall((f"POST /api/v1/entries/{entry_id}/files HTTP/1.1\r\nHost: {host}\r\n"
                      f"Authorization: Bearer {token}\r\nConnection: close\r\n"
                      f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                      f"Content-Length: {len(first) + len(rest)}\r\n\r\n").encode())
        sock.sendall(first)
        parts = _wait_until(lambda: _files(".part") - before, timeout=30,
                            what="the upload's .part")
        assert len(parts) == 1
        yield sock, parts.pop(), rest


def _answer(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def _draft(db, pair: Pair) -> tuple[int, str]:
    with Session(db, expire_on_commit=False) as session:
        award = make_award(session, status="open")
        journalist = make_user(session)
        entry = make_entry(session, award, user=journalist, files=[])
        session.commit()
    token = httpx.post(f"{pair.a}/api/v1/auth/token",
                       data={"username": journalist.email, "password": PASSWORD})
    return entry.id, token.json()["access_token"]


def test_a_sweep_elsewhere_spares_a_streaming_upload_and_a_file_awaiting_its_row(pair, db):
    entry_id, token = _draft(db, pair)
    # A file just renamed from its .part by some process whose row is not committed yet.
    writer = LocalStorage(UPLOADS).open_writer(max_bytes=10**6, accept=lambda s: True)
    writer.write(pdf("vua xong, chua co dong"))
    awaiting = writer.finish().name
    with _streaming_upload(pair.a, token, entry_id) as (sock, part, rest):
        assert _cli(pair, "sweep-uploads").strip() == "Removed 0 orphan file(s)."
        assert part in _files(".part")
        sock.sendall(rest)
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert awaiting in _files()
    assert part not in _files()
    assert _cli(pair, "sweep-uploads").strip() == "Removed 0 orphan file(s)."
    listed = httpx.get(f"{pair.b}/api/v1/entries/{entry_id}",
                       headers={"Authorization": f"Bearer {token}"}).json()
    assert len(listed["files"]) == 1
    LocalStorage(UPLOADS).delete(awaiting)


def test_a_sweep_removes_the_part_left_by_a_killed_process(pair, db):
    entry_id, token = _draft(db, pair)
    with serving(pair.env) as (doomed, process):
        with _streaming_upload(doomed, token, entry_id) as (_sock, part, _rest):
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            assert part in _files(".part")
            assert _cli(pair, "sweep-uploads").strip() == "Removed 1 orphan file(s)."
            assert part not in _files()


# --- serve --workers 2 -----------------------------------------------------------------------

def test_serve_with_two_workers_starts_answers_and_stops_cleanly(pair, db):
    user = _user(db)
    log = _TMP / f"{NAME}-workers.log"
    with serving(pair.env, "--workers", "2", log=log) as (base, process):
        results: list[int] = []

        def ask() -> None:
            with httpx.Client(base_url=base) as http:
                results.extend(http.get(path).status_code
                               for path in ("/healthz", "/", "/login") * 5)

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert results == [200] * 60
        cookies = _page_sign_in(pair.a, base, user)  # one installation with A
        assert _me(pair.b, cookies).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    assert not _answers(base)
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text


# --- Start-up --------------------------------------------------------------------------------

def test_processes_migrating_at_once_on_a_fresh_database_all_succeed():
    """N ``giaibao serve`` started together each migrate first: on PostgreSQL all but one
    used to fail creating the same tables (they now take turns on an advisory lock)."""
    url = fresh_database_url(f"{NAME}_migrate")
    env = {**os.environ, "GIAIBAO_DATABASE_URL": url, "GIAIBAO_ENV": "test"}
    runs = [subprocess.Popen([*CLI, "migrate"], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT) for _ in range(3)]
    outputs = [run.communicate(timeout=180)[0].decode(errors="replace") for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], "\n".join(outputs)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            versions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    heads = ScriptDirectory.from_config(Config(str(ROOT / "alembic.ini"))).get_heads()
    assert [v for (v,) in versions] == heads


def _listening(db, pid: int) -> bool:
    """A mail sender of process ``pid`` is LISTENing (its connection is named after it)."""
    with db.connect() as connection:
        return bool(connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name LIKE :name"), {"name": f"giaibao-mail %:{pid}:%"}).scalar())


@pytest.mark.skipif(not os.environ.get("GIAIBAO_TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="senders of other processes are woken by PostgreSQL's NOTIFY; on "
                           "SQLite they find new mail at their next poll")
def test_a_mail_queued_by_a_worker_process_is_sent_at_once_by_the_supervisors_sender():
    """``serve --workers 2``: requests are answered by the workers, the mail sender runs in
    the supervisor. With a poll of an hour, the mail still leaves at once: the commit's
    NOTIFY wakes the sender."""
    url = fresh_database_url(f"{NAME}_wake")
    with SmtpSink() as sink:
        env = {**os.environ, "GIAIBAO_DATABASE_URL": url, "GIAIBAO_ENV": "test",
               "GIAIBAO_UPLOAD_DIR": str(_TMP / f"{NAME}_wake-uploads"),
               "GIAIBAO_SMTP_HOST": "127.0.0.1", "GIAIBAO_SMTP_PORT": str(sink.port),
               "GIAIBAO_MAIL_POLL_SECONDS": "3600"}
        subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT)
        engine = make_engine(url)
        try:
            with serving(env, "--workers", "2") as (base, process):
                _wait_until(lambda: _listening(engine, process.pid), timeout=30,
                            what="the supervisor's sender to listen")
                asked = httpx.post(f"{base}/api/v1/auth/password-reset",
                                   json={"email": "ai-do@danh-thuc.vn"})
                assert asked.status_code == 202
                assert sink.mail_to("ai-do@danh-thuc.vn", timeout=30)
        finally:
            engine.dispose()
