"""Success bonus: campaigns pay a bonus per successful outbound contact; settlements record it.

Revision ID: 0006
Revises: 0002, 0003, 0005
Created: 2026-11-23 15:04:31.818871
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = ('0002', '0003', '0005')  # merges the domain branches into one head
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bonus_fen_per_success', sa.Integer(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add a CHECK without rebuilding the table
        op.create_check_constraint("success_bonus_positive", "campaigns", "bonus_fen_per_success >= 0")

    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('successes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('bonus_fen_per_success', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('settlements', schema=None) as batch_op:
        batch_op.drop_column('bonus_fen_per_success')
        batch_op.drop_column('successes')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('bonus_fen_per_success')
