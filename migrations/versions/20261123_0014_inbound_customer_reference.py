"""Inbound contacts: an optional keyed hash of the customer's reference, for first-contact resolution.

Revision ID: 0014
Revises: 0013
Created: 2026-11-23 16:55:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_ref_hash', sa.LargeBinary(length=32), nullable=True))
        batch_op.create_index('ix_inbound_contacts_campaign_id_customer_ref_hash_created_at',
                              ['campaign_id', 'customer_ref_hash', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('inbound_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_contacts_campaign_id_customer_ref_hash_created_at')
        batch_op.drop_column('customer_ref_hash')
