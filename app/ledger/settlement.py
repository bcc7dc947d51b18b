"""Settling completed claims: the pay rule, and the batch that posts thousands of settlements at once.

Pay rule (docs/money.md):
    time pay   = worked_minutes × rate_fen_per_hour / 60, rounded half-up to a whole fen
    bonus      = contacts handled × bonus_fen_per_contact + successes × bonus_fen_per_success (exact)
    pay        = time pay + bonus                                  -> agent_earnings:<agent>
    commission = pay × PLATFORM_COMMISSION_BPS / 10000, half-up    -> platform_revenue
Both come out of campaign_escrow:<campaign>; the agent's pay is never reduced by the commission.
If the escrow cannot cover pay + commission, the agent is paid first, then the commission, and the
rest is recorded as the settlement's shortfall for an admin; no balance ever goes negative.

A batch is a constant number of statements whatever its size: mark the claims settled (the guard that
makes a second run or a second worker find nothing), lock the balances in name order, insert the
settlement rows, then INSERT … SELECT the journal transactions (key settle:<claim_id>) and their
entries, and move the cached balances with one conditional UPDATE … FROM.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, func, insert, literal, select, union_all, update
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.claims.models import Claim, ClaimStatus
from app.core.db import UTCDateTime
from app.ledger import accounts
from app.ledger.journal import LedgerError, is_postgresql, lock_balances
from app.ledger.models import LedgerBalance, LedgerEntry, LedgerTransaction, Settlement, TransactionKind

ContactCounts = Mapping[int, int] | Callable[[Sequence[int]], Mapping[int, int]] | None


def time_pay_fen(worked_minutes: int, rate_fen_per_hour: int) -> int:
    """minutes × rate / 60, rounded half-up to a whole fen (integers only: no float, no Decimal)."""
    return (worked_minutes * rate_fen_per_hour + 30) // 60


def commission_fen(pay_fen: int, commission_bps: int) -> int:
    """pay × bps / 10000, rounded half-up to a whole fen."""
    return (pay_fen * commission_bps + 5000) // 10000


@dataclass(frozen=True)
class PayDue:
    time_pay_fen: int
    bonus_fen: int
    commission_fen: int

    @property
    def pay_fen(self) -> int:
        return self.time_pay_fen + self.bonus_fen

    @property
    def total_fen(self) -> int:
        return self.pay_fen + self.commission_fen


def pay_due(*, worked_minutes: int, rate_fen_per_hour: int, contacts: int, bonus_fen_per_contact: int,
            commission_bps: int, successes: int = 0, bonus_fen_per_success: int = 0) -> PayDue:
    time_pay = time_pay_fen(worked_minutes, rate_fen_per_hour)
    bonus = contacts * bonus_fen_per_contact + successes * bonus_fen_per_success
    return PayDue(time_pay, bonus, commission_fen(time_pay + bonus, commission_bps))


def allocate(available_fen: int, due: PayDue) -> tuple[int, int, int]:
    """(paid to the agent, paid as commission, shortfall): the agent first, never more than is available."""
    paid_pay = min(due.pay_fen, max(available_fen, 0))
    paid_commission = min(due.commission_fen, max(available_fen - paid_pay, 0))
    return paid_pay, paid_commission, due.total_fen - paid_pay - paid_commission


@dataclass(frozen=True)
class SettleResult:
    claims: int
    paid_fen: int
    commission_fen: int
    short_claims: int


def settle_key(claim_id_expr):
    """SQL for the idempotency key 'settle:<claim_id>' (the same string journal.post would use)."""
    return accounts.sql_name("settle:", claim_id_expr)


def _contacts(contacts_by_claim: ContactCounts, claim_ids: list[int]) -> Mapping[int, int]:
    if contacts_by_claim is None:
        return {}
    counts = contacts_by_claim(claim_ids) if callable(contacts_by_claim) else contacts_by_claim
    for claim_id in claim_ids:
        value = counts.get(claim_id, 0)
        if not isinstance(value, int) or value < 0:
            raise LedgerError(f"contacts for claim {claim_id} must be a non-negative integer, got {value!r}")
    return counts


def settle_due_claims(session: Session, *, now: datetime, commission_bps: int, dispute_window: timedelta,
                      limit: int = 2000, contacts_by_claim: ContactCounts = None,
                      successes_by_claim: ContactCounts = None) -> SettleResult:
    """Settle up to `limit` completed claims in the caller's transaction. Safe to run twice or concurrently."""
    if not 0 <= commission_bps <= 10_000:
        raise LedgerError("commission must be between 0 and 10000 basis points")
    due = select(Claim.id).where(Claim.status == ClaimStatus.COMPLETED).order_by(Claim.id).limit(limit)
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)  # two workers take disjoint batches
    # 1. The guard: only the transaction that moves a claim from completed to settled pays it.
    claims = sorted(session.execute(
        update(Claim).where(Claim.id.in_(due.scalar_subquery()), Claim.status == ClaimStatus.COMPLETED)
        .values(status=ClaimStatus.SETTLED)
        .returning(Claim.id, Claim.campaign_id, Claim.agent_id, Claim.worked_minutes)
        .execution_options(synchronize_session=False)
    ).all())
    if not claims:
        return SettleResult(0, 0, 0, 0)
    contacts = _contacts(contacts_by_claim, [c.id for c in claims])
    successes = _contacts(successes_by_claim, [c.id for c in claims])
    campaign_ids = sorted({c.campaign_id for c in claims})
    terms = {row.id: row for row in session.execute(
        select(Campaign.id, Campaign.rate_fen_per_hour, Campaign.bonus_fen_per_contact, Campaign.bonus_fen_per_success)
        .where(Campaign.id.in_(campaign_ids)))}
    # 2. Lock every balance this batch touches, in name order (the order journal.post uses too).
    names = {accounts.campaign_escrow(c) for c in campaign_ids} | {accounts.agent_earnings(c.agent_id) for c in claims}
    balances = lock_balances(session, names | {accounts.PLATFORM_REVENUE})
    # 3. The calculation, claim by claim in id order, drawing down each campaign's escrow.
    batch_id = uuid.uuid4().hex
    rows, touched = [], set()
    paid_total = commission_total = short = 0
    for claim in claims:
        campaign = terms[claim.campaign_id]
        n_contacts = contacts.get(claim.id, 0)
        n_successes = successes.get(claim.id, 0)
        due_now = pay_due(worked_minutes=claim.worked_minutes or 0, rate_fen_per_hour=campaign.rate_fen_per_hour,
                          contacts=n_contacts, bonus_fen_per_contact=campaign.bonus_fen_per_contact,
                          successes=n_successes, bonus_fen_per_success=campaign.bonus_fen_per_success,
                          commission_bps=commission_bps)
        escrow = accounts.campaign_escrow(claim.campaign_id)
        paid_pay, paid_commission, shortfall = allocate(balances[escrow], due_now)
        balances[escrow] -= paid_pay + paid_commission
        if paid_pay + paid_commission:
            touched.add(escrow)
        if paid_pay:
            touched.add(accounts.agent_earnings(claim.agent_id))
        if paid_commission:
            touched.add(accounts.PLATFORM_REVENUE)
        paid_total += paid_pay
        commission_total += paid_commission
        short += shortfall > 0
        rows.append({
            "claim_id": claim.id, "campaign_id": claim.campaign_id, "agent_id": claim.agent_id,
            "batch_id": batch_id, "worked_minutes": claim.worked_minutes or 0,
            "rate_fen_per_hour": campaign.rate_fen_per_hour, "contacts": n_contacts,
            "bonus_fen_per_contact": campaign.bonus_fen_per_contact, "successes": n_successes,
            "bonus_fen_per_success": campaign.bonus_fen_per_success, "time_pay_fen": due_now.time_pay_fen,
            "bonus_fen": due_now.bonus_fen, "due_commission_fen": due_now.commission_fen,
            "paid_pay_fen": paid_pay, "paid_commission_fen": paid_commission, "shortfall_fen": shortfall,
            "settled_at": now, "disputable_until": now + dispute_window, "reversed_at": None,
        })
    session.execute(insert(Settlement.__table__), rows)
    _post_batch(session, batch_id=batch_id, now=now, expected_accounts=len(touched))
    from app.notifications.services import claims_settled
    from app.webhooks.services import shifts_settled

    claims_settled(session, paid=[(r["claim_id"], r["paid_pay_fen"]) for r in rows], now=now)  # agents: pay credited
    shifts_settled(session, settlements=rows, batch_id=batch_id, now=now)  # clients: shift.settled per shift
    return SettleResult(len(claims), paid_total, commission_total, short)


def _post_batch(session: Session, *, batch_id: str, now: datetime, expected_accounts: int) -> None:
    """The batch's journal transactions, entries and balance moves: three set-based statements."""
    s = Settlement
    in_batch = s.batch_id == batch_id
    moved = s.paid_pay_fen + s.paid_commission_fen
    session.execute(insert(LedgerTransaction).from_select(
        ["idempotency_key", "kind", "memo", "created_at"],
        select(settle_key(s.claim_id), literal(TransactionKind.SETTLE.value, String), literal("", String),
               literal(now, UTCDateTime)).where(in_batch, moved > 0).order_by(s.claim_id),
    ))
    tx = LedgerTransaction
    joined = select().select_from(s).join(tx, tx.idempotency_key == settle_key(s.claim_id)).where(in_batch)
    session.execute(insert(LedgerEntry).from_select(
        ["transaction_id", "account", "amount_fen"],
        union_all(
            joined.add_columns(tx.id, accounts.sql_name("campaign_escrow:", s.campaign_id), -moved).where(moved > 0),
            joined.add_columns(tx.id, accounts.sql_name("agent_earnings:", s.agent_id), s.paid_pay_fen)
            .where(s.paid_pay_fen > 0),
            joined.add_columns(tx.id, literal(accounts.PLATFORM_REVENUE, String), s.paid_commission_fen)
            .where(s.paid_commission_fen > 0),
        ),
    ))
    batch_tx = select(tx.id).join(s, tx.idempotency_key == settle_key(s.claim_id)).where(in_batch)
    deltas = (
        select(LedgerEntry.account, func.sum(LedgerEntry.amount_fen).label("delta"))
        .where(LedgerEntry.transaction_id.in_(batch_tx)).group_by(LedgerEntry.account).subquery()
    )
    b = LedgerBalance
    moved_accounts = session.execute(
        update(b).where(b.account == deltas.c.account,
                        b.is_protected.is_(False) | (b.balance_fen + deltas.c.delta >= 0))
        .values(balance_fen=b.balance_fen + deltas.c.delta)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved_accounts != expected_accounts:
        # The balances were locked and the amounts capped, so this means a bug: roll the batch back.
        raise LedgerError(f"settlement batch {batch_id} moved {moved_accounts} balances, expected {expected_accounts}")
