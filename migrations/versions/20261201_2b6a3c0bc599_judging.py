"""judging: rounds, rubrics, panels, assignments, scores

Revision ID: 2b6a3c0bc599
Revises: 91ad187899dc
Create Date: 2026-11-28 19:15:48.920613
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = '2b6a3c0bc599'
down_revision: str | None = '91ad187899dc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('award_id', sa.Integer(), nullable=False),
    sa.Column('source_round_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('judges_per_entry', sa.Integer(), nullable=False),
    sa.Column('blind', sa.Boolean(), nullable=False),
    sa.Column('aggregation', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('exclude_same_outlet', sa.Boolean(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('close_reason', sa.Text(), nullable=True),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('started_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('closed_at', app.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['award_id'], ['award.id'], name=op.f('fk_round_award_id_award'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['source_round_id'], ['round.id'], name=op.f('fk_round_source_round_id_round'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round'))
    )
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_round_award_id'), ['award_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_round_status'), ['status'], unique=False)

    op.create_table('criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('max_points', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_criterion_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion'))
    )
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_criterion_round_id'), ['round_id'], unique=False)

    op.create_table('panel_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('reminded_at', app.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['judge_id'], ['user.id'], name=op.f('fk_panel_member_judge_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_panel_member_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_member')),
    sa.UniqueConstraint('round_id', 'judge_id', name='uq_panel_member')
    )
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_member_judge_id'), ['judge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_member_round_id'), ['round_id'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('conflict_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('conflict_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_assignment_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['user.id'], name=op.f('fk_assignment_judge_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_assignment_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('round_id', 'entry_id', 'judge_id', name='uq_assignment')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_judge_id'), ['judge_id'], unique=False)
        batch_op.create_index('ix_assignment_round_judge', ['round_id', 'judge_id'], unique=False)

    op.create_table('panel_category',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_panel_category_category_id_category'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['panel_member.id'], name=op.f('fk_panel_category_member_id_panel_member'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'category_id', name=op.f('pk_panel_category'))
    )
    with op.batch_alter_table('panel_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_category_category_id'), ['category_id'], unique=False)

    op.create_table('shortlist_entry',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_shortlist_entry_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_shortlist_entry_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'entry_id', name=op.f('pk_shortlist_entry'))
    )
    with op.batch_alter_table('shortlist_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shortlist_entry_entry_id'), ['entry_id'], unique=False)

    op.create_table('score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('judge_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('final', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], name=op.f('fk_score_assignment_id_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entry.id'], name=op.f('fk_score_entry_id_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['judge_id'], ['user.id'], name=op.f('fk_score_judge_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_score_round_id_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_score_assignment_id'))
    )
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_judge_id'), ['judge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_round_id'), ['round_id'], unique=False)

    op.create_table('score_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('score_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=False),
    sa.Column('at', app.db.UTCDateTime(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_score_change_actor_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['score_id'], ['score.id'], name=op.f('fk_score_change_score_id_score'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_change'))
    )
    with op.batch_alter_table('score_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_change_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_change_score_id'), ['score_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('score_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_change_score_id'))
        batch_op.drop_index(batch_op.f('ix_score_change_actor_id'))

    op.drop_table('score_change')
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_round_id'))
        batch_op.drop_index(batch_op.f('ix_score_judge_id'))
        batch_op.drop_index(batch_op.f('ix_score_entry_id'))

    op.drop_table('score')
    with op.batch_alter_table('shortlist_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shortlist_entry_entry_id'))

    op.drop_table('shortlist_entry')
    with op.batch_alter_table('panel_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_category_category_id'))

    op.drop_table('panel_category')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_round_judge')
        batch_op.drop_index(batch_op.f('ix_assignment_judge_id'))
        batch_op.drop_index(batch_op.f('ix_assignment_entry_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_member_round_id'))
        batch_op.drop_index(batch_op.f('ix_panel_member_judge_id'))

    op.drop_table('panel_member')
    with op.batch_alter_table('criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_criterion_round_id'))

    op.drop_table('criterion')
    with op.batch_alter_table('round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_round_status'))
        batch_op.drop_index(batch_op.f('ix_round_award_id'))

    op.drop_table('round')

