"""login throttle counters, known addresses, canonical e-mails

Replaces the one-row-per-failure ``login_failure`` table (its rows only throttle for 15
minutes, so nothing worth keeping is lost) by one counter row per key (``login_throttle``)
and the addresses each account signed in from (``known_address``), and rewrites stored
e-mails into their canonical form (NFKC and case folding, as app.accounts.rules does now).

Revision ID: fbb61f04d0df
Revises: 9b81362d41fe
Create Date: 2026-11-28 13:57:40.895750
"""
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from email_validator import EmailNotValidError, validate_email

import app.db

revision: str = 'fbb61f04d0df'
down_revision: str | None = '9b81362d41fe'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def canonical_email(stored: str) -> str:
    """The canonical form of a stored address (frozen copy of rules.normalize_email, which
    may change later; an address it refuses keeps its folded form)."""
    folded = _fold(stored.strip())
    try:
        return _fold(validate_email(folded, check_deliverability=False).normalized)
    except EmailNotValidError:
        return folded


def _canonicalise_emails() -> None:
    """Rewrite e-mails whose canonical form differs (lower-case ASCII ones do not). An account
    whose canonical form another account already has is left as it was and named in the
    output, for the organizer to merge by hand; no two accounts are silently joined."""
    conn = op.get_bind()
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("email", sa.String))
    rows = conn.execute(sa.select(user.c.id, user.c.email).order_by(user.c.id)).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        canonical = canonical_email(email)
        if canonical == email:
            continue
        if canonical in taken:
            print(f"user {user_id}: {email!r} not rewritten, {canonical!r} is another account")
            continue
        conn.execute(sa.update(user).where(user.c.id == user_id).values(email=canonical))
        taken.discard(email)
        taken.add(canonical)
    author = sa.table("entry_author", sa.column("id", sa.Integer),
                      sa.column("email", sa.String))
    rows = conn.execute(sa.select(author.c.id, author.c.email)
                        .where(author.c.email.is_not(None))).all()
    for author_id, email in rows:
        canonical = canonical_email(email)
        if canonical != email:
            conn.execute(sa.update(author).where(author.c.id == author_id)
                         .values(email=canonical))


def upgrade() -> None:
    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('first_at', app.db.UTCDateTime(), nullable=True),
    sa.Column('last_at', app.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_login_throttle_scope'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_last_at'), ['last_at'], unique=False)

    op.create_table('known_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_login_at', app.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_known_address_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_address')),
    sa.UniqueConstraint('user_id', 'address', name=op.f('uq_known_address_user_id'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failure_kind_key_at')

    op.drop_table('login_failure')

    _canonicalise_emails()


def downgrade() -> None:
    # E-mails stay canonical: the earlier code reads them as they are.
    op.create_table('login_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
    sa.Column('at', app.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failure'))
    )
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.create_index('ix_login_failure_kind_key_at', ['kind', 'key', 'at'], unique=False)

    op.drop_table('known_address')
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_last_at'))

    op.drop_table('login_throttle')
