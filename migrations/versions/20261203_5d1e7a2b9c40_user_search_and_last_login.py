"""user: searchable folded text, last sign-in

Revision ID: 5d1e7a2b9c40
Revises: e3dcbfddcc88
Create Date: 2026-11-29 01:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db
from app.text import fold

revision: str = '5d1e7a2b9c40'
down_revision: str | None = 'e3dcbfddcc88'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_login_at', app.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='',
                                      nullable=False))
    # Existing accounts become searchable at once (the app keeps the column up to date).
    users = sa.table('user', sa.column('id', sa.Integer), sa.column('full_name', sa.String),
                     sa.column('pen_name', sa.String), sa.column('email', sa.String),
                     sa.column('search_text', sa.Text))
    connection = op.get_bind()
    rows = connection.execute(sa.select(users.c.id, users.c.full_name, users.c.pen_name,
                                        users.c.email)).all()
    for row in rows:
        text = fold(" ".join(v for v in (row.full_name, row.pen_name, row.email) if v))
        connection.execute(users.update().where(users.c.id == row.id)
                           .values(search_text=text))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('search_text')
        batch_op.drop_column('last_login_at')
