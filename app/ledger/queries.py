"""Reads: wallet, escrow and earnings figures for the pages, and the ledger's invariant check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.claims.models import Claim, ClaimStatus
from app.ledger import accounts
from app.ledger.journal import balance_of
from app.ledger.models import (
    Dispute,
    DisputeStatus,
    LedgerBalance,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Settlement,
    TransactionKind,
)
from app.ledger.services import held_earnings_fen
from app.members.models import Organisation, User

# ---- clients ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EscrowRow:
    campaign: Campaign
    escrowed_fen: int  # put in, net of budget reductions
    settled_fen: int  # paid to agents and commission, net of reversals
    refunded_fen: int
    held_fen: int


def _escrow_by_kind(session: Session, campaign_ids: list[int] | None = None) -> dict[int, dict[str, int]]:
    """Sum of escrow-account entries per campaign and transaction kind."""
    query = (
        select(LedgerEntry.account, LedgerTransaction.kind, func.sum(LedgerEntry.amount_fen))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .group_by(LedgerEntry.account, LedgerTransaction.kind)
    )
    if campaign_ids is None:
        query = query.where(LedgerEntry.account.like("campaign_escrow:%"))
    else:
        query = query.where(LedgerEntry.account.in_([accounts.campaign_escrow(c) for c in campaign_ids]))
    result: dict[int, dict[str, int]] = {}
    for account, kind, total in session.execute(query):
        result.setdefault(int(account.split(":", 1)[1]), {})[kind] = int(total)
    return result


def escrow_rows(session: Session, organisation_id: int) -> list[EscrowRow]:
    campaigns = list(session.scalars(select(Campaign).where(Campaign.organisation_id == organisation_id,
                                                            Campaign.status != "draft")
                                     .order_by(Campaign.created_at.desc()).limit(100)))
    ids = [c.id for c in campaigns]
    by_kind = _escrow_by_kind(session, ids)
    held = dict(session.execute(select(LedgerBalance.account, LedgerBalance.balance_fen)
                                .where(LedgerBalance.account.in_([accounts.campaign_escrow(i) for i in ids]))).all())
    rows = []
    for c in campaigns:
        k = by_kind.get(c.id, {})
        rows.append(EscrowRow(
            campaign=c,
            escrowed_fen=k.get(TransactionKind.ESCROW, 0) + k.get(TransactionKind.ESCROW_RELEASE, 0),
            settled_fen=-(k.get(TransactionKind.SETTLE, 0) + k.get(TransactionKind.REVERSAL, 0)),
            refunded_fen=-k.get(TransactionKind.REFUND, 0),
            held_fen=held.get(accounts.campaign_escrow(c.id), 0),
        ))
    return rows


def wallet_activity(session: Session, organisation_id: int, limit: int = 30) -> list[tuple[LedgerTransaction, int]]:
    """The wallet's latest movements: (transaction, signed amount on the wallet)."""
    return list(session.execute(
        select(LedgerTransaction, LedgerEntry.amount_fen)
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .where(LedgerEntry.account == accounts.client_wallet(organisation_id))
        .order_by(LedgerTransaction.id.desc()).limit(limit)
    ).tuples())


@dataclass(frozen=True)
class SettlementRow:
    settlement: Settlement
    campaign_name: str
    agent_name: str
    dispute: Dispute | None


def settlements_for_org(session: Session, organisation_id: int, limit: int = 50) -> list[SettlementRow]:
    rows = session.execute(
        select(Settlement, Campaign.name, User.name, Dispute)
        .join(Campaign, Campaign.id == Settlement.campaign_id)
        .join(User, User.id == Settlement.agent_id)
        .outerjoin(Dispute, Dispute.settlement_id == Settlement.id)
        .where(Campaign.organisation_id == organisation_id)
        .order_by(Settlement.id.desc()).limit(limit)
    ).all()
    return [SettlementRow(s, c, a, d) for s, c, a, d in rows]


# ---- agents -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Earnings:
    balance_fen: int  # in agent_earnings
    held_fen: int  # of which still inside a dispute window (or disputed)
    pending_fen: int  # requested payouts waiting for an admin
    paid_fen: int  # approved payouts

    @property
    def available_fen(self) -> int:
        return max(0, self.balance_fen - self.held_fen)


def earnings_of(session: Session, agent_id: int, now: datetime) -> Earnings:
    paid = session.scalar(select(func.coalesce(func.sum(Payout.amount_fen), 0))
                          .where(Payout.agent_id == agent_id, Payout.status == PayoutStatus.APPROVED)) or 0
    return Earnings(
        balance_fen=balance_of(session, accounts.agent_earnings(agent_id)),
        held_fen=held_earnings_fen(session, agent_id, now),
        pending_fen=balance_of(session, accounts.agent_payouts_pending(agent_id)),
        paid_fen=int(paid),
    )


def settlements_for_agent(session: Session, agent_id: int, limit: int = 50) -> list[tuple[Settlement, str, Claim]]:
    return list(session.execute(
        select(Settlement, Campaign.name, Claim)
        .join(Campaign, Campaign.id == Settlement.campaign_id)
        .join(Claim, Claim.id == Settlement.claim_id)
        .where(Settlement.agent_id == agent_id)
        .order_by(Settlement.id.desc()).limit(limit)
    ).tuples())


def unsettled_work(session: Session, agent_id: int, limit: int = 20) -> list[tuple[Claim, str]]:
    """Shifts worked and waiting for the settlement sweep."""
    return list(session.execute(
        select(Claim, Campaign.name).join(Campaign, Campaign.id == Claim.campaign_id)
        .where(Claim.agent_id == agent_id, Claim.status == ClaimStatus.COMPLETED)
        .order_by(Claim.starts_at.desc()).limit(limit)
    ).tuples())


def payouts_of(session: Session, agent_id: int, limit: int = 20) -> list[Payout]:
    return list(session.scalars(select(Payout).where(Payout.agent_id == agent_id)
                                .order_by(Payout.id.desc()).limit(limit)))


# ---- admins -----------------------------------------------------------------------------------------------------

def pending_payouts(session: Session, limit: int = 100) -> list[tuple[Payout, User]]:
    return list(session.execute(
        select(Payout, User).join(User, User.id == Payout.agent_id)
        .where(Payout.status == PayoutStatus.PENDING).order_by(Payout.requested_at, Payout.id).limit(limit)
    ).tuples())


def open_disputes(session: Session, limit: int = 100) -> list[tuple[Dispute, Settlement, str, str]]:
    return list(session.execute(
        select(Dispute, Settlement, Campaign.name, Organisation.name)
        .join(Settlement, Settlement.id == Dispute.settlement_id)
        .join(Campaign, Campaign.id == Settlement.campaign_id)
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .where(Dispute.status == DisputeStatus.OPEN).order_by(Dispute.created_at, Dispute.id).limit(limit)
    ).tuples())


def short_settlements(session: Session, limit: int = 50) -> list[tuple[Settlement, str]]:
    """Settlements the escrow could not fully cover: an admin follows up with the client."""
    return list(session.execute(
        select(Settlement, Campaign.name).join(Campaign, Campaign.id == Settlement.campaign_id)
        .where(Settlement.shortfall_fen > 0).order_by(Settlement.id.desc()).limit(limit)
    ).tuples())


ACCOUNT_GROUPS = ("client_wallet", "campaign_escrow", "agent_earnings", "agent_payouts_pending",
                  accounts.PLATFORM_REVENUE, accounts.PAYMENT_PROVIDER, accounts.PAYOUTS_SENT)


def totals_by_group(session: Session) -> dict[str, int]:
    """Cached balances summed per kind of account (the ledger overview)."""
    totals = {group: 0 for group in ACCOUNT_GROUPS}
    group = case(*[(LedgerBalance.account.like(f"{g}:%"), g) for g in ACCOUNT_GROUPS[:4]],
                 else_=LedgerBalance.account)
    for name, total in session.execute(select(group, func.sum(LedgerBalance.balance_fen)).group_by(group)):
        totals[name] = int(total or 0)
    return totals


# ---- invariants -------------------------------------------------------------------------------------------------

def check_invariants(session: Session) -> list[str]:
    """Every rule of design/money.md that the data must satisfy; an empty list means the ledger is sound."""
    problems: list[str] = []
    e, t, b = LedgerEntry, LedgerTransaction, LedgerBalance

    for tx_id, total in session.execute(select(e.transaction_id, func.sum(e.amount_fen)).group_by(e.transaction_id)
                                        .having(func.sum(e.amount_fen) != 0).limit(20)):
        problems.append(f"transaction {tx_id} sums to {total}, not 0")
    for tx_id, n in session.execute(select(t.id, func.count(e.id)).outerjoin(e, e.transaction_id == t.id)
                                    .group_by(t.id).having(func.count(e.id) < 2).limit(20)):
        problems.append(f"transaction {tx_id} has {n} entries")
    total = session.scalar(select(func.coalesce(func.sum(e.amount_fen), 0)))
    if total:
        problems.append(f"the ledger sums to {total}, not 0")

    for account, balance, protected in session.execute(select(b.account, b.balance_fen, b.is_protected)):
        if bool(protected) != accounts.is_protected(account):
            problems.append(f"account {account} has the wrong protection flag")
        if accounts.is_protected(account) and balance < 0:
            problems.append(f"protected account {account} is negative: {balance}")

    sums = select(e.account, func.sum(e.amount_fen).label("total")).group_by(e.account).subquery()
    for account, cached, summed in session.execute(
            select(b.account, b.balance_fen, sums.c.total).outerjoin(sums, sums.c.account == b.account)
            .where(b.balance_fen != func.coalesce(sums.c.total, 0)).limit(20)):
        problems.append(f"account {account}: cached balance {cached} but its entries sum to {summed or 0}")
    for (account,) in session.execute(select(sums.c.account).outerjoin(b, b.account == sums.c.account)
                                      .where(b.account.is_(None)).limit(20)):
        problems.append(f"account {account} has entries but no balance row")

    # Per campaign: escrowed = settled to agents + commission + refunded + still held.
    by_kind = _escrow_by_kind(session)
    settled = dict(session.execute(
        select(Settlement.campaign_id, func.sum(Settlement.paid_pay_fen + Settlement.paid_commission_fen))
        .where(Settlement.reversed_at.is_(None)).group_by(Settlement.campaign_id)).all())
    held = {int(a.split(":", 1)[1]): v for a, v in session.execute(
        select(b.account, b.balance_fen).where(b.account.like("campaign_escrow:%")))}
    for campaign_id in set(by_kind) | set(settled) | set(held):
        k = by_kind.get(campaign_id, {})
        escrowed = k.get(TransactionKind.ESCROW, 0) + k.get(TransactionKind.ESCROW_RELEASE, 0)
        refunded = -k.get(TransactionKind.REFUND, 0)
        paid = int(settled.get(campaign_id) or 0)
        kept = held.get(campaign_id, 0)
        if escrowed != paid + refunded + kept:
            problems.append(f"campaign {campaign_id}: escrowed {escrowed} != settled {paid} + refunded {refunded}"
                            f" + held {kept}")

    # Each claim settled at most once, and its settlement matches the journal.
    settle_txs = dict(session.execute(
        select(t.idempotency_key, func.sum(e.amount_fen))
        .join(e, e.transaction_id == t.id)
        .where(t.kind == TransactionKind.SETTLE, e.account.like("agent_earnings:%"))
        .group_by(t.idempotency_key)).all())
    moved = dict(session.execute(
        select(Settlement.claim_id, Settlement.paid_pay_fen).where(Settlement.paid_pay_fen > 0)).all())
    if {f"settle:{c}": v for c, v in moved.items()} != {k: int(v) for k, v in settle_txs.items()}:
        problems.append("settlement rows and settle transactions disagree")
    mismatched = session.scalar(select(func.count(Claim.id)).outerjoin(Settlement, Settlement.claim_id == Claim.id)
                                .where((Claim.status == ClaimStatus.SETTLED) != Settlement.id.is_not(None)))
    if mismatched:
        problems.append(f"{mismatched} claims whose status and settlement row disagree")

    # Each payout paid at most once; each transaction reversed at most once.
    approved = dict(session.execute(select(Payout.id, Payout.amount_fen)
                                    .where(Payout.status == PayoutStatus.APPROVED)).all())
    sent = dict(session.execute(
        select(t.idempotency_key, e.amount_fen).join(e, e.transaction_id == t.id)
        .where(t.kind == TransactionKind.PAYOUT_SENT, e.account == accounts.PAYOUTS_SENT)).all())
    if {f"payout_sent:{p}": v for p, v in approved.items()} != sent:
        problems.append("approved payouts and payouts sent disagree")
    reversed_twice = session.scalar(select(func.count()).select_from(
        select(t.reverses_id).where(t.reverses_id.is_not(None)).group_by(t.reverses_id)
        .having(func.count() > 1).subquery()))
    if reversed_twice:
        problems.append(f"{reversed_twice} transactions reversed more than once")
    return problems
