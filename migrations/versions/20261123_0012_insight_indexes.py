"""Insight: an index for the campaign dashboard's QA pass rate (inspections counted per campaign).

Revision ID: 0012
Revises: 0008
Created: 2026-11-23 16:30:00.000000
"""

from alembic import op

revision = '0012'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('qa_inspections', schema=None) as batch_op:
        batch_op.create_index('ix_qa_inspections_campaign_id', ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('qa_inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_inspections_campaign_id')
