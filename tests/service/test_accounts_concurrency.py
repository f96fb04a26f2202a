"""Registration and sign-in under real concurrency, on real commits (a fresh database)."""

import threading
from datetime import UTC, datetime

from sqlmodel import Session, func, select

import app.models  # noqa: F401
from app.accounts import service
from app.accounts.models import User, UserRegister
from app.db import request_scope
from app.errors import Conflict, NotAuthenticated, TooManyAttempts
from tests.factories import make_user

NOW = datetime(2026, 11, 1, 9, tzinfo=UTC)
THREADS = 8


def _in_parallel(engine, work, count: int = THREADS) -> list:
    """Runs ``work(session, i)`` in ``count`` threads released together, each in its own
    session committed like a request (request_scope); returns each outcome or exception."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def run(i: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            scope = request_scope(session)
            next(scope)
            barrier.wait()
            try:
                outcomes[i] = work(session, i)
            except Exception as exc:  # noqa: BLE001 (returned to the test)
                outcomes[i] = exc
                try:
                    scope.throw(exc)
                except Exception:  # noqa: BLE001 (already recorded)
                    pass
                return
            try:
                next(scope)
            except StopIteration:
                pass

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_parallel_registrations_of_one_email_make_one_account(real_engine):
    def register(session, i):
        # Look-alike forms of one address, as different people would type it.
        email = ["phongvien1@giaibao.vn", "PhongVien1@GiaiBao.VN",
                 "ｐｈｏｎｇｖｉｅｎ１＠ｇｉａｉｂａｏ．ｖｎ"][i % 3]
        return service.register(session, UserRegister(email=email, password="mat-khau-an-toan",
                                                      full_name=f"Tác giả {i}"),
                                now=NOW).id

    outcomes = _in_parallel(real_engine, register)
    ids = [o for o in outcomes if isinstance(o, int)]
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    assert (len(ids), len(conflicts)) == (1, THREADS - 1), outcomes
    assert {c.message for c in conflicts} == {"An account with this e-mail already exists."}
    with Session(real_engine) as session:
        assert session.exec(select(func.count()).select_from(User)).one() == 1


def test_parallel_wrong_passwords_get_exactly_the_limit_of_401s(real_engine):
    with Session(real_engine) as session:
        make_user(session, email="a@example.vn")
        session.commit()

    def attempt(session, i):
        return service.authenticate(session, email="a@example.vn", password=f"sai-{i}",
                                    address="10.0.0.1", now=NOW)

    outcomes = _in_parallel(real_engine, attempt, count=12)
    kinds = sorted(type(o).__name__ for o in outcomes)
    assert kinds == ["NotAuthenticated"] * 5 + ["TooManyAttempts"] * 7
    assert all(isinstance(o, (NotAuthenticated, TooManyAttempts)) for o in outcomes)
