"""Contacts: call lists, their customers (phone encrypted + keyed hash), outcomes, inbound logs, reveal log.

Revision ID: 0004
Revises: 0001
Created: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('call_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('delimiter', sa.String(length=4), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('rows_processed', sa.Integer(), nullable=False),
    sa.Column('rows_accepted', sa.Integer(), nullable=False),
    sa.Column('rows_rejected', sa.Integer(), nullable=False),
    sa.Column('rows_blank', sa.Integer(), nullable=False),
    sa.Column('records_read', sa.Integer(), nullable=False),
    sa.Column('error_bytes', sa.BigInteger(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('files_purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('queued','importing','done','failed')", name=op.f('ck_call_lists_status_known')),
    sa.CheckConstraint('rows_processed = rows_accepted + rows_rejected', name=op.f('ck_call_lists_rows_accounted')),
    sa.CheckConstraint('rows_accepted >= 0 AND rows_rejected >= 0 AND rows_blank >= 0', name=op.f('ck_call_lists_counts_positive')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_call_lists_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_call_lists_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_lists'))
    )
    with op.batch_alter_table('call_lists', schema=None) as batch_op:
        batch_op.create_index('ix_call_lists_campaign_id_created_at', ['campaign_id', 'created_at'], unique=False)

    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('call_list_id', sa.Integer(), nullable=False),
    sa.Column('source_row', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('extra', sa.JSON(), nullable=False),
    sa.Column('phone_ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('phone_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('assigned_claim_id', sa.Integer(), nullable=True),
    sa.Column('assigned_agent_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_outcome', sa.String(length=20), nullable=True),
    sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('new','assigned','callback','done','do_not_call')", name=op.f('ck_contacts_status_known')),
    sa.CheckConstraint("(status = 'assigned') = (assigned_claim_id IS NOT NULL AND assigned_agent_id IS NOT NULL)", name=op.f('ck_contacts_assignment_matches_status')),
    sa.CheckConstraint("status <> 'callback' OR callback_at IS NOT NULL", name=op.f('ck_contacts_callback_has_time')),
    sa.CheckConstraint("last_outcome IS NULL OR last_outcome IN ('reached','no_answer','busy','wrong_number','callback','converted','reactivated','refused','do_not_call')", name=op.f('ck_contacts_last_outcome_known')),
    sa.ForeignKeyConstraint(['assigned_agent_id'], ['users.id'], name=op.f('fk_contacts_assigned_agent_id_users')),
    sa.ForeignKeyConstraint(['assigned_claim_id'], ['claims.id'], name=op.f('fk_contacts_assigned_claim_id_claims')),
    sa.ForeignKeyConstraint(['call_list_id'], ['call_lists.id'], name=op.f('fk_contacts_call_list_id_call_lists')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_contacts_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('campaign_id', 'phone_hash', name='uq_contacts_campaign_phone')
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.create_index('ix_contacts_campaign_id_id', ['campaign_id', 'id'], unique=False)
        batch_op.create_index('ix_contacts_new', ['campaign_id', 'id'], unique=False, sqlite_where=sa.text("status = 'new'"), postgresql_where=sa.text("status = 'new'"))
        batch_op.create_index('ix_contacts_callback_due', ['campaign_id', 'callback_at'], unique=False, sqlite_where=sa.text("status = 'callback'"), postgresql_where=sa.text("status = 'callback'"))
        batch_op.create_index('uq_contacts_assigned_agent', ['assigned_agent_id'], unique=True, sqlite_where=sa.text("status = 'assigned'"), postgresql_where=sa.text("status = 'assigned'"))

    op.create_table('contact_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('callback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("outcome IN ('reached','no_answer','busy','wrong_number','callback','converted','reactivated','refused','do_not_call')", name=op.f('ck_contact_attempts_outcome_known')),
    sa.CheckConstraint('duration_seconds BETWEEN 0 AND 86400', name=op.f('ck_contact_attempts_duration_range')),
    sa.CheckConstraint("outcome <> 'callback' OR callback_at IS NOT NULL", name=op.f('ck_contact_attempts_callback_has_time')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_contact_attempts_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_contact_attempts_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_contact_attempts_claim_id_claims')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_attempts_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_attempts'))
    )
    with op.batch_alter_table('contact_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_contact_attempts_campaign_id_created_at', ['campaign_id', 'created_at'], unique=False)
        batch_op.create_index('ix_contact_attempts_claim_id', ['claim_id'], unique=False)
        batch_op.create_index('ix_contact_attempts_contact_id', ['contact_id'], unique=False)

    op.create_table('inbound_contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.String(length=10), nullable=False),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('phone','chat','app')", name=op.f('ck_inbound_contacts_channel_known')),
    sa.CheckConstraint("category IN ('order','delivery','return','product','account','complaint','other')", name=op.f('ck_inbound_contacts_category_known')),
    sa.CheckConstraint("resolution IN ('resolved','escalated')", name=op.f('ck_inbound_contacts_resolution_known')),
    sa.CheckConstraint('duration_seconds BETWEEN 0 AND 86400', name=op.f('ck_inbound_contacts_duration_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_inbound_contacts_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_inbound_contacts_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_inbound_contacts_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_contacts'))
    )
    with op.batch_alter_table('inbound_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_contacts_campaign_id_created_at', ['campaign_id', 'created_at'], unique=False)
        batch_op.create_index('ix_inbound_contacts_claim_id', ['claim_id'], unique=False)

    op.create_table('contact_reveals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_contact_reveals_agent_id_users')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_contact_reveals_claim_id_claims')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_contact_reveals_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_reveals'))
    )
    with op.batch_alter_table('contact_reveals', schema=None) as batch_op:
        batch_op.create_index('ix_contact_reveals_agent_id_revealed_at', ['agent_id', 'revealed_at'], unique=False)
        batch_op.create_index('ix_contact_reveals_contact_id', ['contact_id'], unique=False)


def downgrade():
    op.drop_table('contact_reveals')
    op.drop_table('inbound_contacts')
    op.drop_table('contact_attempts')
    op.drop_table('contacts')
    op.drop_table('call_lists')
