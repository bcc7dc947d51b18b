"""Marketplace core: members, tags, campaigns, shifts, claims, waitlist, notifications, outbox.

Revision ID: 0001
Revises: (none)
Created: 2026-11-23 13:34:49.835757
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('outbox_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('queue', sa.String(length=20), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_jobs'))
    )
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_jobs_pending', ['id'], unique=False, sqlite_where=sa.text('delivered_at IS NULL'), postgresql_where=sa.text('delivered_at IS NULL'))

    op.create_table('tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name_zh', sa.String(length=40), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('code', name=op.f('uq_tags_code'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('tier', sa.SmallInteger(), nullable=False),
    sa.Column('city', sa.String(length=40), nullable=True),
    sa.Column('languages', sa.String(length=120), nullable=True),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role <> 'client' OR organisation_id IS NOT NULL", name=op.f('ck_users_client_has_org')),
    sa.CheckConstraint("role IN ('agent','client','admin')", name=op.f('ck_users_role_known')),
    sa.CheckConstraint("status IN ('pending','active','suspended')", name=op.f('ck_users_status_known')),
    sa.CheckConstraint('tier BETWEEN 0 AND 3', name=op.f('ck_users_tier_known')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_users_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index('ix_users_city', ['city'], unique=False)
        batch_op.create_index('ix_users_organisation_id', ['organisation_id'], unique=False)
        batch_op.create_index('ix_users_role_status', ['role', 'status'], unique=False)

    op.create_table('agent_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("source IN ('academy','admin')", name=op.f('ck_agent_tags_source_known')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_agent_tags_agent_id_users')),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_agent_tags_granted_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_agent_tags_revoked_by_id_users')),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_agent_tags_tag_id_tags')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_tags'))
    )
    with op.batch_alter_table('agent_tags', schema=None) as batch_op:
        batch_op.create_index('ix_agent_tags_tag_id', ['tag_id'], unique=False)
        batch_op.create_index('uq_agent_tags_live', ['agent_id', 'tag_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_created_at', ['created_at'], unique=False)

    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('industry', sa.String(length=40), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('script', sa.Text(), nullable=False),
    sa.Column('min_tier', sa.SmallInteger(), nullable=False),
    sa.Column('rate_fen_per_hour', sa.Integer(), nullable=False),
    sa.Column('bonus_fen_per_contact', sa.Integer(), nullable=False),
    sa.Column('budget_fen', sa.BigInteger(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('inbound','outbound_callback','outbound_marketing')", name=op.f('ck_campaigns_kind_known')),
    sa.CheckConstraint("status IN ('draft','published','running','completed','cancelled')", name=op.f('ck_campaigns_status_known')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_dates_ordered')),
    sa.CheckConstraint('min_tier BETWEEN 0 AND 3', name=op.f('ck_campaigns_tier_known')),
    sa.CheckConstraint('rate_fen_per_hour >= 0 AND bonus_fen_per_contact >= 0 AND budget_fen >= 0', name=op.f('ck_campaigns_money_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_campaigns_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_campaigns_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_organisation_id_created_at', ['organisation_id', 'created_at'], unique=False)
        batch_op.create_index('ix_campaigns_status', ['status'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_invitations_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_id_created_at', ['user_id', 'created_at'], unique=False)

    op.create_table('campaign_tags',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_tags_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_campaign_tags_tag_id_tags')),
    sa.PrimaryKeyConstraint('campaign_id', 'tag_id', name=op.f('pk_campaign_tags'))
    )
    op.create_table('shifts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('seats_taken', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open','cancelled')", name=op.f('ck_shifts_status_known')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_shifts_ends_after_start')),
    sa.CheckConstraint('seats BETWEEN 1 AND 5000', name=op.f('ck_shifts_seats_range')),
    sa.CheckConstraint('seats_taken >= 0 AND seats_taken <= seats', name=op.f('ck_shifts_seats_taken_within_seats')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_shifts_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shifts')),
    sa.UniqueConstraint('campaign_id', 'starts_at', 'ends_at', name='uq_shifts_campaign_window')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_open_starts_at', ['starts_at', 'id'], unique=False, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('via_waitlist', sa.Boolean(), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("is_active = (status IN ('claimed','checked_in','completed','settled'))", name=op.f('ck_claims_active_matches_status')),
    sa.CheckConstraint("status IN ('claimed','checked_in','completed','settled','released','late_cancelled','cancelled','no_show')", name=op.f('ck_claims_status_known')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_claims_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_claims_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_claims_shift_id_shifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claims'))
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_agent_id_starts_at', ['agent_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_claims_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_claims_shift_id', ['shift_id'], unique=False)
        batch_op.create_index('uq_claims_active_shift_agent', ['shift_id', 'agent_id'], unique=True, sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))

    op.create_table('waitlist_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('waiting','promoted','left','skipped')", name=op.f('ck_waitlist_entries_status_known')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_waitlist_entries_agent_id_users')),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], name=op.f('fk_waitlist_entries_shift_id_shifts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_entries_agent_id', ['agent_id'], unique=False)
        batch_op.create_index('ix_waitlist_entries_shift_id_created_at', ['shift_id', 'created_at'], unique=False)
        batch_op.create_index('uq_waitlist_entries_waiting', ['shift_id', 'agent_id'], unique=True, sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))


    _seed_tags()
    _overlap_guard()


TAGS = [
    ("industry.ecommerce", "industry", "电商", "E-commerce"),
    ("industry.food_delivery", "industry", "外卖配送", "Food delivery"),
    ("industry.finance", "industry", "银行金融", "Banking & finance"),
    ("industry.telecom", "industry", "通信", "Telecom"),
    ("industry.utilities", "industry", "水电燃气", "Utilities"),
    ("industry.travel", "industry", "旅游出行", "Travel"),
    ("skill.inbound_support", "skill", "呼入客服", "Inbound support"),
    ("skill.outbound_callback", "skill", "外呼回访", "Outbound callback"),
    ("skill.satisfaction_survey", "skill", "满意度调查", "Satisfaction survey"),
    ("skill.marketing_reactivation", "skill", "营销唤醒", "Marketing & reactivation"),
    ("skill.complaint_handling", "skill", "投诉处理", "Complaint handling"),
    ("skill.after_sales", "skill", "售后服务", "After-sales"),
    ("lang.mandarin", "language", "普通话", "Mandarin"),
    ("lang.cantonese", "language", "粤语", "Cantonese"),
    ("lang.english", "language", "英语", "English"),
    ("lang.sichuanese", "language", "四川话", "Sichuanese"),
]


def _seed_tags():
    """The tag catalogue is reference data: it ships with the schema (app/members/tags.py mirrors it)."""
    tags = sa.table("tags", sa.column("code"), sa.column("kind"), sa.column("name_zh"), sa.column("name_en"))
    op.bulk_insert(tags, [dict(code=c, kind=k, name_zh=zh, name_en=en) for c, k, zh, en in TAGS])


def _overlap_guard():
    """The database itself forbids one agent two active seats whose times overlap."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE claims ADD CONSTRAINT ex_claims_agent_no_overlap EXCLUDE USING gist "
            "(agent_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (is_active)"
        )
    else:
        op.execute(
            "CREATE TRIGGER claims_no_overlap BEFORE INSERT ON claims "
            "WHEN NEW.is_active AND EXISTS (SELECT 1 FROM claims c WHERE c.agent_id = NEW.agent_id "
            "AND c.is_active AND c.starts_at < NEW.ends_at AND c.ends_at > NEW.starts_at) "
            "BEGIN SELECT RAISE(ABORT, 'claims overlap for this agent'); END"
        )

def downgrade():
    with op.batch_alter_table('waitlist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlist_entries_waiting', sqlite_where=sa.text("status = 'waiting'"), postgresql_where=sa.text("status = 'waiting'"))
        batch_op.drop_index('ix_waitlist_entries_shift_id_created_at')
        batch_op.drop_index('ix_waitlist_entries_agent_id')

    op.drop_table('waitlist_entries')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('uq_claims_active_shift_agent', sqlite_where=sa.text('is_active'), postgresql_where=sa.text('is_active'))
        batch_op.drop_index('ix_claims_shift_id')
        batch_op.drop_index('ix_claims_campaign_id')
        batch_op.drop_index('ix_claims_agent_id_starts_at')

    op.drop_table('claims')
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_shifts_open_starts_at', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.drop_table('shifts')
    op.drop_table('campaign_tags')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_id_created_at')

    op.drop_table('notifications')
    op.drop_table('invitations')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index('ix_campaigns_status')
        batch_op.drop_index('ix_campaigns_organisation_id_created_at')

    op.drop_table('campaigns')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_created_at')

    op.drop_table('audit_log')
    with op.batch_alter_table('agent_tags', schema=None) as batch_op:
        batch_op.drop_index('uq_agent_tags_live', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))
        batch_op.drop_index('ix_agent_tags_tag_id')

    op.drop_table('agent_tags')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_role_status')
        batch_op.drop_index('ix_users_organisation_id')
        batch_op.drop_index('ix_users_city')

    op.drop_table('users')
    op.drop_table('tags')
    with op.batch_alter_table('outbox_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_jobs_pending', sqlite_where=sa.text('delivered_at IS NULL'), postgresql_where=sa.text('delivered_at IS NULL'))

    op.drop_table('outbox_jobs')
    op.drop_table('organisations')
