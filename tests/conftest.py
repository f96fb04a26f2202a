"""Test set-up: one database per run; every test's rows are really committed and the tables
are emptied after it.

Requests made through ``client`` run exactly as in production: each opens its own database
session with ``get_session`` and commits or rolls back at its end, so an object used after
its session has closed fails a test as it would fail a user. The test's own ``session``
(factories, assertions) is committed before every request and expired after it, so the
request sees what the test made and the test sees what the request did.

``GIAIBAO_TEST_DATABASE_URL`` selects PostgreSQL; otherwise a SQLite file in a temp dir.
"""

import os
import re
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="giaibao-tests-"))
TEST_DATABASE_URL = os.environ.get("GIAIBAO_TEST_DATABASE_URL") or f"sqlite:///{_TMP}/test.db"
os.environ["GIAIBAO_ENV"] = "test"
os.environ["GIAIBAO_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["GIAIBAO_UPLOAD_DIR"] = str(_TMP / "uploads")

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import app.models  # noqa: E402,F401
from sqlalchemy import text  # noqa: E402

from app.db import get_engine  # noqa: E402
from app.main import app as fastapi_app  # noqa: E402


@pytest.fixture(scope="session")
def engine():
    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()
    SQLModel.metadata.drop_all(engine)


def empty_tables(engine) -> None:
    from app.results.queries import forget_closed_rankings

    forget_closed_rankings()  # ids start again: a kept ranking must not outlive its rows
    tables = SQLModel.metadata.sorted_tables
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            for table in reversed(tables):
                # A row pointing at another of its table (a round taking an earlier round's
                # shortlist, ON DELETE RESTRICT) is checked row by row: unlink them first.
                own = {c.name: None for c in table.columns if c.nullable and any(
                    fk.column.table is table for fk in c.foreign_keys)}
                if own:
                    conn.execute(table.update().values(own))
                conn.execute(table.delete())
            conn.exec_driver_sql("COMMIT")


@pytest.fixture
def session(engine):
    # Deferred BEGIN on SQLite: the test's reads never hold the write lock that a request
    # (run by the app in its own session) needs.
    db = Session(engine.execution_options(deferred=True), expire_on_commit=False)
    try:
        yield db
    finally:
        db.rollback()
        db.close()
        empty_tables(engine)


@pytest.fixture
def real_engine(request):
    """An engine on an empty database of its own (named after the test module), for tests
    whose threads each commit in their own session."""
    from app.db import make_engine

    engine = make_engine(fresh_database_url(request.module.__name__.rsplit(".", 1)[-1]))
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


class RequestClient(TestClient):
    """A TestClient beside the test's session: commits it before each request (the request
    runs in its own session, as in production) and expires it after, so that what the
    request changed is read afresh."""

    def __init__(self, app, db: Session, **kwargs):
        super().__init__(app, **kwargs)
        self._db = db

    def send(self, *args, **kwargs):
        self._db.commit()
        try:
            return super().send(*args, **kwargs)
        finally:
            self._db.expire_all()


@pytest.fixture
def client(session):
    with RequestClient(fastapi_app, session) as test_client:
        yield test_client


TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


@pytest.fixture
def queries(engine):
    """Counts the SQL statements run inside a ``with queries:`` block."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        def _listen(self, conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
                self.statements.append(statement)

        def __enter__(self):
            self.statements.clear()
            event.listen(engine, "before_cursor_execute", self._listen)
            return self

        def __exit__(self, *exc):
            event.remove(engine, "before_cursor_execute", self._listen)

        @property
        def count(self) -> int:
            return len(self.statements)

    return Counter()


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def fresh_database_url(name: str) -> str:
    """An empty database of the same kind as the test database, for tests that need real
    commits or a real migration: a new SQLite file, or a new PostgreSQL schema."""
    if TEST_DATABASE_URL.startswith("sqlite"):
        path = _TMP / f"{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    from sqlalchemy import text

    from app.db import make_engine

    admin = make_engine(TEST_DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    admin.dispose()
    separator = "&" if "?" in TEST_DATABASE_URL else "?"
    return f"{TEST_DATABASE_URL}{separator}options=-csearch_path%3D{name}"


@pytest.fixture
def smtp_sink():
    """A real SMTP server (aiosmtpd) on a free port, keeping every message it receives."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 HTTP server (moto's server mode) for the whole run, started on first use."""
    from tests.s3_server import S3Server

    with S3Server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def storage_backend(request, monkeypatch):
    """Runs a test on each storage backend: the local folder (the run's upload folder) and
    an S3 store (a fresh bucket on the run's moto server). List it before the fixtures
    that store files (``world``…). Yields the backend's name."""
    if request.param == "s3":
        from app.config import get_settings

        server = request.getfixturevalue("s3_server")
        settings = get_settings()
        for name, value in server.settings(server.new_bucket()).items():
            monkeypatch.setattr(settings, name, value)
    yield request.param
