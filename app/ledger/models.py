"""The double-entry ledger (integer fen) and the money events built on it.

- A journal transaction (`LedgerTransaction`) names one business event by a unique idempotency key
  and holds two or more entries (`LedgerEntry`) whose signed amounts sum to zero: a positive amount
  raises the account's balance, a negative one lowers it.
- Entries are append-only (a trigger refuses UPDATE); a mistake is corrected by a reversal, a new
  transaction that points at the original (`reverses_id`, unique: reversed at most once).
- `LedgerBalance` caches each account's balance, changed only by the posting that writes the entries,
  in the same transaction, with a conditional UPDATE; CHECK keeps protected accounts at or above zero.
  A reconciliation query (app.ledger.queries.check_invariants) proves cache = sum of entries.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db

# SQLite only auto-numbers INTEGER PRIMARY KEY; PostgreSQL gets a bigint for the big tables.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class TransactionKind(enum.StrEnum):
    TOPUP = "topup"  # payment_provider -> client_wallet
    ESCROW = "escrow"  # client_wallet -> campaign_escrow (publish, budget raised)
    ESCROW_RELEASE = "escrow_release"  # campaign_escrow -> client_wallet (budget lowered)
    SETTLE = "settle"  # campaign_escrow -> agent_earnings + platform_revenue
    REFUND = "refund"  # campaign_escrow -> client_wallet (campaign ended)
    PAYOUT = "payout"  # agent_earnings -> agent_payouts_pending (requested)
    PAYOUT_SENT = "payout_sent"  # agent_payouts_pending -> payouts_sent (approved)
    REVERSAL = "reversal"  # the mirror image of another transaction


class LedgerTransaction(db.Model):
    __tablename__ = "ledger_transactions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    memo: Mapped[str] = mapped_column(String(200), default="")
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "kind IN ('topup','escrow','escrow_release','settle','refund','payout','payout_sent','reversal')",
            name="kind_known",
        ),
        CheckConstraint("(kind = 'reversal') = (reverses_id IS NOT NULL)", name="reversal_points_back"),
        Index("ix_ledger_transactions_created_at", "created_at"),
    )


class LedgerEntry(db.Model):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    account: Mapped[str] = mapped_column(String(80))
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        Index("ix_ledger_entries_transaction_id", "transaction_id"),
        Index("ix_ledger_entries_account_transaction_id", "account", "transaction_id"),
    )


class LedgerBalance(db.Model):
    """Cached balance per account; protected accounts (wallets, escrow, earnings, payouts pending) never below 0."""

    __tablename__ = "ledger_balances"

    account: Mapped[str] = mapped_column(String(80), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    is_protected: Mapped[bool] = mapped_column(Boolean)

    __table_args__ = (
        CheckConstraint("NOT is_protected OR balance_fen >= 0", name="protected_not_negative"),
    )


class Settlement(db.Model):
    """How one completed claim was paid: the calculation the agent and the client see, and the outcome.

    due = time pay + bonus (to the agent) + commission (to the platform), all from the campaign's escrow.
    When escrow is short, the agent is paid first, then commission; the rest is `shortfall_fen` for an admin.
    """

    __tablename__ = "settlements"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)  # settled at most once
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    batch_id: Mapped[str] = mapped_column(String(32))
    worked_minutes: Mapped[int] = mapped_column(Integer)
    rate_fen_per_hour: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    bonus_fen_per_contact: Mapped[int] = mapped_column(Integer)
    successes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    bonus_fen_per_success: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    time_pay_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_fen: Mapped[int] = mapped_column(BigInteger)
    due_commission_fen: Mapped[int] = mapped_column(BigInteger)
    paid_pay_fen: Mapped[int] = mapped_column(BigInteger)  # to agent_earnings
    paid_commission_fen: Mapped[int] = mapped_column(BigInteger)  # to platform_revenue
    shortfall_fen: Mapped[int] = mapped_column(BigInteger)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disputable_until: Mapped[datetime] = mapped_column(UTCDateTime)
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "worked_minutes >= 0 AND contacts >= 0 AND time_pay_fen >= 0 AND bonus_fen >= 0 "
            "AND due_commission_fen >= 0 AND paid_pay_fen >= 0 AND paid_commission_fen >= 0 AND shortfall_fen >= 0",
            name="amounts_not_negative",
        ),
        CheckConstraint(
            "paid_pay_fen + paid_commission_fen + shortfall_fen = time_pay_fen + bonus_fen + due_commission_fen",
            name="paid_plus_short_is_due",
        ),
        Index("ix_settlements_batch_id", "batch_id"),
        Index("ix_settlements_agent_id_settled_at", "agent_id", "settled_at"),
        Index("ix_settlements_campaign_id", "campaign_id"),
        Index("ix_settlements_short", "id", sqlite_where=text("shortfall_fen > 0"),
              postgresql_where=text("shortfall_fen > 0")),
    )

    @property
    def pay_due_fen(self) -> int:
        return self.time_pay_fen + self.bonus_fen


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"


DISPUTE_TRANSITIONS: dict[str, frozenset[str]] = {
    DisputeStatus.OPEN: frozenset({DisputeStatus.UPHELD, DisputeStatus.REJECTED}),
    DisputeStatus.UPHELD: frozenset(),
    DisputeStatus.REJECTED: frozenset(),
}


class Dispute(db.Model):
    """A client contests a settlement within the dispute window; an admin upholds (reversal) or rejects it."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    settlement_id: Mapped[int] = mapped_column(ForeignKey("settlements.id"), unique=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=DisputeStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("status IN ('open','upheld','rejected')", name="status_known"),
        Index("ix_disputes_status_created_at", "status", "created_at"),
    )


class PayoutStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


PAYOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    PayoutStatus.PENDING: frozenset({PayoutStatus.APPROVED, PayoutStatus.REJECTED}),
    PayoutStatus.APPROVED: frozenset(),
    PayoutStatus.REJECTED: frozenset(),
}


class Payout(db.Model):
    """An agent's request to withdraw earnings; an admin approves (sent) or rejects (reversed back)."""

    __tablename__ = "payouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default=PayoutStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending','approved','rejected')", name="status_known"),
        Index("ix_payouts_status_requested_at", "status", "requested_at"),
        Index("ix_payouts_agent_id_requested_at", "agent_id", "requested_at"),
    )
