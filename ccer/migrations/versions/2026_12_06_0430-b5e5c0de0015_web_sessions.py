"""web sessions held on the server, so a login can be revoked (logout, password change) and expires; the ledger
marks that order a maker–checker confirmer before the request it confirms (issue 15)

Revision ID: b5e5c0de0015
Revises: f1e7c0de0017
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = 'b5e5c0de0015'
down_revision = 'f1e7c0de0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_web_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('sid_sha256', name=op.f('uq_web_sessions_sid_sha256'))
    )
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_web_sessions_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acts_since', sa.Integer(), nullable=True))
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_event_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('approval_requests', schema=None) as batch_op:
        batch_op.drop_column('proposed_event_id')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('acts_since')
    with op.batch_alter_table('web_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_web_sessions_user_id'))
    op.drop_table('web_sessions')
