"""SQLite writers of one process queue on a lock of their own (app.db._SqliteWriters): the
next is let in when the one before commits or rolls back, and reads never wait."""

import threading
import time

from app.db import make_engine


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/writers.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    return engine


def test_a_writer_waits_for_the_one_before_and_enters_when_it_commits(tmp_path):
    engine = _engine(tmp_path)
    events: list[str] = []
    first = engine.connect()
    first.begin()
    first.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert first.info["sqlite_writer"] is True

    def second():
        with engine.begin() as conn:
            events.append("second in")
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")

    thread = threading.Thread(target=second)
    thread.start()
    time.sleep(0.3)
    # A reader meanwhile is not held up (deferred BEGIN, WAL snapshot).
    with engine.execution_options(read_only=True).connect() as reader:
        assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    events.append("first commits")
    first.commit()
    first.close()
    thread.join(10)
    assert events == ["first commits", "second in"]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    engine.dispose()


def test_a_rollback_lets_the_next_writer_in(tmp_path):
    engine = _engine(tmp_path)
    conn = engine.connect()
    conn.begin()
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    conn.rollback()
    assert "sqlite_writer" not in conn.info
    conn.close()
    start = time.perf_counter()
    with engine.begin() as other:
        other.exec_driver_sql("INSERT INTO t VALUES (2)")
    assert time.perf_counter() - start < 1
    engine.dispose()
