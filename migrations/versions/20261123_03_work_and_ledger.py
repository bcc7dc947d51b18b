"""Work and money: attendance on claims, the double-entry ledger, settlements, disputes, payouts.

Revision ID: 0003
Revises: 0001
Created: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    # Attendance on claims. Plain ADD COLUMN / CREATE INDEX (no batch mode): rebuilding the claims
    # table on SQLite would drop its overlap trigger.
    op.add_column('claims', sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('claims', sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('claims', sa.Column('worked_minutes', sa.Integer(), nullable=True))
    op.add_column('claims', sa.Column('left_early', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index('ix_claims_checked_in_ends_at', 'claims', ['ends_at'], unique=False,
                    sqlite_where=sa.text("status = 'checked_in'"), postgresql_where=sa.text("status = 'checked_in'"))
    op.create_index('ix_claims_claimed_starts_at', 'claims', ['starts_at'], unique=False,
                    sqlite_where=sa.text("status = 'claimed'"), postgresql_where=sa.text("status = 'claimed'"))
    op.create_index('ix_claims_completed_id', 'claims', ['id'], unique=False,
                    sqlite_where=sa.text("status = 'completed'"), postgresql_where=sa.text("status = 'completed'"))

    op.create_table('ledger_balances',
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('balance_fen', sa.BigInteger(), nullable=False),
    sa.Column('is_protected', sa.Boolean(), nullable=False),
    sa.CheckConstraint('NOT is_protected OR balance_fen >= 0', name=op.f('ck_ledger_balances_protected_not_negative')),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_ledger_balances'))
    )
    op.create_table('ledger_transactions',
    sa.Column('id', BigId, nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('memo', sa.String(length=200), nullable=False),
    sa.Column('reverses_id', BigId, nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name=op.f('ck_ledger_transactions_reversal_points_back')),
    sa.CheckConstraint("kind IN ('topup','escrow','escrow_release','settle','refund','payout','payout_sent','reversal')", name=op.f('ck_ledger_transactions_kind_known')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_transactions_reverses_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transactions')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transactions_idempotency_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transactions_reverses_id'))
    )
    op.create_index('ix_ledger_transactions_created_at', 'ledger_transactions', ['created_at'], unique=False)
    op.create_table('ledger_entries',
    sa.Column('id', BigId, nullable=False),
    sa.Column('transaction_id', BigId, nullable=False),
    sa.Column('account', sa.String(length=80), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen <> 0', name=op.f('ck_ledger_entries_amount_not_zero')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transactions.id'], name=op.f('fk_ledger_entries_transaction_id_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    op.create_index('ix_ledger_entries_account_transaction_id', 'ledger_entries', ['account', 'transaction_id'], unique=False)
    op.create_index('ix_ledger_entries_transaction_id', 'ledger_entries', ['transaction_id'], unique=False)
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending','approved','rejected')", name=op.f('ck_payouts_status_known')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_payouts_agent_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_payouts_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts'))
    )
    op.create_index('ix_payouts_agent_id_requested_at', 'payouts', ['agent_id', 'requested_at'], unique=False)
    op.create_index('ix_payouts_status_requested_at', 'payouts', ['status', 'requested_at'], unique=False)
    op.create_table('settlements',
    sa.Column('id', BigId, nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('worked_minutes', sa.Integer(), nullable=False),
    sa.Column('rate_fen_per_hour', sa.Integer(), nullable=False),
    sa.Column('contacts', sa.Integer(), nullable=False),
    sa.Column('bonus_fen_per_contact', sa.Integer(), nullable=False),
    sa.Column('time_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('bonus_fen', sa.BigInteger(), nullable=False),
    sa.Column('due_commission_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_pay_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_commission_fen', sa.BigInteger(), nullable=False),
    sa.Column('shortfall_fen', sa.BigInteger(), nullable=False),
    sa.Column('settled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disputable_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reversed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('paid_pay_fen + paid_commission_fen + shortfall_fen = time_pay_fen + bonus_fen + due_commission_fen', name=op.f('ck_settlements_paid_plus_short_is_due')),
    sa.CheckConstraint('worked_minutes >= 0 AND contacts >= 0 AND time_pay_fen >= 0 AND bonus_fen >= 0 AND due_commission_fen >= 0 AND paid_pay_fen >= 0 AND paid_commission_fen >= 0 AND shortfall_fen >= 0', name=op.f('ck_settlements_amounts_not_negative')),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_settlements_agent_id_users')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_settlements_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], name=op.f('fk_settlements_claim_id_claims')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_settlements')),
    sa.UniqueConstraint('claim_id', name=op.f('uq_settlements_claim_id'))
    )
    op.create_index('ix_settlements_agent_id_settled_at', 'settlements', ['agent_id', 'settled_at'], unique=False)
    op.create_index('ix_settlements_batch_id', 'settlements', ['batch_id'], unique=False)
    op.create_index('ix_settlements_campaign_id', 'settlements', ['campaign_id'], unique=False)
    op.create_index('ix_settlements_short', 'settlements', ['id'], unique=False,
                    sqlite_where=sa.text('shortfall_fen > 0'), postgresql_where=sa.text('shortfall_fen > 0'))
    op.create_table('disputes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('settlement_id', BigId, nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('open','upheld','rejected')", name=op.f('ck_disputes_status_known')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_disputes_decided_by_id_users')),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_disputes_raised_by_id_users')),
    sa.ForeignKeyConstraint(['settlement_id'], ['settlements.id'], name=op.f('fk_disputes_settlement_id_settlements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disputes')),
    sa.UniqueConstraint('settlement_id', name=op.f('uq_disputes_settlement_id'))
    )
    op.create_index('ix_disputes_status_created_at', 'disputes', ['status', 'created_at'], unique=False)
    _append_only()


def _append_only():
    """The journal is append-only: the database refuses to change a posted transaction or entry.

    PostgreSQL refuses UPDATE and DELETE (TRUNCATE, used to empty test databases, is a table-level
    statement these row triggers do not see). SQLite refuses UPDATE; DELETE stays possible there
    because the test suite empties tables with DELETE between tests.
    """
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'the ledger is append-only: % on %', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in ("ledger_transactions", "ledger_entries"):
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION ledger_append_only()")
    else:
        for table in ("ledger_transactions", "ledger_entries"):
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table} "
                       "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in ("ledger_transactions", "ledger_entries"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS ledger_append_only()")
    op.drop_index('ix_disputes_status_created_at', table_name='disputes')
    op.drop_table('disputes')
    op.drop_index('ix_settlements_short', table_name='settlements',
                  sqlite_where=sa.text('shortfall_fen > 0'), postgresql_where=sa.text('shortfall_fen > 0'))
    op.drop_index('ix_settlements_campaign_id', table_name='settlements')
    op.drop_index('ix_settlements_batch_id', table_name='settlements')
    op.drop_index('ix_settlements_agent_id_settled_at', table_name='settlements')
    op.drop_table('settlements')
    op.drop_index('ix_payouts_status_requested_at', table_name='payouts')
    op.drop_index('ix_payouts_agent_id_requested_at', table_name='payouts')
    op.drop_table('payouts')
    op.drop_index('ix_ledger_entries_transaction_id', table_name='ledger_entries')
    op.drop_index('ix_ledger_entries_account_transaction_id', table_name='ledger_entries')
    op.drop_table('ledger_entries')
    op.drop_index('ix_ledger_transactions_created_at', table_name='ledger_transactions')
    op.drop_table('ledger_transactions')
    op.drop_table('ledger_balances')
    op.drop_index('ix_claims_completed_id', table_name='claims')
    op.drop_index('ix_claims_claimed_starts_at', table_name='claims')
    op.drop_index('ix_claims_checked_in_ends_at', table_name='claims')
    # SQLite 3.35+ drops plain columns in place (the overlap trigger stays).
    for column in ('left_early', 'worked_minutes', 'checked_out_at', 'checked_in_at'):
        op.drop_column('claims', column)
