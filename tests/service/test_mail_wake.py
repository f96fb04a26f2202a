"""Mail senders of other processes are woken by PostgreSQL's NOTIFY: once per transaction
that queued mail, at its commit, and never for one that rolled back. Notifications arrive in
commit order, so a sentinel committed afterwards marks the end of what there is to see."""

import psycopg
import pytest
from sqlalchemy import text

from app.db import get_engine
from app.mail import service
from tests.conftest import TEST_DATABASE_URL
from tests.mail_helpers import queue_mail

pytestmark = pytest.mark.skipif(not TEST_DATABASE_URL.startswith("postgresql"),
                                reason="NOTIFY/LISTEN is PostgreSQL's; on SQLite other "
                                       "processes' senders find mail at their next poll")


@pytest.fixture
def listener(engine):
    url = get_engine().url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"LISTEN {service.WAKE_CHANNEL}")
        yield connection


def _heard(listener, session) -> list[str]:
    """The payloads heard up to a sentinel committed now."""
    session.execute(text("SELECT pg_notify(:channel, 'end')"),
                    {"channel": service.WAKE_CHANNEL})
    session.commit()
    heard = []
    for notification in listener.notifies(timeout=30):
        if notification.payload == "end":
            return heard
        heard.append(notification.payload)
    raise AssertionError(f"the sentinel never came (heard {heard})")


def test_a_commit_that_queued_mails_notifies_once(listener, session):
    queue_mail(session)
    queue_mail(session)
    assert session.info["after_commit"].count(service.wake_sender) == 1
    session.commit()
    assert _heard(listener, session) == [""]


def test_a_rolled_back_transaction_notifies_nobody(listener, session):
    queue_mail(session)
    session.rollback()
    assert _heard(listener, session) == []
