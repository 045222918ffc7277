"""lifecycle: design documents, monitoring periods, comments, documents, owner bars, engagements, findings,
commitments

Revision ID: 721907a0f31d
Revises: 5b828c1ff222
Create Date: 2026-11-22 02:50:25.194340
"""
from alembic import op
import sqlalchemy as sa
import ccer.infra.db


revision = '721907a0f31d'
down_revision = '5b828c1ff222'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('author_name', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('submitted_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('moderation_reason', sa.Text(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('responded_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_comments'))
    )
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('media_type', sa.String(length=40), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_sha256'), ['sha256'], unique=False)

    op.create_table('engagements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=12), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('vvb_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['vvb_id'], ['organisations.id'], name=op.f('fk_engagements_vvb_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagements'))
    )
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagements_vvb_id'), ['vvb_id'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('vvb_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('raised_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('responded_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('closed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['vvb_id'], ['organisations.id'], name=op.f('fk_findings_vvb_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_findings'))
    )
    op.create_table('owner_bars',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('until', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_owner_bars_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_owner_bars'))
    )
    with op.batch_alter_table('owner_bars', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_owner_bars_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('commitments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject_type', sa.String(length=24), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('signer_user_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('documents_json', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_commitments_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['signer_user_id'], ['users.id'], name=op.f('fk_commitments_signer_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_commitments'))
    )
    op.create_table('monitoring_periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('start', sa.Date(), nullable=False),
    sa.Column('end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('data_json', sa.Text(), nullable=False),
    sa.Column('calculation_json', sa.Text(), nullable=True),
    sa.Column('vintages_json', sa.Text(), nullable=True),
    sa.Column('green_certificates_mwh', sa.BigInteger(), nullable=False),
    sa.Column('verifier_id', sa.Integer(), nullable=True),
    sa.Column('publicity_start', sa.Date(), nullable=True),
    sa.Column('publicity_end', sa.Date(), nullable=True),
    sa.Column('verified_quantity', sa.BigInteger(), nullable=True),
    sa.Column('applied_quantity', sa.BigInteger(), nullable=True),
    sa.Column('applied_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_due', sa.Date(), nullable=True),
    sa.Column('registered_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_monitoring_periods_project_id_projects')),
    sa.ForeignKeyConstraint(['verifier_id'], ['organisations.id'], name=op.f('fk_monitoring_periods_verifier_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_periods')),
    sa.UniqueConstraint('project_id', 'number', name=op.f('uq_monitoring_periods_project_id_number'))
    )
    with op.batch_alter_table('monitoring_periods', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monitoring_periods_project_id'), ['project_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('construction_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('facts_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('design_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('estimate_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('estimate_tco2e', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('pdd_author_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('other_mechanism', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('ets_covered', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('validator_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('publicity_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('publicity_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('applied_at', ccer.infra.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.Text(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_projects_pdd_author_id_organisations'), 'organisations', ['pdd_author_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_projects_validator_id_organisations'), 'organisations', ['validator_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_validator_id_organisations'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_projects_pdd_author_id_organisations'), type_='foreignkey')
        batch_op.drop_column('reason')
        batch_op.drop_column('applied_at')
        batch_op.drop_column('review_due')
        batch_op.drop_column('publicity_end')
        batch_op.drop_column('publicity_start')
        batch_op.drop_column('validator_id')
        batch_op.drop_column('ets_covered')
        batch_op.drop_column('other_mechanism')
        batch_op.drop_column('pdd_author_id')
        batch_op.drop_column('estimate_tco2e')
        batch_op.drop_column('estimate_json')
        batch_op.drop_column('design_json')
        batch_op.drop_column('facts_json')
        batch_op.drop_column('construction_start')

    with op.batch_alter_table('monitoring_periods', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_monitoring_periods_project_id'))

    op.drop_table('monitoring_periods')
    op.drop_table('commitments')
    with op.batch_alter_table('owner_bars', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_owner_bars_organisation_id'))

    op.drop_table('owner_bars')
    op.drop_table('findings')
    with op.batch_alter_table('engagements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagements_vvb_id'))

    op.drop_table('engagements')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_sha256'))

    op.drop_table('documents')
    op.drop_table('comments')
