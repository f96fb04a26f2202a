"""Behaviour under real concurrency, on real commits (a fresh database, not the rolled-back
test transaction)."""

import threading
from datetime import UTC, date, datetime

from sqlmodel import Session, col, select

import app.models  # noqa: F401
from app.accounts.models import User
from app.awards import service as awards
from app.awards.models import Award
from app.entries import service
from app.entries.models import CoAuthorIn, Entry, EntryAuthor, EntryCreate
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


def test_parallel_entries_of_one_co_author_cannot_pass_their_limit(real_engine):
    """A verified co-author may have two entries and has one: she creates another while
    seven journalists list her on theirs, all at once. Exactly one of the eight passes."""
    with Session(real_engine) as session:
        award = make_award(session, status="open", categories=1, max_entries_per_author=2)
        hoa = make_user(session, email="hoa@example.vn", full_name="Lê Thị Hoa")
        make_entry(session, award, user=hoa)
        people = [hoa.id] + [make_user(session).id for _ in range(7)]
        award_id, hoa_id = award.id, hoa.id
        category_id = awards.list_categories(session, award)[0].id
        session.commit()

    def create(i: int) -> None:
        with Session(real_engine) as session:
            co_authors = [] if i == 0 else [CoAuthorIn(full_name="Lê Thị Hoa",
                                                      email="hoa@example.vn")]
            service.create_entry(
                session, session.get(Award, award_id),
                EntryCreate(category_id=category_id, title=f"Bài {i}", outlet="Báo Ninh Thuận",
                            published_on=date(2026, 3, 15), co_authors=co_authors),
                user=session.get(User, people[i]), now=datetime.now(UTC))
            session.commit()

    created, refused = _in_parallel(8, create)
    assert (created, len(refused)) == (1, 7)
    assert all(isinstance(e, Conflict) for e in refused), refused
    with Session(real_engine) as session:
        counted = session.exec(select(Entry.id).join(EntryAuthor).where(
            EntryAuthor.user_id == hoa_id)).all()
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
            service.submit_entry(session, service.get_entry(session, ids[i], viewer=user),
                                 user=user, now=datetime.now(UTC))
            session.commit()

    submitted, refused = _in_parallel(4, submit)
    assert (submitted, refused) == (4, [])
    with Session(real_engine) as session:
        codes = sorted(session.exec(select(Entry.code).where(col(Entry.id).in_(ids))).all())
    assert codes == ["C1-001", "C1-002", "C1-003", "C1-004"]
