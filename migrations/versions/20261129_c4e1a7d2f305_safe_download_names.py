"""safe download names: existing files' names get the extension of their content

Data only: every ``entry_file.filename`` is rewritten with ``app.storage.download_name`` (the
one rule for names, applied to new uploads by ``entries.files.attach_file``): control and
format characters (bidi tricks) removed, and the extension of the kind the content was judged
to be. The rule is idempotent, so running it on names already right changes nothing.

Revision ID: c4e1a7d2f305
Revises: fbb61f04d0df
Create Date: 2026-11-29 09:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.storage import download_name

revision: str = 'c4e1a7d2f305'
down_revision: str | None = 'fbb61f04d0df'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

entry_file = sa.table("entry_file", sa.column("id", sa.Integer),
                      sa.column("filename", sa.String), sa.column("content_type", sa.String))


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(entry_file.c.id, entry_file.c.filename,
                                  entry_file.c.content_type)).all()
    for row in rows:
        name = download_name(row.filename, row.content_type)
        if name != row.filename:
            conn.execute(entry_file.update().where(entry_file.c.id == row.id)
                         .values(filename=name))


def downgrade() -> None:
    pass  # the names as sent were not kept; the corrected names stay
