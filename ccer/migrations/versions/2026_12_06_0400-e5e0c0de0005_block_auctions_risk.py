"""the exchange, continued: block agreements (大宗协议), one-way auctions (单向竞价) and their bids' index,
position limits and large-holder reports (risk rules), settlement disputes

Revision ID: e5e0c0de0005
Revises: d4e0c0de0004
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = 'e5e0c0de0005'
down_revision = 'd4e0c0de0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('market_large_holder_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('trading_account_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('max_quantity', sa.BigInteger(), nullable=False),
    sa.Column('threshold', sa.BigInteger(), nullable=False),
    sa.Column('reported_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['market_instruments.id'], name=op.f('fk_market_large_holder_reports_instrument_id_market_instruments')),
    sa.ForeignKeyConstraint(['trading_account_id'], ['market_trading_accounts.id'], name=op.f('fk_market_large_holder_reports_trading_account_id_market_trading_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_large_holder_reports'))
    )
    with op.batch_alter_table('market_large_holder_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_large_holder_reports_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_large_holder_reports_trading_account_id'), ['trading_account_id'], unique=False)

    op.create_table('market_position_limits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=True),
    sa.Column('trading_account_id', sa.Integer(), nullable=True),
    sa.Column('max_quantity', sa.BigInteger(), nullable=False),
    sa.Column('set_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['instrument_id'], ['market_instruments.id'], name=op.f('fk_market_position_limits_instrument_id_market_instruments')),
    sa.ForeignKeyConstraint(['trading_account_id'], ['market_trading_accounts.id'], name=op.f('fk_market_position_limits_trading_account_id_market_trading_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_position_limits'))
    )
    op.create_table('market_auctions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('initiator_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('reserve_price', sa.BigInteger(), nullable=False),
    sa.Column('pricing', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('window_start', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('window_end', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('bids', sa.Integer(), nullable=False),
    sa.Column('bidders', sa.Integer(), nullable=False),
    sa.Column('winners', sa.Integer(), nullable=False),
    sa.Column('allocated', sa.BigInteger(), nullable=False),
    sa.Column('turnover', sa.BigInteger(), nullable=False),
    sa.Column('clearing_price', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['initiator_id'], ['market_trading_accounts.id'], name=op.f('fk_market_auctions_initiator_id_market_trading_accounts')),
    sa.ForeignKeyConstraint(['instrument_id'], ['market_instruments.id'], name=op.f('fk_market_auctions_instrument_id_market_instruments')),
    sa.ForeignKeyConstraint(['order_id'], ['market_orders.id'], name=op.f('fk_market_auctions_order_id_market_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_auctions'))
    )
    with op.batch_alter_table('market_auctions', schema=None) as batch_op:
        batch_op.create_index('ix_market_auctions_day_status', ['day', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_auctions_initiator_id'), ['initiator_id'], unique=False)

    op.create_table('market_block_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.Integer(), nullable=False),
    sa.Column('initiator_id', sa.Integer(), nullable=False),
    sa.Column('side', sa.String(length=4), nullable=False),
    sa.Column('counterparty_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('initiator_order_id', sa.Integer(), nullable=False),
    sa.Column('counterparty_order_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('entered_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('agreed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('trade_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['counterparty_id'], ['market_trading_accounts.id'], name=op.f('fk_market_block_agreements_counterparty_id_market_trading_accounts')),
    sa.ForeignKeyConstraint(['counterparty_order_id'], ['market_orders.id'], name=op.f('fk_market_block_agreements_counterparty_order_id_market_orders')),
    sa.ForeignKeyConstraint(['initiator_id'], ['market_trading_accounts.id'], name=op.f('fk_market_block_agreements_initiator_id_market_trading_accounts')),
    sa.ForeignKeyConstraint(['initiator_order_id'], ['market_orders.id'], name=op.f('fk_market_block_agreements_initiator_order_id_market_orders')),
    sa.ForeignKeyConstraint(['instrument_id'], ['market_instruments.id'], name=op.f('fk_market_block_agreements_instrument_id_market_instruments')),
    sa.ForeignKeyConstraint(['trade_id'], ['market_trades.id'], name=op.f('fk_market_block_agreements_trade_id_market_trades')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_block_agreements'))
    )
    with op.batch_alter_table('market_block_agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_block_agreements_counterparty_id'), ['counterparty_id'], unique=False)
        batch_op.create_index('ix_market_block_agreements_day_status', ['day', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_market_block_agreements_initiator_id'), ['initiator_id'], unique=False)

    op.create_table('market_disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('trade_id', sa.Integer(), nullable=False),
    sa.Column('raised_by', sa.Integer(), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('raised_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['raised_by'], ['market_trading_accounts.id'], name=op.f('fk_market_disputes_raised_by_market_trading_accounts')),
    sa.ForeignKeyConstraint(['trade_id'], ['market_trades.id'], name=op.f('fk_market_disputes_trade_id_market_trades')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_market_disputes'))
    )
    with op.batch_alter_table('market_disputes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_market_disputes_trade_id'), ['trade_id'], unique=False)

    with op.batch_alter_table('market_orders', schema=None) as batch_op:
        batch_op.create_index('ix_market_orders_auction_id', ['auction_id'], unique=False, postgresql_where=sa.text('auction_id IS NOT NULL'), sqlite_where=sa.text('auction_id IS NOT NULL'))



def downgrade() -> None:
    with op.batch_alter_table('market_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_market_orders_auction_id', postgresql_where=sa.text('auction_id IS NOT NULL'), sqlite_where=sa.text('auction_id IS NOT NULL'))

    with op.batch_alter_table('market_disputes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_disputes_trade_id'))

    op.drop_table('market_disputes')
    with op.batch_alter_table('market_block_agreements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_block_agreements_initiator_id'))
        batch_op.drop_index('ix_market_block_agreements_day_status')
        batch_op.drop_index(batch_op.f('ix_market_block_agreements_counterparty_id'))

    op.drop_table('market_block_agreements')
    with op.batch_alter_table('market_auctions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_auctions_initiator_id'))
        batch_op.drop_index('ix_market_auctions_day_status')

    op.drop_table('market_auctions')
    op.drop_table('market_position_limits')
    with op.batch_alter_table('market_large_holder_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_market_large_holder_reports_trading_account_id'))
        batch_op.drop_index(batch_op.f('ix_market_large_holder_reports_day'))

    op.drop_table('market_large_holder_reports')
