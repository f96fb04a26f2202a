"""Test set-up: one database per run, each test inside a transaction that is rolled back.

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
from app.db import get_engine, get_session, request_scope  # noqa: E402
from app.deps import read_sessions  # noqa: E402
from app.main import app as fastapi_app  # noqa: E402


@pytest.fixture(scope="session")
def engine():
    engine = get_engine()
    SQLModel.metadata.drop_all(engine)
    SQLModel.metadata.create_all(engine)
    yield engine
    SQLModel.metadata.drop_all(engine)


@pytest.fixture
def session(engine):
    connection = engine.connect()
    transaction = connection.begin()
    db = Session(bind=connection, join_transaction_mode="create_savepoint",
                 expire_on_commit=False)
    try:
        yield db
    finally:
        db.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def client(session):
    def override():
        yield from request_scope(session)

    fastapi_app.dependency_overrides[get_session] = override
    # Sessions opened after the handler (a streamed export's) read the test's transaction.
    fastapi_app.dependency_overrides[read_sessions] = lambda: lambda: Session(
        bind=session.get_bind(), join_transaction_mode="create_savepoint",
        expire_on_commit=False)
    with TestClient(fastapi_app) as test_client:
        yield test_client
    fastapi_app.dependency_overrides.clear()


@pytest.fixture
def queries(engine):
    """Counts the SQL statements run inside a ``with queries:`` block."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        def _listen(self, conn, cursor, statement, *args):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
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
