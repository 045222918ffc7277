"""explorer search: indexes for the public project list (filters in key order, the list by name), a partial
index of the lifecycle events a project's timeline reads, and on PostgreSQL pg_trgm GIN indexes on project
titles and organisation names so that a substring search (Chinese included: pg_trgm takes CJK characters as
word characters under a UTF-8 ctype) uses an index (issue #17). SQLite searches the same rows with LIKE.

Revision ID: f1e7c0de0017
Revises: a19c0de00020
"""
from alembic import op
import sqlalchemy as sa

revision = 'f1e7c0de0017'
down_revision = 'a19c0de00020'
branch_labels = None
depends_on = None

TIMELINE_EVENTS = ("subject_type IN ('project', 'monitoring_period', 'comment', 'finding', 'engagement', 'commitment', "
                   "'issuance', 'boundary_check')")


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index('ix_projects_methodology_id', ['methodology_code', 'id'], unique=False)
        batch_op.create_index('ix_projects_province_id', ['province', 'id'], unique=False)
        batch_op.create_index('ix_projects_status_id', ['status', 'id'], unique=False)
        batch_op.create_index('ix_projects_validator_id', ['validator_id'], unique=False)
        batch_op.create_index('ix_projects_title_id', ['title', 'id'], unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_timeline', ['subject_type', 'subject_id'], unique=False,
                              postgresql_where=sa.text(TIMELINE_EVENTS), sqlite_where=sa.text(TIMELINE_EVENTS))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_projects_title_trgm ON projects USING gin (title gin_trgm_ops)")
        op.execute("CREATE INDEX ix_organisations_name_trgm ON organisations USING gin (name gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_organisations_name_trgm")
        op.execute("DROP INDEX IF EXISTS ix_projects_title_trgm")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_timeline', postgresql_where=sa.text(TIMELINE_EVENTS), sqlite_where=sa.text(TIMELINE_EVENTS))
    with op.batch_alter_table('projects', schema=None) as batch_op:
        for name in ('ix_projects_title_id', 'ix_projects_validator_id', 'ix_projects_status_id', 'ix_projects_province_id',
                     'ix_projects_methodology_id'):
            batch_op.drop_index(name)
