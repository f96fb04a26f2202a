"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.cli import migrate
from app.db import make_engine
from tests.conftest import fresh_database_url


def test_migrations_reach_the_models_with_no_difference():
    url = fresh_database_url("migration_check")
    migrate(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                    SQLModel.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {"user", "award", "category", "audit_entry", "web_session", "api_token",
                "login_throttle", "known_address", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_the_throttle_migration_makes_stored_emails_canonical():
    """Addresses stored by the earlier rule (validated, then ``lower()``) are rewritten to the
    canonical form; lower-case ASCII ones are left alone, and an address whose canonical form
    belongs to another account is left as it was rather than joined to it."""
    from alembic import command
    from alembic.config import Config

    from app.cli import ROOT

    url = fresh_database_url("email_migration")
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "9b81362d41fe")
    engine = make_engine(url)
    stored = ["phongvien1@giaibao.vn", "ｐｈｏｎｇｖｉｅｎ２@giaibao.vn", "straße@x.vn",
              "strasse@x.vn", "ﬁle@x.vn", "nguyễn@bücher.example"]
    try:
        with engine.begin() as conn:
            for i, email in enumerate(stored, start=1):
                conn.execute(text(
                    "INSERT INTO \"user\" (id, email, password_hash, role, is_active, full_name, "
                    "created_at) VALUES (:id, :email, 'x', 'journalist', true, 'A', "
                    "'2026-01-01 00:00:00')"), {"id": i, "email": email})
        command.upgrade(config, "head")
        with engine.connect() as conn:
            emails = conn.execute(text('SELECT email FROM "user" ORDER BY id')).scalars().all()
        assert emails == ["phongvien1@giaibao.vn", "phongvien2@giaibao.vn", "straße@x.vn",
                          "strasse@x.vn", "file@x.vn", "nguyễn@bücher.example"]
    finally:
        engine.dispose()


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_the_names_migration_gives_existing_files_their_contents_extension():
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text
    from sqlmodel import Session

    from app.cli import ROOT
    from tests.factories import make_award, make_entry

    url = fresh_database_url("names_migration")
    migrate(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            entry = make_entry(session, make_award(session, status="open"))
            file_id = entry.files[0].id
            session.commit()
        with engine.begin() as conn:  # a name as uploads stored them before the rule
            conn.execute(text("UPDATE entry_file SET filename = :name WHERE id = :id"),
                         {"name": "bao-cao\u202e.hta", "id": file_id})
        config = Config(str(ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(ROOT / "migrations"))
        config.attributes["database_url"] = url
        command.downgrade(config, "fbb61f04d0df")
        command.upgrade(config, "head")
        with engine.connect() as conn:
            names = conn.execute(text("SELECT filename FROM entry_file")).scalars().all()
        assert names == ["bao-cao.pdf"]
    finally:
        engine.dispose()
