"""Quality and ratings: customer surveys, shift and campaign ratings, QA rules, inspections and flags,
agent ratings and their change history.

Revision ID: 0005
Revises: 0004
Created: 2026-11-23 14:02:00.741155
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_ratings',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('satisfaction', sa.Float(), nullable=False),
    sa.Column('qa', sa.Float(), nullable=False),
    sa.Column('reliability', sa.Float(), nullable=False),
    sa.Column('composite', sa.Float(), nullable=False),
    sa.Column('surveys', sa.Integer(), nullable=False),
    sa.Column('shifts_completed', sa.Integer(), nullable=False),
    sa.Column('no_shows', sa.Integer(), nullable=False),
    sa.Column('late_cancellations', sa.Integer(), nullable=False),
    sa.Column('confirmed_flags', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_agent_ratings_agent_id_users')),
    sa.PrimaryKeyConstraint('agent_id', name=op.f('pk_agent_ratings'))
    )
    op.create_table('rating_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('composite_before', sa.Float(), nullable=True),
    sa.Column('composite_after', sa.Float(), nullable=False),
    sa.Column('tier_before', sa.SmallInteger(), nullable=False),
    sa.Column('tier_after', sa.SmallInteger(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_rating_changes_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rating_changes'))
    )
    with op.batch_alter_table('rating_changes', schema=None) as batch_op:
        batch_op.create_index('ix_rating_changes_agent_id_created_at', ['agent_id', 'created_at'], unique=False)

    op.create_table('campaign_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('script_quality', sa.SmallInteger(), nullable=False),
    sa.Column('list_quality', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('script_quality BETWEEN 1 AND 5 AND list_quality BETWEEN 1 AND 5', name=op.f('ck_campaign_ratings_scores_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_campaign_ratings_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_ratings_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_ratings')),
    sa.UniqueConstraint('campaign_id', 'agent_id', name='uq_campaign_ratings_campaign_agent')
    )
    op.create_table('qa_rules',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('required_phrases', sa.JSON(), nullable=False),
    sa.Column('forbidden_words', sa.JSON(), nullable=False),
    sa.Column('max_duration_seconds', sa.Integer(), nullable=True),
    sa.Column('lesson_course', sa.String(length=60), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_qa_rules_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_qa_rules'))
    )
    op.create_table('shift_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('rated_by_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name=op.f('ck_shift_ratings_score_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_shift_ratings_agent_id_users')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_shift_ratings_claim_id_claims')),
    sa.ForeignKeyConstraint(['rated_by_id'], ['users.id'], name=op.f('fk_shift_ratings_rated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shift_ratings')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_shift_ratings_claim_id'))
    )
    with op.batch_alter_table('shift_ratings', schema=None) as batch_op:
        batch_op.create_index('ix_shift_ratings_agent_id', ['agent_id'], unique=False)

    op.create_table('qa_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("rule IN ('missing_phrase','forbidden_word','too_long')", name=op.f('ck_qa_flags_rule_known')),
    sa.CheckConstraint("status IN ('open','confirmed','dismissed')", name=op.f('ck_qa_flags_status_known')),
    sa.CheckConstraint('(attempt_id IS NULL) <> (inbound_id IS NULL)', name=op.f('ck_qa_flags_one_source')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_qa_flags_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['contact_attempts.id'], name=op.f('fk_qa_flags_attempt_id_contact_attempts')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_qa_flags_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_qa_flags_claim_id_claims')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_qa_flags_decided_by_id_users')),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_contacts.id'], name=op.f('fk_qa_flags_inbound_id_inbound_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_flags'))
    )
    with op.batch_alter_table('qa_flags', schema=None) as batch_op:
        batch_op.create_index('ix_qa_flags_agent_id', ['agent_id'], unique=False)
        batch_op.create_index('ix_qa_flags_campaign_id_status', ['campaign_id', 'status'], unique=False)
        batch_op.create_index('uq_qa_flags_attempt_rule', ['attempt_id', 'rule', 'detail'], unique=True, sqlite_where=sa.text('attempt_id IS NOT NULL'), postgresql_where=sa.text('attempt_id IS NOT NULL'))
        batch_op.create_index('uq_qa_flags_inbound_rule', ['inbound_id', 'rule', 'detail'], unique=True, sqlite_where=sa.text('inbound_id IS NOT NULL'), postgresql_where=sa.text('inbound_id IS NOT NULL'))

    op.create_table('qa_inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('flags', sa.Integer(), nullable=False),
    sa.Column('inspected_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(attempt_id IS NULL) <> (inbound_id IS NULL)', name=op.f('ck_qa_inspections_one_source')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_qa_inspections_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['contact_attempts.id'], name=op.f('fk_qa_inspections_attempt_id_contact_attempts')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_qa_inspections_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_contacts.id'], name=op.f('fk_qa_inspections_inbound_id_inbound_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qa_inspections')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_qa_inspections_attempt_id')),
    sa.UniqueConstraint('inbound_id', name=op.f('uq_qa_inspections_inbound_id'))
    )
    with op.batch_alter_table('qa_inspections', schema=None) as batch_op:
        batch_op.create_index('ix_qa_inspections_agent_id_inspected_at', ['agent_id', 'inspected_at'], unique=False)

    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=True),
    sa.Column('inbound_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.CheckConstraint('(answered_at IS NULL) = (score IS NULL)', name=op.f('ck_surveys_answered_has_score')),
    sa.CheckConstraint('(attempt_id IS NULL) <> (inbound_id IS NULL)', name=op.f('ck_surveys_one_source')),
    sa.CheckConstraint('score IS NULL OR score BETWEEN 1 AND 5', name=op.f('ck_surveys_score_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_surveys_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['contact_attempts.id'], name=op.f('fk_surveys_attempt_id_contact_attempts')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_surveys_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_surveys_claim_id_claims')),
    sa.ForeignKeyConstraint(['inbound_id'], ['inbound_contacts.id'], name=op.f('fk_surveys_inbound_id_inbound_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surveys')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_surveys_attempt_id')),
    sa.UniqueConstraint('inbound_id', name=op.f('uq_surveys_inbound_id'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index('ix_surveys_agent_id_answered_at', ['agent_id', 'answered_at'], unique=False)
        batch_op.create_index('ix_surveys_campaign_id', ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index('ix_surveys_campaign_id')
        batch_op.drop_index('ix_surveys_agent_id_answered_at')

    op.drop_table('surveys')
    with op.batch_alter_table('qa_inspections', schema=None) as batch_op:
        batch_op.drop_index('ix_qa_inspections_agent_id_inspected_at')

    op.drop_table('qa_inspections')
    with op.batch_alter_table('qa_flags', schema=None) as batch_op:
        batch_op.drop_index('uq_qa_flags_inbound_rule', sqlite_where=sa.text('inbound_id IS NOT NULL'), postgresql_where=sa.text('inbound_id IS NOT NULL'))
        batch_op.drop_index('uq_qa_flags_attempt_rule', sqlite_where=sa.text('attempt_id IS NOT NULL'), postgresql_where=sa.text('attempt_id IS NOT NULL'))
        batch_op.drop_index('ix_qa_flags_campaign_id_status')
        batch_op.drop_index('ix_qa_flags_agent_id')

    op.drop_table('qa_flags')
    with op.batch_alter_table('shift_ratings', schema=None) as batch_op:
        batch_op.drop_index('ix_shift_ratings_agent_id')

    op.drop_table('shift_ratings')
    op.drop_table('qa_rules')
    op.drop_table('campaign_ratings')
    with op.batch_alter_table('rating_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_rating_changes_agent_id_created_at')

    op.drop_table('rating_changes')
    op.drop_table('agent_ratings')
