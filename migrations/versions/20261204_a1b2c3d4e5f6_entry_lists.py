"""entry: list indexes per sort and filter; entry_count: totals per (award, category, status)

Revision ID: a1b2c3d4e5f6
Revises: 5d1e7a2b9c40
Create Date: 2026-11-29 05:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a1b2c3d4e5f6'
down_revision: str | None = '5d1e7a2b9c40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_KEYS = {"author": "author_sort", "title": "title_sort", "newest": "created_at"}


def _indexes() -> list[tuple[str, list[str]]]:
    found = [("ix_entry_list_code", ["award_id", "category_id", "code", "id"]),
             ("ix_entry_list_status_code", ["award_id", "status", "category_id", "code", "id"])]
    for sort, key in SORT_KEYS.items():
        found += [
            (f"ix_entry_list_{sort}", ["award_id", key, "id"]),
            (f"ix_entry_list_status_{sort}", ["award_id", "status", key, "id"]),
            (f"ix_entry_list_category_{sort}", ["award_id", "category_id", key, "id"]),
            (f"ix_entry_list_status_category_{sort}",
             ["award_id", "status", "category_id", key, "id"]),
        ]
    return found


def upgrade() -> None:
    for name, columns in _indexes():
        op.create_index(name, 'entry', columns, unique=False)
    op.create_table(
        'entry_count',
        sa.Column('award_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['award_id'], ['award.id'],
                                name=op.f('fk_entry_count_award_id_award'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['category.id'],
                                name=op.f('fk_entry_count_category_id_category'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('award_id', 'category_id', 'status',
                                name=op.f('pk_entry_count')),
    )
    # The existing entries, counted once; from now on the app keeps the counts.
    op.execute("INSERT INTO entry_count (award_id, category_id, status, n) "
               "SELECT award_id, category_id, status, count(*) FROM entry "
               "GROUP BY award_id, category_id, status")


def downgrade() -> None:
    op.drop_table('entry_count')
    for name, _columns in reversed(_indexes()):
        op.drop_index(name, table_name='entry')
