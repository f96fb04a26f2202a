"""Alembic environment: the database URL comes from the app's settings, never this file."""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app.db import get_engine, make_engine

target_metadata = SQLModel.metadata
config = context.config

# Several processes started at once (N `giaibao serve` behind a proxy) each migrate first: on
# PostgreSQL they take this advisory lock in turn, so that the first upgrades and the others
# then find the schema at its head (without it, all but one failed on a fresh database
# creating the same tables). SQLite's write lock already serialises them.
MIGRATION_LOCK = 0x67696169_6261_6f  # "giaibao"


def run_migrations() -> None:
    url = config.attributes.get("database_url")
    engine = make_engine(url) if url else get_engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild SQLite tables; with foreign keys enforced, rebuilding a
            # table others point at fails. Off for the migration (outside any transaction, or
            # SQLite ignores it), and the result checked before the connection is returned.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})
            context.run_migrations()
        if sqlite:
            raw = connection.connection.driver_connection
            broken = raw.execute("PRAGMA foreign_key_check").fetchall()
            raw.execute("PRAGMA foreign_keys=ON")
            if broken:
                raise RuntimeError(f"the migration left rows with broken references: {broken}")


run_migrations()
