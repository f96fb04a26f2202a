import pytest
from pydantic import ValidationError
from sqlalchemy import text

from app.config import DEV_SECRET, Settings
from app.db import make_engine


def test_production_refuses_the_default_secret():
    with pytest.raises(ValidationError) as err:
        Settings(env="production", secret_key=DEV_SECRET)
    assert "GIAIBAO_SECRET_KEY" in str(err.value)


def test_production_accepts_a_private_secret():
    settings = Settings(env="production", secret_key="a-long-private-value")
    assert settings.is_dev is False


def test_settings_read_the_giaibao_prefix(monkeypatch):
    monkeypatch.setenv("GIAIBAO_UPLOAD_DIR", "/srv/giaibao/uploads")
    monkeypatch.setenv("GIAIBAO_DATABASE_URL", "postgresql://u@db/giaibao")
    settings = Settings()
    assert (str(settings.upload_dir), settings.database_url) == (
        "/srv/giaibao/uploads", "postgresql://u@db/giaibao")


def test_sqlite_runs_with_foreign_keys_and_wal(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_postgresql_urls_use_psycopg3():
    engine = make_engine("postgresql://postgres@127.0.0.1:5432/test")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path):
    import time

    engine = make_engine(f"sqlite:///{tmp_path}/locks.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    writer = engine.connect()
    writer.begin()  # BEGIN IMMEDIATE: holds the write lock
    writer.execute(text("UPDATE t SET x = 2"))
    reader_engine = engine.execution_options(read_only=True)
    start = time.perf_counter()
    with reader_engine.connect() as reader:
        assert reader.execute(text("SELECT x FROM t")).scalar() == 1
    assert time.perf_counter() - start < 1.0
    writer.rollback()
    writer.close()
    engine.dispose()
