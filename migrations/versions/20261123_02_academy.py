"""The Academy: course versions, attempts and per-question answers, certifications and mock-call reviews,
assessment results, XP events, badges, learning days, Q&A and expert articles.

Revision ID: 0002
Revises: 0001
Created: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('academy_course_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('is_required', sa.Boolean(), nullable=False),
    sa.Column('question_count', sa.Integer(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_course_versions')),
    sa.UniqueConstraint('slug', 'content_hash', name='uq_academy_course_versions_slug_content_hash')
    )
    op.create_table('academy_articles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('course_slug', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('talk','case')", name=op.f('ck_academy_articles_kind_known')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_academy_articles_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_articles'))
    )
    with op.batch_alter_table('academy_articles', schema=None) as batch_op:
        batch_op.create_index('ix_academy_articles_created_at', ['created_at'], unique=False)

    op.create_table('academy_assessment_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('assessment_slug', sa.String(length=20), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('responses', sa.JSON(), nullable=False),
    sa.Column('recommended', sa.JSON(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_assessment_results_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_assessment_results'))
    )
    with op.batch_alter_table('academy_assessment_results', schema=None) as batch_op:
        batch_op.create_index('ix_academy_assessment_results_agent_id_slug', ['agent_id', 'assessment_slug', 'taken_at'], unique=False)

    op.create_table('academy_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('course_version_id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=60), nullable=False),
    sa.Column('is_renewal', sa.Boolean(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('pass_mark', sa.SmallInteger(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('score_percent', sa.SmallInteger(), nullable=True),
    sa.Column('correct_count', sa.SmallInteger(), nullable=True),
    sa.Column('question_count', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("(status = 'active') = (submitted_at IS NULL)", name=op.f('ck_academy_attempts_open_iff_active')),
    sa.CheckConstraint("status IN ('active','passed','failed','expired','void')", name=op.f('ck_academy_attempts_status_known')),
    sa.CheckConstraint('score_percent IS NULL OR score_percent BETWEEN 0 AND 100', name=op.f('ck_academy_attempts_score_range')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_attempts_agent_id_users')),
    sa.ForeignKeyConstraint(['course_version_id'], ['academy_course_versions.id'], name=op.f('fk_academy_attempts_course_version_id_academy_course_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_attempts'))
    )
    with op.batch_alter_table('academy_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_academy_attempts_agent_id_course_slug', ['agent_id', 'course_slug', 'started_at'], unique=False)
        batch_op.create_index('ix_academy_attempts_course_slug', ['course_slug'], unique=False)
        batch_op.create_index('uq_academy_attempts_open', ['agent_id'], unique=True, sqlite_where=sa.text('submitted_at IS NULL'), postgresql_where=sa.text('submitted_at IS NULL'))

    op.create_table('academy_badge_awards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('awarded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_badge_awards_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_badge_awards')),
    sa.UniqueConstraint('agent_id', 'code', name='uq_academy_badge_awards_agent_id_code')
    )
    op.create_table('academy_kb_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('course_slug', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_academy_kb_questions_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_kb_questions'))
    )
    with op.batch_alter_table('academy_kb_questions', schema=None) as batch_op:
        batch_op.create_index('ix_academy_kb_questions_created_at', ['created_at'], unique=False)

    op.create_table('academy_learning_days',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('first_activity', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_learning_days_agent_id_users')),
    sa.PrimaryKeyConstraint('agent_id', 'day', name=op.f('pk_academy_learning_days'))
    )
    op.create_table('academy_xp_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('source_key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('points >= 0', name=op.f('ck_academy_xp_events_points_positive')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_xp_events_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_xp_events')),
    sa.UniqueConstraint('source_key', name=op.f('uq_academy_xp_events_source_key'))
    )
    with op.batch_alter_table('academy_xp_events', schema=None) as batch_op:
        batch_op.create_index('ix_academy_xp_events_agent_id', ['agent_id'], unique=False)
        batch_op.create_index('ix_academy_xp_events_created_at_agent_id', ['created_at', 'agent_id'], unique=False)

    op.create_table('academy_attempt_answers',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('chosen', sa.JSON(), nullable=False),
    sa.Column('is_correct', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['academy_attempts.id'], name=op.f('fk_academy_attempt_answers_attempt_id_academy_attempts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attempt_id', 'question_id', name=op.f('pk_academy_attempt_answers'))
    )
    op.create_table('academy_certifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=60), nullable=False),
    sa.Column('is_renewal', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('passed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recording_name', sa.String(length=80), nullable=True),
    sa.Column('recording_type', sa.String(length=10), nullable=True),
    sa.Column('recording_bytes', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reject_reason', sa.String(length=500), nullable=True),
    sa.CheckConstraint("status <> 'granted' OR granted_at IS NOT NULL", name=op.f('ck_academy_certifications_granted_has_time')),
    sa.CheckConstraint("status IN ('awaiting_upload','pending_review','granted','rejected')", name=op.f('ck_academy_certifications_status_known')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_academy_certifications_agent_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['academy_attempts.id'], name=op.f('fk_academy_certifications_attempt_id_academy_attempts')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_academy_certifications_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_certifications')),
    sa.UniqueConstraint('attempt_id', name=op.f('uq_academy_certifications_attempt_id'))
    )
    with op.batch_alter_table('academy_certifications', schema=None) as batch_op:
        batch_op.create_index('ix_academy_certifications_agent_id_course_slug', ['agent_id', 'course_slug'], unique=False)
        batch_op.create_index('ix_academy_certifications_expires_at', ['expires_at'], unique=False)
        batch_op.create_index('ix_academy_certifications_status', ['status'], unique=False)

    op.create_table('academy_kb_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_academy_kb_answers_accepted_by_id_users')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_academy_kb_answers_author_id_users')),
    sa.ForeignKeyConstraint(['question_id'], ['academy_kb_questions.id'], name=op.f('fk_academy_kb_answers_question_id_academy_kb_questions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_academy_kb_answers'))
    )
    with op.batch_alter_table('academy_kb_answers', schema=None) as batch_op:
        batch_op.create_index('ix_academy_kb_answers_question_id', ['question_id'], unique=False)
        batch_op.create_index('uq_academy_kb_answers_accepted', ['question_id'], unique=True, sqlite_where=sa.text('accepted_at IS NOT NULL'), postgresql_where=sa.text('accepted_at IS NOT NULL'))


def downgrade():
    for table in ('academy_kb_answers', 'academy_certifications', 'academy_attempt_answers', 'academy_xp_events',
                  'academy_learning_days', 'academy_kb_questions', 'academy_badge_awards', 'academy_attempts',
                  'academy_assessment_results', 'academy_articles', 'academy_course_versions'):
        op.drop_table(table)
