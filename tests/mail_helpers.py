"""Mails for the outbox tests, written through the real ``queue`` (templates rendered)."""

import asyncio
from datetime import UTC, datetime

from app.config import get_settings
from app.mail import service
from app.mail.models import Mail
from app.mail.worker import Sender
from tests.factories import make_user


def queue_mail(session, *, user=None, secret: bool = False, now: datetime | None = None,
               **fields) -> Mail:
    """A verification mail to ``user`` (a new journalist if none), with a secret link;
    ``fields`` then set on the row (``status``, ``last_error`` …)."""
    user = user or make_user(session, full_name="Trần Thị Bình")
    now = now or datetime.now(UTC)
    mail = service.queue_for_user(
        session, user, template="verify_email", now=now, secret=secret,
        context={"url": service.link("/verify", token="bi-mat-123"), "hours": 48})
    for name, value in fields.items():
        setattr(mail, name, value)
    session.flush()
    return mail


def sender_for(sink=None, **overrides) -> Sender:
    """A sender of the test database pointed at ``sink`` (or at nothing with ``smtp_port``)."""
    values = {**(sink.settings() if sink else {}), **overrides}
    return Sender(settings=get_settings().model_copy(update=values))


def deliver(sender: Sender):
    """Runs ``deliver_due`` on an event loop of its own, in a thread of its own: the browser
    tests' Playwright keeps a loop running in the main thread for the whole session."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, sender.deliver_due()).result()
