"""Merge the knowledge-base, API, notification/webhook and insight branches into one head.

Revision ID: 0013
Revises: 0009, 0010, 0011, 0012
Created: 2026-11-23 16:35:00
"""

revision = '0013'
down_revision = ('0009', '0010', '0011', '0012')  # each domain branched from 0008
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
