"""Behaviour under real concurrency, on real commits (a fresh database, not the rolled-back
test transaction)."""

import threading
from datetime import UTC, datetime

from sqlmodel import Session, col, select

import app.models  # noqa: F401
from app.accounts.models import User
from app.entries import queries as entry_queries
from app.entries import writes as entry_writes
from app.entries.models import Entry, EntryAuthor
from app.errors import Conflict
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
                entry_writes.submit_entry(session, entry_queries.get_entry(session, entry_id, viewer=user),
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



def _in_parallel(n: int, work) -> tuple[int, list[BaseException]]:
    """Runs ``work(i)`` in n threads released together; (successes, refusals)."""
    barrier = threading.Barrier(n)
    done: list[int] = []
    refused: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
            done.append(i)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            refused.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(done), refused


def test_parallel_submissions_of_one_co_author_cannot_pass_their_limit(real_engine):
    """A verified co-author may have two entries and has one submitted; seven journalists
    listed her on their drafts (drafts do not count for her) and submit them all at once.
    Exactly one of the seven passes."""
    with Session(real_engine) as session:
        award = make_award(session, status="open", categories=1, max_entries_per_author=2)
        hoa = make_user(session, email="hoa@example.vn", full_name="Lê Thị Hoa")
        make_entry(session, award, user=hoa, status="submitted")
        drafts = [make_entry(session, award, title=f"Bai {i}",
                             co_authors=[{"full_name": "Lê Thị Hoa", "email": "hoa@example.vn"}])
                  for i in range(7)]
        plan = [(d.id, d.submitter_id) for d in drafts]
        hoa_id = hoa.id
        session.commit()

    def submit(i: int) -> None:
        entry_id, submitter_id = plan[i]
        with Session(real_engine) as session:
            entry_writes.submit_entry(session, session.get(Entry, entry_id),
                                 user=session.get(User, submitter_id), now=datetime.now(UTC))
            session.commit()

    submitted, refused = _in_parallel(7, submit)
    assert (submitted, len(refused)) == (1, 6)
    assert all(isinstance(e, Conflict) for e in refused), refused
    with Session(real_engine) as session:
        counted = session.exec(select(Entry.id).join(EntryAuthor).where(
            EntryAuthor.user_id == hoa_id, Entry.status != "draft")).all()
    assert len(counted) == 2


def test_parallel_submissions_sharing_a_co_author_all_pass_within_the_limit(real_engine):
    """Locks taken in id order: submissions that share a co-author wait for each other
    instead of deadlocking, and each gets its code."""
    with Session(real_engine) as session:
        award = make_award(session, status="open", categories=1, max_entries_per_author=4)
        make_user(session, email="hoa@example.vn")
        ids = [make_entry(session, award, title=f"Bai {i}",
                          co_authors=[{"full_name": "Lê Thị Hoa",
                                       "email": "hoa@example.vn"}]).id for i in range(4)]
        session.commit()

    def submit(i: int) -> None:
        with Session(real_engine) as session:
            user = session.get(User, session.get(Entry, ids[i]).submitter_id)
            entry_writes.submit_entry(session, entry_queries.get_entry(session, ids[i], viewer=user),
                                 user=user, now=datetime.now(UTC))
            session.commit()

    submitted, refused = _in_parallel(4, submit)
    assert (submitted, refused) == (4, [])
    with Session(real_engine) as session:
        codes = sorted(session.exec(select(Entry.code).where(col(Entry.id).in_(ids))).all())
    assert codes == ["C1-001", "C1-002", "C1-003", "C1-004"]
