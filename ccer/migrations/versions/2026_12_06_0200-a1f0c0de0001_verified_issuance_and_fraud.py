"""issuance only from verified reductions; fraud cases (Measures Art. 17, 21, 22, 42–47)

- issuances.monitoring_period_id becomes required, a foreign key to monitoring_periods: every issuance
  issues a registered reduction batch (ccer/issuance/issuing.py), there is no free quantity any more.
  A database holding issuances without a batch (made by the free-quantity issuance this revision removes)
  is refused rather than guessed at: those units rest on no registered reductions.
- monitoring_periods.origin and .source: a listed project's registered batch, recorded with its provenance.
- owner_bars.until may be NULL: barred permanently (Art. 43, CCERs obtained by fraud not cancelled as ordered).
- fraud_cases, fraud_cancellations: what the registry records after a revocation for fraud (Art. 43).

Revision ID: a1f0c0de0001
Revises: 0c1d2e3f4a5b
Create Date: 2026-12-06 02:00:00
"""
from alembic import op
import sqlalchemy as sa

import ccer.infra.db

revision = 'a1f0c0de0001'
down_revision = '0c1d2e3f4a5b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    unbatched = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM issuances WHERE monitoring_period_id IS NULL")).scalar()
    if unbatched:
        raise RuntimeError(
            f"{unbatched} issuance(s) name no reduction batch: they were issued as a free quantity, which Measures Art. 22 "
            "does not allow and this revision removes. Rebuild a demo database from scratch (delete it, then `ccer demo`); "
            "a real registry must record the batch of each issuance (monitoring_period_id) before upgrading.")

    with op.batch_alter_table('monitoring_periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=12), server_default='platform', nullable=False))
        batch_op.add_column(sa.Column('source', sa.Text(), nullable=True))

    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.alter_column('monitoring_period_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_issuances_monitoring_period_id'), ['monitoring_period_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_issuances_monitoring_period_id_monitoring_periods'), 'monitoring_periods',
                                    ['monitoring_period_id'], ['id'])

    with op.batch_alter_table('owner_bars', schema=None) as batch_op:
        batch_op.alter_column('until', existing_type=sa.Date(), nullable=True)

    op.create_table('fraud_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('finding', sa.Text(), nullable=False),
    sa.Column('opened_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued', sa.BigInteger(), nullable=False),
    sa.Column('owed', sa.BigInteger(), nullable=False),
    sa.Column('owed_reason', sa.Text(), nullable=True),
    sa.Column('cancel_by', sa.Date(), nullable=False),
    sa.Column('cancelled', sa.BigInteger(), nullable=False),
    sa.Column('force_cancelled', sa.BigInteger(), nullable=False),
    sa.Column('shortfall', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('enforcement_order', sa.Text(), nullable=True),
    sa.Column('enforced_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['organisations.id'], name=op.f('fk_fraud_cases_owner_id_organisations')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_fraud_cases_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_cases')),
    sa.UniqueConstraint('project_id', name=op.f('uq_fraud_cases_project_id'))
    )
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_cases_owner_id'), ['owner_id'], unique=False)

    op.create_table('fraud_cancellations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('retirement_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['fraud_cases.id'], name=op.f('fk_fraud_cancellations_case_id_fraud_cases')),
    sa.ForeignKeyConstraint(['retirement_id'], ['retirements.id'], name=op.f('fk_fraud_cancellations_retirement_id_retirements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fraud_cancellations')),
    sa.UniqueConstraint('retirement_id', name=op.f('uq_fraud_cancellations_retirement_id'))
    )
    with op.batch_alter_table('fraud_cancellations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fraud_cancellations_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fraud_cancellations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_cancellations_case_id'))
    op.drop_table('fraud_cancellations')
    with op.batch_alter_table('fraud_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fraud_cases_owner_id'))
    op.drop_table('fraud_cases')

    # a permanent bar has no end date to go back to: it becomes a bar until 9999-12-31
    op.execute("UPDATE owner_bars SET until = '9999-12-31' WHERE until IS NULL")
    with op.batch_alter_table('owner_bars', schema=None) as batch_op:
        batch_op.alter_column('until', existing_type=sa.Date(), nullable=False)

    with op.batch_alter_table('issuances', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_issuances_monitoring_period_id_monitoring_periods'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_issuances_monitoring_period_id'))
        batch_op.alter_column('monitoring_period_id', existing_type=sa.Integer(), nullable=True)

    with op.batch_alter_table('monitoring_periods', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('origin')
