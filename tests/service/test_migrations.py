"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
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
                "login_failure", "alembic_version"} <= tables
    finally:
        engine.dispose()


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
