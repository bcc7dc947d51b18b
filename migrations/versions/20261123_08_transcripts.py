"""Transcripts on handled contacts (outbound attempts and inbound conversations), read by quality inspection.

Revision ID: 0008
Revises: 0007
Created: 2026-11-23 15:17:08.679674
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript', sa.Text(), server_default='', nullable=False))

    with op.batch_alter_table('inbound_contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('transcript', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('inbound_contacts', schema=None) as batch_op:
        batch_op.drop_column('transcript')

    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.drop_column('transcript')
