"""Knowledge base: articles, agents' feedback, and the full-text index (FTS5 on SQLite, tsvector + GIN on PostgreSQL).

Revision ID: 0009
Revises: 0008
Created: 2026-11-23 16:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kb_articles',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('campaign_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body_markdown', sa.Text(), nullable=False),
        sa.Column('tags', sa.String(length=300), nullable=False),
        sa.Column('category', sa.String(length=20), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('archived_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('faq','script','policy')", name=op.f('ck_kb_articles_kind_known')),
        sa.CheckConstraint('(campaign_id IS NULL) = (organisation_id IS NULL)',
                           name=op.f('ck_kb_articles_scope_consistent')),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kb_articles_author_id_users')),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_kb_articles_campaign_id_campaigns')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_kb_articles_organisation_id_organisations')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_kb_articles_updated_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles')),
    )
    op.create_index('ix_kb_articles_campaign_id_updated_at', 'kb_articles', ['campaign_id', 'updated_at'],
                    unique=False)
    op.create_table(
        'kb_feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('article_id', sa.Integer(), nullable=False),
        sa.Column('agent_id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=False),
        sa.Column('context_key', sa.String(length=40), nullable=False),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_kb_feedback_agent_id_users')),
        sa.ForeignKeyConstraint(['article_id'], ['kb_articles.id'], name=op.f('fk_kb_feedback_article_id_kb_articles')),
        sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_kb_feedback_claim_id_claims')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_feedback')),
        sa.UniqueConstraint('article_id', 'agent_id', 'context_key', name='uq_kb_feedback_article_agent_context'),
    )
    op.create_index('ix_kb_feedback_article_id', 'kb_feedback', ['article_id'], unique=False)

    # The search index (app/kb/search.py), which the models do not describe.
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE kb_articles ADD COLUMN search_vector tsvector')
        op.execute('CREATE INDEX ix_kb_articles_search_vector ON kb_articles USING gin (search_vector)')
    else:
        op.execute("CREATE VIRTUAL TABLE kb_article_fts USING fts5(scope, title, tags, body, tokenize = 'unicode61')")
        # A deleted article never leaves a stale index row behind (its id may be reused).
        op.execute('CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles '
                   'BEGIN DELETE FROM kb_article_fts WHERE rowid = old.id; END')


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS kb_articles_fts_delete')
        op.execute('DROP TABLE IF EXISTS kb_article_fts')
    op.drop_index('ix_kb_feedback_article_id', table_name='kb_feedback')
    op.drop_table('kb_feedback')
    op.drop_index('ix_kb_articles_campaign_id_updated_at', table_name='kb_articles')
    op.drop_table('kb_articles')
