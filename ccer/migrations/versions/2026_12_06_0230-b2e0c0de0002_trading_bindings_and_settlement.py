"""registry ↔ exchange: trading-account bindings, and the exchange's trade number on settlement deliveries

Revision ID: b2e0c0de0002
Revises: a1f0c0de0001
Create Date: 2026-12-06 02:30:00
"""
import sqlalchemy as sa
from alembic import op

from ccer.infra.db import UTCDateTime

revision = 'b2e0c0de0002'
down_revision = 'a1f0c0de0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('registry_trading_bindings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('trading_account', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('bound_at', UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_registry_trading_bindings_account_id_registry_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_trading_bindings')),
    sa.UniqueConstraint('account_id', name=op.f('uq_registry_trading_bindings_account_id')),
    sa.UniqueConstraint('trading_account', name=op.f('uq_registry_trading_bindings_trading_account'))
    )
    with op.batch_alter_table('registry_transfers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trade_ref', sa.String(length=40), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registry_transfers_trade_ref'), ['trade_ref'])


def downgrade() -> None:
    with op.batch_alter_table('registry_transfers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registry_transfers_trade_ref'), type_='unique')
        batch_op.drop_column('trade_ref')
    op.drop_table('registry_trading_bindings')
