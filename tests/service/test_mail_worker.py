"""The sender against a real SMTP server (aiosmtpd in the test process): delivery, retries,
permanent refusals, giving up, crashed senders and parallel senders."""

import asyncio
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import func, select

from app.audit.models import AuditEntry
from app.errors import Conflict
from app.mail import service
from app.mail.models import Mail, MailAttempt
from app.mail.worker import backoff_seconds, claim, message_id
from tests.conftest import TEST_DATABASE_URL
from tests.factories import make_user
from tests.mail_helpers import deliver, queue_mail, sender_for
from tests.smtp_sink import free_port

ROOT = Path(__file__).resolve().parents[2]
LATER = timedelta(seconds=31)


def _attempts(session, mail_id):
    return session.exec(select(MailAttempt).where(MailAttempt.mail_id == mail_id)
                        .order_by(MailAttempt.id)).all()


def _reload(session, mail):
    session.commit()  # a new snapshot: what the senders committed meanwhile
    session.expire_all()
    return session.get(Mail, mail.id)


def test_a_queued_mail_is_delivered_once_with_its_parts(session, smtp_sink):
    user = make_user(session, email="binh@example.vn", full_name="Trần Thị Bình")
    mail = queue_mail(session, user=user)
    session.commit()
    sender = sender_for(smtp_sink)

    report = deliver(sender)

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [got] = smtp_sink.received
    assert got.to == "binh@example.vn"
    assert got.subject == mail.subject
    # Lines travel with CRLF endings (SMTP); the content is the mail's.
    assert got.text.replace("\r\n", "\n") == mail.text
    assert got.html.replace("\r\n", "\n").rstrip("\n") == mail.html.rstrip("\n")
    assert got.message["Message-ID"] == message_id(mail.id, mail.created_at,
                                                   sender.settings.base_url)
    assert got.message["Message-ID"] == (f"<giaibao.{mail.id}."
                                         f"{mail.created_at:%Y%m%d%H%M%S}@127.0.0.1>")
    assert got.mail_from == "no-reply@giaibao.local"
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error, mail.claimed_by) == ("sent", 1, None,
                                                                              None)
    assert mail.sent_at is not None
    assert [(a.ok, a.worker, a.error) for a in _attempts(session, mail.id)] == [
        (True, sender.worker_id, None)]

    assert deliver(sender).attempted == 0
    assert len(smtp_sink.received) == 1


def test_a_rolled_back_transaction_queues_nothing(session, smtp_sink):
    queue_mail(session)
    session.rollback()
    assert session.exec(select(func.count()).select_from(Mail)).one() == 0
    assert deliver(sender_for(smtp_sink)).attempted == 0
    assert smtp_sink.received == []


def test_a_refusing_server_that_recovers_gets_the_mail_once(session, smtp_sink):
    mail = queue_mail(session)
    session.commit()
    smtp_sink.refuse_next(1, "451 4.3.0 Try again later")
    sender = sender_for(smtp_sink, mail_retry_base_seconds=30)

    before = datetime.now(UTC)
    assert deliver(sender).retried == 1
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error) == ("queued", 1,
                                                             "451 4.3.0 Try again later")
    assert before + timedelta(seconds=30) <= mail.next_attempt_at <= datetime.now(UTC) + LATER
    assert deliver(sender).attempted == 0  # not due yet

    sender.clock = lambda: datetime.now(UTC) + LATER
    assert deliver(sender).sent == 1
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 2, None)
    assert [(a.ok, a.error) for a in _attempts(session, mail.id)] == [
        (False, "451 4.3.0 Try again later"), (True, None)]
    assert len(smtp_sink.received) == 1


def test_a_permanent_refusal_fails_the_mail_with_the_servers_answer(session, smtp_sink):
    mail = queue_mail(session)
    session.commit()
    smtp_sink.refuse_next(1, "550 5.1.1 No such user here")

    assert deliver(sender_for(smtp_sink)).failed == 1
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error, mail.sent_at) == (
        "failed", 1, "550 5.1.1 No such user here", None)
    assert smtp_sink.received == []


def test_an_unreachable_server_leaves_the_mail_queued_for_later(session):
    mail = queue_mail(session)
    session.commit()
    closed = free_port()

    report = deliver(sender_for(smtp_host="127.0.0.1", smtp_port=closed,
                                smtp_timeout_seconds=5))

    assert report.retried == 1
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts) == ("queued", 1)
    assert mail.next_attempt_at > datetime.now(UTC)
    assert mail.last_error.startswith("SMTPConnectError: ")
    assert str(closed) in mail.last_error


def test_backoff_doubles_up_to_an_hour():
    assert [backoff_seconds(n, 30) for n in (1, 2, 3, 4, 8, 20)] == [30, 60, 120, 240, 3600,
                                                                      3600]


def test_a_mail_still_refused_at_its_give_up_time_fails(session, smtp_sink):
    now = datetime.now(UTC)
    mail = queue_mail(session, give_up_at=now + timedelta(seconds=40))
    session.commit()
    smtp_sink.refuse_next(2, "421 4.7.0 Busy")
    sender = sender_for(smtp_sink, mail_retry_base_seconds=30)

    assert deliver(sender).retried == 1
    sender.clock = lambda: datetime.now(UTC) + timedelta(seconds=45)
    assert deliver(sender).failed == 1

    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error) == (
        "failed", 2, "gave up after 2 attempts: 421 4.7.0 Busy")
    assert smtp_sink.received == []


def test_the_last_retry_falls_on_the_give_up_time(session, smtp_sink):
    now = datetime.now(UTC)
    give_up_at = now + timedelta(seconds=10)
    mail = queue_mail(session, give_up_at=give_up_at)
    session.commit()
    smtp_sink.refuse_next(1)

    deliver(sender_for(smtp_sink, mail_retry_base_seconds=30))
    assert _reload(session, mail).next_attempt_at == give_up_at


def test_a_sender_killed_mid_send_loses_nothing_and_repeats_nothing_sent(session, smtp_sink):
    abandoned = queue_mail(session)
    acknowledged = queue_mail(session)
    session.commit()
    sender = sender_for(smtp_sink, mail_lease_seconds=300)
    # A sender claims the oldest mail and dies before recording anything.
    [taken] = claim(sender.engine, worker="dead:1:x", now=datetime.now(UTC), lease_seconds=300,
                    limit=1)
    assert taken.id == abandoned.id
    assert _reload(session, abandoned).claimed_by == "dead:1:x"

    # Its claim hides that mail from the others until the lease ends, and blocks nothing else.
    assert deliver(sender).sent == 1
    assert deliver(sender).attempted == 0
    base = sender.settings.base_url
    assert [r.message["Message-ID"] for r in smtp_sink.received] == [
        message_id(acknowledged.id, acknowledged.created_at, base)]

    sender.clock = lambda: datetime.now(UTC) + timedelta(seconds=301)
    assert deliver(sender).sent == 1
    assert deliver(sender).attempted == 0
    assert sorted(r.message["Message-ID"] for r in smtp_sink.received) == sorted(
        message_id(m.id, m.created_at, base) for m in (abandoned, acknowledged))
    assert {_reload(session, m).status for m in (abandoned, acknowledged)} == {"sent"}


def test_a_late_record_from_a_sender_whose_lease_was_taken_over_is_dropped(session, smtp_sink):
    from app.mail.worker import Outcome, record

    mail = queue_mail(session)
    session.commit()
    now = datetime.now(UTC)
    [slow] = claim(session.get_bind(), worker="slow", now=now, lease_seconds=1, limit=1)
    [fast] = claim(session.get_bind(), worker="fast", now=now + timedelta(seconds=2),
                   lease_seconds=300, limit=1)
    assert (slow.id, fast.id) == (mail.id, mail.id)
    assert record(session.get_bind(), slow, Outcome(True), worker="slow", now=now,
                  retry_base_seconds=30) == "lost"
    assert record(session.get_bind(), fast, Outcome(True), worker="fast", now=now,
                  retry_base_seconds=30) == "sent"
    assert [a.worker for a in _attempts(session, mail.id)] == ["fast"]


def test_a_killed_worker_process_is_replaced_and_nothing_acknowledged_is_sent_again(
        session, smtp_sink):
    """A real ``giaibao worker`` killed (SIGKILL) while the server holds its mail."""
    mails = [queue_mail(session) for _ in range(3)]
    session.commit()
    smtp_sink.delay = 1.5
    env = {**os.environ, "GIAIBAO_DATABASE_URL": TEST_DATABASE_URL,
           "GIAIBAO_SMTP_HOST": "127.0.0.1", "GIAIBAO_SMTP_PORT": str(smtp_sink.port),
           "GIAIBAO_MAIL_CONCURRENCY": "1", "GIAIBAO_MAIL_LEASE_SECONDS": "4"}
    worker = subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        smtp_sink.wait_for(1, timeout=30)
        time.sleep(0.5)  # the second mail is in flight now
    finally:
        worker.kill()
        worker.wait(10)
    smtp_sink.delay = 0
    acknowledged = {m.id for m in mails if _reload(session, m).status == "sent"}
    assert len(acknowledged) >= 1

    replacement = sender_for(smtp_sink, mail_lease_seconds=4)
    replacement.clock = lambda: datetime.now(UTC) + timedelta(seconds=5)
    deliver(replacement)

    assert {_reload(session, m).status for m in mails} == {"sent"}
    ids = [r.message["Message-ID"] for r in smtp_sink.received]
    base = replacement.settings.base_url
    for m in mails:
        count = ids.count(message_id(m.id, m.created_at, base))
        # Acknowledged mails are never sent again; the one cut off mid-send may arrive twice
        # (the server kept it but the sender never heard), with the same Message-ID.
        assert count == 1 if m.id in acknowledged else count in (1, 2), (m.id, count)


def test_two_senders_in_parallel_send_each_mail_exactly_once(session, smtp_sink):
    user = make_user(session)
    mails = [queue_mail(session, user=user) for _ in range(200)]
    session.commit()
    senders = [sender_for(smtp_sink, mail_concurrency=4) for _ in range(2)]
    reports = [None, None]
    barrier = threading.Barrier(2)

    def run(i):
        barrier.wait()
        reports[i] = deliver(senders[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    ids = [r.message["Message-ID"] for r in smtp_sink.wait_for(200)]
    assert len(ids) == 200 and len(set(ids)) == 200
    assert sum(r.sent for r in reports) == 200
    assert all(r.lost_claims == 0 for r in reports)
    assert session.exec(select(func.count()).select_from(Mail)
                        .where(Mail.status == "sent", Mail.attempts == 1)).one() == 200
    assert session.exec(select(func.count()).select_from(MailAttempt)).one() == 200
    assert len(mails) == 200


def test_a_commit_that_queues_mail_wakes_a_waiting_sender(session, smtp_sink):
    sender = sender_for(smtp_sink, mail_poll_seconds=600)
    thread = threading.Thread(target=lambda: asyncio.run(sender.run()))
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while sender.wake not in service._wakers and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the first (empty) round is over; it waits for the poll now
        queue_mail(session)
        session.commit()  # after_commit -> wake_sender
        assert len(smtp_sink.wait_for(1, timeout=10)) == 1
    finally:
        sender.stop()
        thread.join(10)
    assert not thread.is_alive()
    assert sender.wake not in service._wakers


def test_worker_once_from_the_command_line(session, smtp_sink):
    queue_mail(session)
    queue_mail(session)
    session.commit()
    env = {**os.environ, "GIAIBAO_DATABASE_URL": TEST_DATABASE_URL,
           "GIAIBAO_SMTP_HOST": "127.0.0.1", "GIAIBAO_SMTP_PORT": str(smtp_sink.port)}
    out = subprocess.run([sys.executable, "-m", "app.cli", "worker", "--once"], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "sent 2, to retry 0, failed 0\n")
    assert len(smtp_sink.received) == 2


def test_worker_refuses_to_start_without_smtp():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIAIBAO_SMTP")}
    env["GIAIBAO_DATABASE_URL"] = TEST_DATABASE_URL
    out = subprocess.run([sys.executable, "-m", "app.cli", "worker", "--once"], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stderr) == (2, "No SMTP server configured: set "
                                                "GIAIBAO_SMTP_HOST.\n")


# --- Resending and reading -----------------------------------------------------------------

def test_resending_a_failed_mail_queues_it_once_and_it_is_delivered(session, smtp_sink):
    organizer = make_user(session, role="organizer")
    mail = queue_mail(session, status="failed", attempts=3, last_error="550 No such user")
    session.commit()
    now = datetime.now(UTC)

    service.resend_mail(session, mail.id, actor=organizer, now=now)
    session.commit()
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error, mail.next_attempt_at) == (
        "queued", 3, "550 No such user", now)
    assert mail.give_up_at == now + timedelta(hours=48)
    [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "mail.resend")).all()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (organizer.id, "mail",
                                                                    mail.id)

    with pytest.raises(Conflict) as refused:
        service.resend_mail(session, mail.id, actor=organizer, now=now)
    assert refused.value.translated(lambda m: m) == (
        "Only a mail that failed can be sent again; this one is Queued.")
    session.rollback()

    assert deliver(sender_for(smtp_sink)).sent == 1
    mail = _reload(session, mail)
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 4, None)


@pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                    reason="SQLite serialises writers; the race needs PostgreSQL")
def test_two_organizers_resending_at_once_queue_the_mail_once(session, real_engine):
    from sqlmodel import Session

    from tests.service.test_accounts_concurrency import _in_parallel

    with Session(real_engine) as setup:
        organizer = make_user(setup, role="organizer")
        mail = queue_mail(setup, status="failed")
        setup.commit()
        mail_id, organizer_id = mail.id, organizer.id

    def resend(s, i):
        from app.accounts.models import User

        return service.resend_mail(s, mail_id, actor=s.get(User, organizer_id),
                                   now=datetime.now(UTC)).status

    outcomes = _in_parallel(real_engine, resend, count=6)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict"] * 5 + ["str"]
    with Session(real_engine) as check:
        assert check.exec(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "mail.resend")).one() == 1


def test_secret_links_are_masked_outside_development(session, monkeypatch):
    from app.config import get_settings

    organizer = make_user(session, role="organizer")
    mail = queue_mail(session, secret=True)
    plain = queue_mail(session)
    session.commit()

    shown = service.get_mail(session, mail.id, viewer=organizer)
    assert "token=bi-mat-123" in shown.text and "token=bi-mat-123" in shown.html

    monkeypatch.setattr(get_settings(), "env", "production")
    masked = service.get_mail(session, mail.id, viewer=organizer)
    assert "bi-mat-123" not in masked.text and "bi-mat-123" not in masked.html
    assert "/verify?token=••••••" in masked.text
    assert masked.text == mail.text.replace("bi-mat-123", "••••••")
    # A mail without a secret link is shown as it is.
    assert service.get_mail(session, plain.id, viewer=organizer).text == plain.text


def test_only_a_5xx_answer_about_the_mail_itself_is_permanent():
    import aiosmtplib

    from app.mail.worker import Outcome, describe

    refused = aiosmtplib.SMTPRecipientRefused(550, "5.1.1 No such user", "x@example.vn")
    assert describe(aiosmtplib.SMTPRecipientsRefused([refused])) == Outcome(
        False, permanent=True, error="550 5.1.1 No such user")
    assert describe(aiosmtplib.SMTPDataError(552, "Message too big")) == Outcome(
        False, permanent=True, error="552 Message too big")
    assert describe(aiosmtplib.SMTPDataError(452, "Mailbox full")).permanent is False
    # A refused login or sender is our settings' fault, not the mail's: tried again.
    assert describe(aiosmtplib.SMTPAuthenticationError(535, "Bad login")).permanent is False
    assert describe(aiosmtplib.SMTPSenderRefused(553, "Not yours", "a@b")).permanent is False
    assert describe(TimeoutError()) == Outcome(False, error="TimeoutError: TimeoutError")
