"""Behaviour under real concurrency, on real commits (a fresh database, not the rolled-back
test transaction)."""

import threading
from datetime import UTC, datetime

from sqlmodel import Session, select

import app.models  # noqa: F401
from app.accounts.models import User
from app.entries import service
from app.entries.models import Entry
from tests.factories import make_award, make_entry, make_user


def test_twenty_parallel_submits_get_twenty_distinct_codes(real_engine):
    with Session(real_engine) as session:
        award = make_award(session, status="open", categories=1, max_entries_per_author=1)
        ids = []
        for i in range(20):
            entry = make_entry(session, award, user=make_user(session), title=f"Bai {i}")
            ids.append(entry.id)
        session.commit()

    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def submit(entry_id: int) -> None:
        try:
            barrier.wait()
            with Session(real_engine) as session:
                entry = session.get(Entry, entry_id)
                user = session.get(User, entry.submitter_id)
                service.submit_entry(session, service.get_entry(session, entry_id, viewer=user),
                                     user=user, now=datetime.now(UTC))
                session.commit()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(real_engine) as session:
        codes = sorted(session.exec(select(Entry.code).where(Entry.id.in_(ids))).all())
    assert codes == [f"C1-{n:03d}" for n in range(1, 21)]
