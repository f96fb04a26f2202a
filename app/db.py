"""Engine, table conventions and the per-request session.

The session commits at the request boundary: services only flush. Times are stored as UTC
and always come back timezone-aware, whatever the database does with them.
"""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import DateTime, event
from starlette.requests import Request
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from app.config import get_settings

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Row ids fit a 32-bit integer column (PostgreSQL refuses larger numbers with an error):
# larger ones are refused (422) before any query, in paths, queries and bodies alike.
MAX_ID = 2_147_483_647


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored as naive UTC and returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    kwargs: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    elif url.startswith("postgresql://"):
        url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        writers = _SqliteWriters()
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "commit", writers.end)
        event.listen(engine, "rollback", writers.end)
    return engine


class _SqliteWriters:
    """pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; take control.

    IMMEDIATE takes SQLite's write lock at the start, so that concurrent writers queue
    (busy_timeout) instead of failing when a read transaction tries to become a write one.
    Transactions are short: uploads end theirs before streaming.

    The writers of this process first queue on a lock of their own: SQLite's busy handler
    polls with growing sleeps (up to 100 ms), so that under a few dozen concurrent writers
    some waited seconds while newcomers went first (p99 of score saves above 10 s); a
    waiter on this lock is woken the moment the writer before it commits. After
    ``SQLITE_WRITER_WAIT`` seconds a waiter goes on to SQLite's own queue (busy_timeout), so
    a writer that never ends cannot block this process for good.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn) -> None:
        options = conn.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        # Reads (GET requests) never need the write lock: in WAL mode they see a snapshot
        # and neither wait for writers nor make them wait.
        if options.get("read_only") or options.get("deferred"):
            conn.exec_driver_sql("BEGIN")
            return
        conn.info["sqlite_writer"] = self._lock.acquire(timeout=SQLITE_WRITER_WAIT)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn) -> None:
        if conn.info.pop("sqlite_writer", False):
            self._lock.release()


SQLITE_WRITER_WAIT = 30


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    if ":memory:" not in str(getattr(dbapi_connection, "filename", "")):
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_read_engine() -> Engine:
    """The same engine, marked for requests that only read (see _SqliteWriters)."""
    return get_engine().execution_options(read_only=True)


def analyze(engine: Engine | None = None) -> bool:
    """Refreshes PostgreSQL's planner statistics (``ANALYZE``): after a migration or a bulk
    load, so that no query plan hinges on statistics taken before the rows arrived.
    Returns whether it ran (SQLite: nothing to do, its plans follow the indexes)."""
    from sqlalchemy import text

    engine = engine or get_engine()
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    return True


def request_scope(session: Session) -> Iterator[Session]:
    """The request's unit of work: commit if the handler returned, roll back if it raised.

    A domain error raised with ``keep_changes`` (a failed login that must be counted) still
    commits what was flushed before it.
    """
    try:
        yield session
    except Exception as exc:
        if getattr(exc, "keep_changes", False):
            session.commit()
        else:
            session.rollback()
        raise
    else:
        session.commit()


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_session(request: Request) -> Iterator[Session]:
    engine = get_read_engine() if request.method in SAFE_METHODS else get_engine()
    with Session(engine, expire_on_commit=False) as session:
        yield from request_scope(session)


def flush_unique(session: Session, conflict: Exception) -> None:
    """Flushes pending rows inside a SAVEPOINT; a unique constraint violated by a concurrent
    request (which passed the same check a moment before) raises ``conflict`` (a 409)
    instead of an IntegrityError, and leaves the request's session usable."""
    from sqlalchemy.exc import IntegrityError

    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise conflict from None


def after_commit(session: Session, action) -> None:
    """Run ``action`` once the session's transaction has committed (e.g. delete a file
    whose row was deleted); dropped if it rolls back."""
    session.info.setdefault("after_commit", []).append(action)


def after_rollback(session: Session, action) -> None:
    """Run ``action`` if the session's transaction rolls back (e.g. delete a stored file
    whose row will never exist); dropped if it commits."""
    session.info.setdefault("after_rollback", []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session) -> None:
    session.info.pop("after_rollback", None)
    for action in session.info.pop("after_commit", []):
        action()


@event.listens_for(Session, "after_soft_rollback")
def _run_after_rollback(session, previous_transaction) -> None:
    session.info.pop("after_commit", None)
    for action in session.info.pop("after_rollback", []):
        action()
