"""The monthly work leaderboard, frozen once per month by the worker.

Revision ID: 0007
Revises: 0006
Created: 2026-11-23 15:06:22.253234
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monthly_leaders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('surveys', sa.Integer(), nullable=False),
    sa.Column('csat_percent', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_monthly_leaders_agent_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_monthly_leaders')),
    sa.UniqueConstraint('month', 'agent_id', name='uq_monthly_leaders_month_agent'),
    sa.UniqueConstraint('month', 'rank', name='uq_monthly_leaders_month_rank')
    )


def downgrade():
    op.drop_table('monthly_leaders')
