"""registry: projects (registered facts), accounts, issuances, serial blocks, transfers, freezes,
retirements, compliance obligations; Merkle roots on checkpoints

Revision ID: 5b828c1ff222
Revises: 1d1333d8a972
Create Date: 2026-11-22 02:15:07.298217
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = '5b828c1ff222'
down_revision = '1d1333d8a972'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('compliance_obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('allowances', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('set_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_compliance_obligations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_obligations')),
    sa.UniqueConstraint('organisation_id', 'year', name=op.f('uq_compliance_obligations_organisation_id_year'))
    )
    with op.batch_alter_table('compliance_obligations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_obligations_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registry_no', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('methodology_code', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('province', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('crediting_start', sa.Date(), nullable=True),
    sa.Column('crediting_end', sa.Date(), nullable=True),
    sa.Column('registered_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('origin', sa.String(length=12), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['organisations.id'], name=op.f('fk_projects_owner_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects')),
    sa.UniqueConstraint('registry_no', name=op.f('uq_projects_registry_no'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_methodology_code'), ['methodology_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_owner_id'), ['owner_id'], unique=False)

    op.create_table('registry_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('applied_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_due', sa.Date(), nullable=False),
    sa.Column('decided_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_registry_accounts_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_accounts')),
    sa.UniqueConstraint('number', name=op.f('uq_registry_accounts_number')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_registry_accounts_organisation_id'))
    )
    op.create_table('issuances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('batch', sa.Integer(), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('first', sa.BigInteger(), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('monitoring_period_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_issuances_account_id_registry_accounts')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_issuances_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuances')),
    sa.UniqueConstraint('project_id', 'batch', 'vintage', name=op.f('uq_issuances_project_id_batch_vintage'))
    )
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issuances_project_id'), ['project_id'], unique=False)

    op.create_table('registry_account_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('changes_json', sa.Text(), nullable=False),
    sa.Column('submitted_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_due', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('decided_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_registry_account_changes_account_id_registry_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_account_changes'))
    )
    with op.batch_alter_table('registry_account_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_account_changes_account_id'), ['account_id'], unique=False)

    op.create_table('registry_freezes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('authority', sa.String(length=200), nullable=False),
    sa.Column('order_ref', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('frozen_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_registry_freezes_account_id_registry_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_freezes'))
    )
    with op.batch_alter_table('registry_freezes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_freezes_account_id'), ['account_id'], unique=False)

    op.create_table('registry_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_account_id', sa.Integer(), nullable=False),
    sa.Column('to_account_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('executed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_account_id'], ['registry_accounts.id'], name=op.f('fk_registry_transfers_from_account_id_registry_accounts')),
    sa.ForeignKeyConstraint(['to_account_id'], ['registry_accounts.id'], name=op.f('fk_registry_transfers_to_account_id_registry_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_transfers'))
    )
    with op.batch_alter_table('registry_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_transfers_from_account_id'), ['from_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_transfers_to_account_id'), ['to_account_id'], unique=False)

    op.create_table('retirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('beneficiary_name', sa.String(length=200), nullable=False),
    sa.Column('beneficiary_uscc', sa.String(length=18), nullable=True),
    sa.Column('compliance_year', sa.Integer(), nullable=True),
    sa.Column('event_name', sa.String(length=200), nullable=True),
    sa.Column('event_start', sa.Date(), nullable=True),
    sa.Column('event_end', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('retired_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_retirements_account_id_registry_accounts')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_retirements_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_retirements'))
    )
    with op.batch_alter_table('retirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_retirements_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_retirements_beneficiary_uscc'), ['beneficiary_uscc'], unique=False)
        batch_op.create_index(batch_op.f('ix_retirements_project_id'), ['project_id'], unique=False)

    op.create_table('serial_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuance_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('vintage', sa.Integer(), nullable=False),
    sa.Column('first', sa.BigInteger(), nullable=False),
    sa.Column('last', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('freeze_id', sa.Integer(), nullable=True),
    sa.Column('retirement_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['registry_accounts.id'], name=op.f('fk_serial_blocks_account_id_registry_accounts')),
    sa.ForeignKeyConstraint(['freeze_id'], ['registry_freezes.id'], name=op.f('fk_serial_blocks_freeze_id_registry_freezes')),
    sa.ForeignKeyConstraint(['issuance_id'], ['issuances.id'], name=op.f('fk_serial_blocks_issuance_id_issuances')),
    sa.ForeignKeyConstraint(['parent_id'], ['serial_blocks.id'], name=op.f('fk_serial_blocks_parent_id_serial_blocks')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_serial_blocks_project_id_projects')),
    sa.ForeignKeyConstraint(['retirement_id'], ['retirements.id'], name=op.f('fk_serial_blocks_retirement_id_retirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_serial_blocks'))
    )
    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.create_index('ix_serial_blocks_holding', ['account_id', 'active', 'status', 'project_id', 'vintage'], unique=False)
        batch_op.create_index(batch_op.f('ix_serial_blocks_issuance_id'), ['issuance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_serial_blocks_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_serial_blocks_range', ['first', 'last'], unique=False)
        batch_op.create_index(batch_op.f('ix_serial_blocks_retirement_id'), ['retirement_id'], unique=False)

    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roots_json', sa.Text(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('checkpoints', schema=None) as batch_op:
        batch_op.drop_column('roots_json')

    with op.batch_alter_table('serial_blocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_serial_blocks_retirement_id'))
        batch_op.drop_index('ix_serial_blocks_range')
        batch_op.drop_index(batch_op.f('ix_serial_blocks_parent_id'))
        batch_op.drop_index(batch_op.f('ix_serial_blocks_issuance_id'))
        batch_op.drop_index('ix_serial_blocks_holding')

    op.drop_table('serial_blocks')
    with op.batch_alter_table('retirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_retirements_project_id'))
        batch_op.drop_index(batch_op.f('ix_retirements_beneficiary_uscc'))
        batch_op.drop_index(batch_op.f('ix_retirements_account_id'))

    op.drop_table('retirements')
    with op.batch_alter_table('registry_transfers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_transfers_to_account_id'))
        batch_op.drop_index(batch_op.f('ix_registry_transfers_from_account_id'))

    op.drop_table('registry_transfers')
    with op.batch_alter_table('registry_freezes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_freezes_account_id'))

    op.drop_table('registry_freezes')
    with op.batch_alter_table('registry_account_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_account_changes_account_id'))

    op.drop_table('registry_account_changes')
    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issuances_project_id'))

    op.drop_table('issuances')
    op.drop_table('registry_accounts')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_owner_id'))
        batch_op.drop_index(batch_op.f('ix_projects_methodology_code'))

    op.drop_table('projects')
    with op.batch_alter_table('compliance_obligations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_obligations_organisation_id'))

    op.drop_table('compliance_obligations')
