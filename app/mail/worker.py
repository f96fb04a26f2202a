"""The sender: delivers the outbox through SMTP, exactly once per mail across processes.

A sender claims due mails (queued, ``next_attempt_at`` passed, no live lease) in a short
transaction of its own — ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
UPDATE on SQLite, whose ``BEGIN IMMEDIATE`` already serialises writers — and commits before
it talks to any SMTP server. It then records each attempt only while the claim is still its
own (``UPDATE … WHERE id = ? AND claimed_by = ?``). A sender that dies mid-send leaves its
claims to the others once their lease (``mail_lease_seconds``) has run out; a mail already
recorded as sent is never claimed again. Every message carries a Message-ID derived from the
mail's row, so that the one duplicate such a crash can cause is recognisable.

``mail_concurrency`` asyncio tasks each keep one SMTP connection while there is work
(reconnecting after an error). Database calls run in threads, never on the event loop.
"""

import asyncio
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, parseaddr
from urllib.parse import urlsplit

import aiosmtplib
import psycopg
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import Settings, get_settings
from app.db import get_engine, utcnow
from app.mail import service
from app.mail.models import Mail, MailAttempt, MailStatus

log = logging.getLogger(__name__)

# The longest wait between two attempts at one mail.
MAX_BACKOFF_SECONDS = 3600
# The longest answer or exception text kept for a failed attempt.
MAX_ERROR = 2000


def new_worker_id() -> str:
    """host:pid:random — tells apart the senders of several processes and machines."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(4)}"


def message_id(mail_id: int, created_at: datetime, base_url: str) -> str:
    """The same for every attempt at one mail, so that a duplicate after a crash can be
    recognised (by the recipient's client, or by whoever reads the server's log)."""
    host = urlsplit(base_url).hostname or "giaibao.local"
    return f"<giaibao.{mail_id}.{created_at:%Y%m%d%H%M%S}@{host}>"


def backoff_seconds(attempts: int, base: float) -> float:
    """The wait after the ``attempts``-th failure: base·2^(attempts−1), at most an hour."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


@dataclass(frozen=True)
class Claimed:
    """A claimed mail, as plain values: nothing here touches the database while sending."""

    id: int
    to: str
    subject: str
    text: str
    html: str
    attempts: int
    created_at: datetime
    give_up_at: datetime
    claimed_until: datetime


@dataclass(frozen=True)
class Outcome:
    ok: bool
    permanent: bool = False
    error: str | None = None


@dataclass
class Report:
    """What one run of ``deliver_due`` did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    lost_claims: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.retried + self.failed + self.lost_claims


def claim(engine: Engine, *, worker: str, now: datetime, lease_seconds: float,
          limit: int) -> list[Claimed]:
    """Claims up to ``limit`` due mails for ``worker`` until ``now + lease``, and commits."""
    until = now + timedelta(seconds=lease_seconds)
    due = (Mail.status == MailStatus.queued, Mail.next_attempt_at <= now,
           or_(Mail.claimed_until.is_(None), Mail.claimed_until < now))
    with Session(engine) as session:
        query = select(Mail.id).where(*due).order_by(Mail.next_attempt_at, Mail.id).limit(limit)
        if engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.exec(query).all())
        if not ids:
            session.rollback()
            return []
        # The conditions again: a claim is taken only where nobody else holds one, and
        # exactly the rows this UPDATE changed are ours.
        rows = session.execute(
            update(Mail).where(Mail.id.in_(ids), *due)
            .values(claimed_by=worker, claimed_until=until)
            .returning(Mail.id, Mail.to, Mail.subject, Mail.text, Mail.html, Mail.attempts,
                       Mail.created_at, Mail.give_up_at)
            .execution_options(synchronize_session=False)).all()
        claimed = sorted((Claimed(id=r.id, to=r.to, subject=r.subject, text=r.text,
                                  html=r.html, attempts=r.attempts, created_at=r.created_at,
                                  give_up_at=r.give_up_at, claimed_until=until) for r in rows),
                         key=lambda m: m.id)
        session.commit()
    return claimed


@dataclass(frozen=True)
class Attempt:
    """One finished attempt, waiting to be recorded."""

    mail: Claimed
    outcome: Outcome
    at: datetime


def _changes(attempt: Attempt, retry_base_seconds: float) -> tuple[dict, str]:
    """The row's new values after ``attempt``, and what they mean."""
    mail, outcome, now = attempt.mail, attempt.outcome, attempt.at
    attempts = mail.attempts + 1
    values: dict = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if outcome.ok:
        # The errors of earlier attempts stay in the attempts log, not beside "sent".
        values.update(status=MailStatus.sent, sent_at=now, last_error=None)
        return values, "sent"
    if outcome.permanent:
        values.update(status=MailStatus.failed, last_error=outcome.error)
        return values, "failed"
    if now >= mail.give_up_at:
        values.update(status=MailStatus.failed, last_error=(
            f"gave up after {attempts} attempt{'s' if attempts != 1 else ''}: {outcome.error}"
        )[:MAX_ERROR])
        return values, "failed"
    retry_at = now + timedelta(seconds=backoff_seconds(attempts, retry_base_seconds))
    # The last try falls on the give-up time itself.
    values.update(next_attempt_at=min(retry_at, mail.give_up_at), last_error=outcome.error)
    return values, "retried"


def record_many(engine: Engine, attempts: list[Attempt], *, worker: str,
                retry_base_seconds: float) -> list[str]:
    """Records attempts in one transaction (one commit for what several connections finished
    meanwhile), each only if the claim is still ``worker``'s, and releases the claims;
    returns for each ``sent``, ``retried``, ``failed`` or ``lost`` (another sender holds it
    now, and its attempt is not recorded)."""
    results = []
    with Session(engine) as session:
        for attempt in attempts:
            values, result = _changes(attempt, retry_base_seconds)
            changed = session.execute(
                update(Mail).where(Mail.id == attempt.mail.id, Mail.claimed_by == worker,
                                   Mail.status == MailStatus.queued)
                .values(**values).execution_options(synchronize_session=False)).rowcount
            if changed != 1:
                results.append("lost")
                continue
            session.add(MailAttempt(mail_id=attempt.mail.id, at=attempt.at, worker=worker,
                                    ok=attempt.outcome.ok, error=attempt.outcome.error))
            results.append(result)
        session.commit()
    return results


def record(engine: Engine, mail: Claimed, outcome: Outcome, *, worker: str, now: datetime,
           retry_base_seconds: float) -> str:
    """Records one attempt (see ``record_many``)."""
    return record_many(engine, [Attempt(mail, outcome, now)], worker=worker,
                       retry_base_seconds=retry_base_seconds)[0]


def release(engine: Engine, mails: list[Claimed], *, worker: str) -> None:
    """Gives back claims not tried (the sender is stopping): due again for anyone at once."""
    with Session(engine) as session:
        session.execute(update(Mail).where(Mail.id.in_([m.id for m in mails]),
                                           Mail.claimed_by == worker)
                        .values(claimed_by=None, claimed_until=None)
                        .execution_options(synchronize_session=False))
        session.commit()


def build_message(mail: Claimed, settings: Settings) -> MIMEMultipart:
    """The mail as text and HTML alternatives. Built with the classic MIME classes: their
    Subject encoder keeps the spaces inside the encoded words, where the newer EmailMessage
    folding of a long Vietnamese Subject dropped one between two words ("Khánh Hòa" arrived
    as "KhánhHòa")."""
    message = MIMEMultipart("alternative")
    message["Subject"] = Header(mail.subject, "utf-8")
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Date"] = format_datetime(mail.created_at)
    message["Message-ID"] = message_id(mail.id, mail.created_at, settings.base_url)
    message["Auto-Submitted"] = "auto-generated"
    message.attach(MIMEText(mail.text, "plain", "utf-8"))
    message.attach(MIMEText(mail.html, "html", "utf-8"))
    return message


def describe(exc: BaseException) -> Outcome:
    """Sorts an SMTP failure: a 5xx answer to this mail (recipient refused, content refused),
    or an address that SMTP cannot carry, fails it at once; everything else (no connection,
    time-out, a 4xx answer, a refused login or sender, which are the server's or our
    settings' fault) is tried again."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        answers = [(r.code, r.message) for r in exc.recipients]
        text = "; ".join(f"{code} {message}" for code, message in answers)
        return Outcome(False, permanent=all(code >= 500 for code, _ in answers),
                       error=text[:MAX_ERROR])
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        permanent = exc.code >= 500 and isinstance(
            exc, (aiosmtplib.SMTPDataError, aiosmtplib.SMTPRecipientRefused))
        return Outcome(False, permanent=permanent, error=f"{exc.code} {exc.message}"[:MAX_ERROR])
    if isinstance(exc, ValueError):  # an address that cannot be sent to at all
        return Outcome(False, permanent=True, error=f"{exc}"[:MAX_ERROR])
    text = str(exc) or type(exc).__name__
    return Outcome(False, error=f"{type(exc).__name__}: {text}"[:MAX_ERROR])


@dataclass
class Sender:
    """Delivers the outbox. ``deliver_due()`` drains what is due once (tests, ``giaibao
    worker --once``); ``run()`` repeats it until ``stop()``, every ``mail_poll_seconds`` or
    as soon as a commit queued mail in this process (``service.wake_sender``) or, on
    PostgreSQL, in any process (``_listen``)."""

    settings: Settings = field(default_factory=get_settings)
    engine: Engine = field(default_factory=get_engine)
    worker_id: str = field(default_factory=new_worker_id)
    clock: Callable[[], datetime] = utcnow
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._pending: list[tuple[Attempt, asyncio.Future]] = []
        self._recorder: asyncio.Task | None = None

    @property
    def batch(self) -> int:
        """Mails claimed at once by one task: few enough to send well inside the lease."""
        per_mail = max(self.settings.smtp_timeout_seconds, 1) * 2
        return max(1, min(10, int(self.settings.mail_lease_seconds // per_mail)))

    async def deliver_due(self) -> Report:
        """Sends every mail due now, ``mail_concurrency`` at a time; returns what happened."""
        if not self.settings.smtp_configured:
            raise RuntimeError("no SMTP server is configured (GIAIBAO_SMTP_HOST)")
        report = Report()
        tasks = [asyncio.create_task(self._drain(report))
                 for _ in range(max(1, self.settings.mail_concurrency))]
        # Every task ends before this returns, even when one of them failed.
        for outcome in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome
        return report

    async def _drain(self, report: Report) -> None:
        smtp: aiosmtplib.SMTP | None = None
        try:
            while not self.stopping.is_set():
                batch = await asyncio.to_thread(
                    claim, self.engine, worker=self.worker_id, now=self.clock(),
                    lease_seconds=self.settings.mail_lease_seconds, limit=self.batch)
                if not batch:
                    return
                for i, mail in enumerate(batch):
                    if self.stopping.is_set():
                        await asyncio.to_thread(release, self.engine, batch[i:],
                                                worker=self.worker_id)
                        return
                    if self.clock() >= mail.claimed_until:
                        continue  # the lease ran out meanwhile: another sender's now
                    smtp, outcome = await self._send(smtp, mail)
                    result = await self._record(Attempt(mail, outcome, self.clock()))
                    if result == "lost":
                        report.lost_claims += 1
                        log.warning("mail %d was recorded by another sender", mail.id)
                    else:
                        setattr(report, result, getattr(report, result) + 1)
        finally:
            if smtp is not None:
                await _close(smtp)

    async def _send(self, smtp: aiosmtplib.SMTP | None,
                    mail: Claimed) -> tuple[aiosmtplib.SMTP | None, Outcome]:
        """Sends one mail on the task's connection (opened if needed); after an error the
        connection is dropped and the next mail opens a new one."""
        try:
            if smtp is None or not smtp.is_connected:
                smtp = self._client()
                await smtp.connect()
            sender = parseaddr(self.settings.smtp_from)[1] or self.settings.smtp_from
            await smtp.send_message(build_message(mail, self.settings), sender=sender,
                                    recipients=[mail.to])
            return smtp, Outcome(True)
        except Exception as exc:  # noqa: BLE001 (every failure is recorded on the mail)
            outcome = describe(exc)
            log.info("mail %d not delivered: %s", mail.id, outcome.error)
            if smtp is not None:
                await _close(smtp)
            return None, outcome

    async def _record(self, attempt: Attempt) -> str:
        """Records the attempt before the task goes on. What the other tasks finish while a
        transaction is being written goes into the next one together (a group commit)."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((attempt, future))
        if self._recorder is None or self._recorder.done():
            self._recorder = asyncio.create_task(self._write_pending())
        return await future

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                results = await asyncio.to_thread(
                    record_many, self.engine, [attempt for attempt, _ in batch],
                    worker=self.worker_id,
                    retry_base_seconds=self.settings.mail_retry_base_seconds)
            except Exception as exc:  # noqa: BLE001 (each waiting task raises it)
                for _, future in batch:
                    future.set_exception(exc)
            else:
                for (_, future), result in zip(batch, results, strict=True):
                    future.set_result(result)

    def _client(self) -> aiosmtplib.SMTP:
        s = self.settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host, port=s.smtp_port, username=s.smtp_user or None,
            password=s.smtp_password or None, use_tls=s.smtp_tls,
            start_tls=s.smtp_starttls and not s.smtp_tls, timeout=s.smtp_timeout_seconds)

    async def run(self) -> None:
        """Delivers until ``stop()``: each round drains what is due, then waits for the
        next poll or a wake-up. A failing round (the database away) is logged and retried
        at the next poll."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        service._wakers.append(self.wake)
        listener = (asyncio.create_task(self._listen())
                    if self.engine.dialect.name == "postgresql" else None)
        try:
            while not self.stopping.is_set():
                self._wake.clear()
                try:
                    await self.deliver_due()
                except Exception:
                    log.exception("the mail sender failed; trying again at the next poll")
                if self.stopping.is_set():
                    break
                try:
                    await asyncio.wait_for(self._wake.wait(), self.settings.mail_poll_seconds)
                except TimeoutError:
                    pass
        finally:
            service._wakers.remove(self.wake)
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    async def _listen(self) -> None:
        """On PostgreSQL: wakes ``run()`` whenever a transaction of any process that queued
        mail commits (``service.wake_senders_after_commit``), on a connection of its own
        (named after this sender in ``pg_stat_activity``). A lost connection is opened
        again after ``mail_poll_seconds``; meanwhile the polls go on."""
        url = self.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        while not self.stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                        url, autocommit=True,
                        application_name=f"giaibao-mail {self.worker_id}"[:63]) as conn:
                    await conn.execute(f"LISTEN {service.WAKE_CHANNEL}")
                    self.wake()  # whatever was queued before this listened
                    async for _ in conn.notifies():
                        self.wake()
            except Exception:  # noqa: BLE001 (logged; the polls deliver meanwhile)
                log.warning("the mail sender's LISTEN connection failed; opening it again",
                            exc_info=True)
            await asyncio.sleep(self.settings.mail_poll_seconds)  # cancelled by stop()

    def wake(self) -> None:
        """Thread-safe: makes a waiting ``run()`` look for due mail now."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # the loop has closed: nothing waits any more
                pass

    def stop(self) -> None:
        """Thread-safe: ``run()`` finishes the mails it is sending and returns."""
        self.stopping.set()
        self.wake()


async def _close(smtp: aiosmtplib.SMTP) -> None:
    try:
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), 5)
    except Exception:  # noqa: BLE001 (the connection is dropped either way)
        smtp.close()


def start_in_thread(settings: Settings | None = None) -> Sender:
    """Runs a sender in a daemon thread with its own event loop (``giaibao serve``)."""
    sender = Sender(settings=settings or get_settings())
    thread = threading.Thread(target=lambda: asyncio.run(sender.run()), name="mail-sender",
                              daemon=True)
    thread.start()
    sender.thread = thread  # type: ignore[attr-defined]
    return sender
