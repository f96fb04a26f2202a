"""Alembic environment: the database URL comes from the app's settings, never this file."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app.db import get_engine, make_engine

target_metadata = SQLModel.metadata
config = context.config


def run_migrations() -> None:
    url = config.attributes.get("database_url")
    engine = make_engine(url) if url else get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
