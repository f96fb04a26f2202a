"""Does a slow SMTP server slow down the people using the portal? And how fast does the
sender drain a full outbox?

Run with ``make bench`` (or ``.venv/bin/python bench/mail.py``). Each part uses a fresh
SQLite database (or, when GIAIBAO_DATABASE_URL names a PostgreSQL database, new schemas of
it, dropped at the end) and a real SMTP server in this process (aiosmtpd, tests/smtp_sink.py).

1. Submissions: ``giaibao serve`` is started twice, first with no SMTP configured (the
   baseline: mails stay queued), then with its sender pointed at an SMTP server that takes
   BENCH_SMTP_DELAY seconds (default 5) per message. Each time BENCH_JOURNALISTS journalists
   (default 20), one thread each, submit BENCH_ENTRIES_EACH entries (default 3) at once, and
   the latency of every ``POST /entries/{id}/submit`` is measured. So that the sender is busy
   whatever the submissions themselves queue, BENCH_BACKLOG mails (default 20) are put in the
   outbox just before. Prints p50 / p95 / max of both runs, the p95 ratio (target ≤ 1.1),
   and the mails queued and delivered meanwhile.
2. Drain: BENCH_MAILS mails (default 1,000) queued at once, delivered by one sender
   (``mail_concurrency`` connections) to an SMTP server that answers at once; prints
   mails per second and checks each arrived once.

Nothing is asserted: these are figures to read (the run fails only if a request fails).
"""

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.common import CLI, bench_database, start_server, stop  # noqa: E402

JOURNALISTS = int(os.environ.get("BENCH_JOURNALISTS", "20"))
ENTRIES_EACH = int(os.environ.get("BENCH_ENTRIES_EACH", "3"))
SMTP_DELAY = float(os.environ.get("BENCH_SMTP_DELAY", "5"))
BACKLOG = int(os.environ.get("BENCH_BACKLOG", "20"))
MAILS = int(os.environ.get("BENCH_MAILS", "1000"))
PASSWORD = "do-chay-thu-2026"


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def mail_counts(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from app.db import make_engine
    from app.mail.models import Mail

    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(Mail.status, func.count()).group_by(Mail.status)).all()
    engine.dispose()
    return {status: n for status, n in rows}


def queue_backlog(database_url: str, n: int) -> None:
    """n mails in the outbox, as if other people had just done something."""
    from sqlmodel import Session, select

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.db import make_engine
    from app.mail import service

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        user = session.exec(select(User).where(User.role == "journalist")).first()
        for _ in range(n):
            service.queue_for_user(session, user, template="verify_email", now=now,
                                   context={"url": service.link("/verify", token="x"),
                                            "hours": 48})
        session.commit()
    engine.dispose()


def prepare(api: httpx.Client) -> list[tuple[dict, list[int]]]:
    """An open award, JOURNALISTS journalists, each with ENTRIES_EACH draft entries holding a
    file; returns each one's headers and entry ids."""
    from app.samples import pdf

    token = api.post("/auth/token", data={"username": "btc@bench.vn", "password": PASSWORD})
    org = {"Authorization": f"Bearer {token.json()['access_token']}"}
    now = datetime.now(UTC)
    award = api.post("/awards", headers=org, json={
        "title": "Giải báo chí đo thử", "year": 2026, "slug": "giai-do-thu",
        "submission_opens_at": (now - timedelta(days=1)).isoformat(),
        "submission_closes_at": (now + timedelta(days=1)).isoformat(),
        "published_from": "2025-01-01", "published_to": "2026-12-31",
        "max_entries_per_author": max(ENTRIES_EACH, 1)}).json()
    category = api.post(f"/awards/{award['id']}/categories", headers=org, json={
        "code": "BDT", "name": "Báo điện tử", "accepted_kinds": ["pdf"], "max_file_mb": 5,
        "url_required": False, "prize_quota": {}}).json()
    assert api.patch(f"/awards/{award['id']}", headers=org,
                     json={"status": "open"}).status_code == 200
    people = []
    for i in range(JOURNALISTS):
        email = f"phongvien{i}@bench.vn"
        created = api.post("/users", headers=org, json={
            "email": email, "password": PASSWORD, "full_name": f"Phóng Viên {i}",
            "role": "journalist"})
        assert created.status_code == 201, created.text
        token = api.post("/auth/token", data={"username": email, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        ids = []
        for j in range(ENTRIES_EACH):
            entry = api.post(f"/awards/{award['id']}/entries", headers=headers, json={
                "category_id": category["id"], "title": f"Phóng sự số {j} của {i}",
                "summary": "Xây dựng Đảng ở cơ sở", "outlet": "Báo Ninh Thuận",
                "published_on": "2026-03-15", "co_authors": []})
            assert entry.status_code == 201, entry.text
            upload = api.post(f"/entries/{entry.json()['id']}/files", headers=headers,
                              files={"file": ("bai-bao.pdf", pdf(f"bai {i} {j}"),
                                              "application/pdf")})
            assert upload.status_code == 201, upload.text
            ids.append(entry.json()["id"])
        people.append((headers, ids))
    return people


def submit_all(base: str, people) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(len(people))

    def journalist(headers, ids):
        with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as client:
            barrier.wait()
            for entry_id in ids:
                start = time.perf_counter()
                response = client.post(f"/entries/{entry_id}/submit", headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:100]}")

    threads = [threading.Thread(target=journalist, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def submissions(work: Path, name: str, sink=None) -> dict:
    with bench_database(work, name) as database_url:
        env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url, "GIAIBAO_ENV": "dev",
               "GIAIBAO_UPLOAD_DIR": str(work / f"{name}-uploads"),
               "GIAIBAO_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000",
               "GIAIBAO_MAIL_POLL_SECONDS": "1"}
        env = {k: v for k, v in env.items() if not k.startswith("GIAIBAO_SMTP_")}
        if sink is not None:
            env.update(GIAIBAO_SMTP_HOST="127.0.0.1", GIAIBAO_SMTP_PORT=str(sink.port))
        subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
        subprocess.run([*CLI, "create-user", "--email", "btc@bench.vn", "--password", PASSWORD,
                        "--name", "Ban Tổ Chức", "--role", "organizer"], env=env, check=True,
                       cwd=ROOT, capture_output=True)
        server, base = start_server(env)
        try:
            with httpx.Client(base_url=f"{base}/api/v1", timeout=120) as api:
                people = prepare(api)
            before = sum(mail_counts(database_url).values())
            queue_backlog(database_url, BACKLOG)
            received_before = len(sink.received) if sink else 0
            time.sleep(1.5)  # the sender (if any) has picked the backlog up
            start = time.perf_counter()
            latencies, errors = submit_all(base, people)
            wall = time.perf_counter() - start
            counts = mail_counts(database_url)
            delivered = (len(sink.received) - received_before) if sink else 0
        finally:
            stop(server)
    if errors:
        raise SystemExit(f"{len(errors)} submission(s) failed: {errors[:3]}")
    return {"n": len(latencies), "p50": statistics.median(latencies),
            "p95": percentile(latencies, 0.95), "max": max(latencies), "wall": wall,
            "queued_by_submissions": sum(counts.values()) - before - BACKLOG,
            "counts": counts, "delivered": delivered}


def drain(work: Path) -> dict:
    from sqlmodel import Session

    import app.models  # noqa: F401
    from app.accounts.models import User
    from app.config import get_settings
    from app.db import make_engine
    from app.mail import service
    from app.mail.worker import Sender
    from tests.smtp_sink import SmtpSink

    with bench_database(work, "bench_mail_drain") as database_url:
        env = {**os.environ, "GIAIBAO_DATABASE_URL": database_url}
        subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
        engine = make_engine(database_url)
        now = datetime.now(UTC)
        with Session(engine) as session:
            user = User(email="nhan@bench.vn", password_hash="x", full_name="Người Nhận",
                        email_verified_at=now)
            session.add(user)
            session.flush()
            for _ in range(MAILS):
                service.queue_for_user(session, user, template="verify_email", now=now,
                                       context={"url": service.link("/verify", token="x"),
                                                "hours": 48})
            session.commit()
        with SmtpSink() as sink:
            settings = get_settings().model_copy(update=sink.settings())
            sender = Sender(settings=settings, engine=engine)
            start = time.perf_counter()
            report = asyncio.run(sender.deliver_due())
            seconds = time.perf_counter() - start
            ids = {r.message["Message-ID"] for r in sink.wait_for(MAILS, timeout=10)}
        engine.dispose()
    return {"seconds": seconds, "sent": report.sent, "distinct": len(ids),
            "concurrency": settings.mail_concurrency}


def main() -> None:
    import shutil
    import tempfile

    from tests.smtp_sink import SmtpSink

    work = Path(tempfile.mkdtemp(prefix="giaibao-mail-"))
    try:
        kind = ("PostgreSQL" if os.environ.get("GIAIBAO_DATABASE_URL", "").startswith(
            "postgresql") else "SQLite")
        baseline = submissions(work, "bench_mail_nosmtp")
        with SmtpSink() as sink:
            sink.delay = SMTP_DELAY
            slow = submissions(work, "bench_mail_smtp", sink)
        print(f"submissions by {JOURNALISTS} journalists x {ENTRIES_EACH} entries on {kind}; "
              f"SMTP server taking {SMTP_DELAY:g} s per message; backlog of {BACKLOG} mails")
        for label, r in (("no SMTP (baseline)", baseline), ("slow SMTP", slow)):
            print(f"  {label:<20}: p50 {r['p50'] * 1000:7.1f} ms  p95 {r['p95'] * 1000:7.1f} ms"
                  f"  max {r['max'] * 1000:7.1f} ms  ({r['n']} submits in {r['wall']:.2f} s)")
        print(f"  ratio p95 slow/none   : {slow['p95'] / baseline['p95']:6.2f}")
        for label, r in (("mails, no SMTP", baseline), ("mails, slow SMTP", slow)):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items()))
            print(f"  {label:<20}: {r['queued_by_submissions']} queued by the "
                  f"submissions; delivered meanwhile {r['delivered']}; outbox now: {counts}")
        d = drain(work)
        print(f"drain of {MAILS} queued mails by one sender ({d['concurrency']} connections) "
              f"to a local SMTP server on {kind}")
        print(f"  delivered             : {d['sent']} ({d['distinct']} distinct Message-IDs "
              f"received) in {d['seconds']:.2f} s")
        print(f"  throughput            : {d['sent'] / d['seconds']:7.1f} mails/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
