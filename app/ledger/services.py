"""Money flows: top-up, escrow on publish and budget change, refunds, disputes and payouts.

Every flow is a plain function taking the session and `now`; it posts through app.ledger.journal
(balanced, idempotent by a key naming the business event, never overdrawing a protected account)
and leaves the commit to its caller.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, case, cast, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignStatus
from app.campaigns.services import CampaignInput, publish_campaign, update_campaign
from app.claims.models import Claim, ClaimStatus
from app.core.errors import Conflict, Invalid, NotFound
from app.core.money import MAX_FEN, format_fen
from app.core.sqlfuncs import whole_minutes
from app.ledger import accounts
from app.ledger.journal import InsufficientFunds, Posted, balance_of, find, is_postgresql, lock_balances, post, reverse
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
from app.ledger.payments import Payment
from app.members.services import audit

MAX_TOPUP_FEN = 10_000_000_000  # ¥100 million in one payment: more is a typo


# ---- top-up -----------------------------------------------------------------------------------------------------

def top_up(session: Session, *, organisation_id: int, payment: Payment, now: datetime) -> Posted:
    """Credit a client's wallet with a payment the provider confirmed (once per payment id)."""
    if not payment.succeeded:
        raise Conflict(_l("The payment did not go through; nothing was charged."))
    if not 0 < payment.amount_fen <= MAX_TOPUP_FEN:
        raise Invalid(_l("Top up between ¥0.01 and ¥%(max)s at a time.", max=format_fen(MAX_TOPUP_FEN)),
                      field="amount")
    return post(session, key=f"topup:{payment.payment_id}", kind=TransactionKind.TOPUP, now=now,
                memo=f"{payment.provider} {payment.payment_id}"[:200],
                legs=[(accounts.PAYMENT_PROVIDER, -payment.amount_fen),
                      (accounts.client_wallet(organisation_id), payment.amount_fen)])


# ---- escrow -----------------------------------------------------------------------------------------------------

def _lock_campaign(session: Session, campaign: Campaign) -> None:
    """Serialise money changes of one campaign (PostgreSQL row lock; SQLite already holds the writer lock)."""
    if is_postgresql(session):
        session.execute(select(Campaign.id).where(Campaign.id == campaign.id).with_for_update())


def _escrow_sums(session: Session, campaign_id: int) -> dict[str, tuple[int, int]]:
    """Per transaction kind: (sum of amounts on this campaign's escrow, number of transactions)."""
    rows = session.execute(
        select(LedgerTransaction.kind, func.sum(LedgerEntry.amount_fen), func.count(LedgerEntry.id))
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerEntry.account == accounts.campaign_escrow(campaign_id))
        .group_by(LedgerTransaction.kind)
    ).all()
    return {kind: (int(total or 0), n) for kind, total, n in rows}


def funded_fen(session: Session, campaign_id: int) -> int:
    """What the client has put into the campaign's escrow, net of budget reductions."""
    sums = _escrow_sums(session, campaign_id)
    return sums.get(TransactionKind.ESCROW, (0, 0))[0] + sums.get(TransactionKind.ESCROW_RELEASE, (0, 0))[0]


def committed_fen(session: Session, campaign_ids: list[int], *, commission_bps: int) -> dict[int, int]:
    """Escrow still promised to unsettled claims: full shift pay for seats not yet worked, worked pay for
    completed ones, each with its commission (contact bonuses are not reserved: they are unknown until worked)."""
    if not campaign_ids:
        return {}
    minutes = case(
        (Claim.status == ClaimStatus.COMPLETED, func.coalesce(Claim.worked_minutes, 0)),
        else_=whole_minutes(Claim.starts_at, Claim.ends_at),
    )
    pay = (cast(minutes, BigInteger) * Campaign.rate_fen_per_hour + 30) // 60
    cost = pay + (pay * commission_bps + 5000) // 10000
    rows = session.execute(
        select(Claim.campaign_id, func.sum(cost))
        .join(Campaign, Campaign.id == Claim.campaign_id)
        .where(Claim.campaign_id.in_(campaign_ids),
               Claim.status.in_([ClaimStatus.CLAIMED, ClaimStatus.CHECKED_IN, ClaimStatus.COMPLETED]))
        .group_by(Claim.campaign_id)
    ).all()
    result = {cid: 0 for cid in campaign_ids}
    result.update({cid: int(total or 0) for cid, total in rows})
    return result


def fund_campaign(session: Session, campaign: Campaign, *, now: datetime, commission_bps: int) -> Posted | None:
    """Bring the escrow in line with the budget: reserve more from the wallet, or give back what is not needed.

    The budget can never drop below what is already spent plus what is committed to unsettled claims.
    """
    _lock_campaign(session, campaign)
    sums = _escrow_sums(session, campaign.id)
    funded = sums.get(TransactionKind.ESCROW, (0, 0))[0] + sums.get(TransactionKind.ESCROW_RELEASE, (0, 0))[0]
    delta = campaign.budget_fen - funded
    if delta == 0:
        return None
    escrow = accounts.campaign_escrow(campaign.id)
    wallet = accounts.client_wallet(campaign.organisation_id)
    n = sums.get(TransactionKind.ESCROW, (0, 0))[1] + sums.get(TransactionKind.ESCROW_RELEASE, (0, 0))[1] + 1
    if delta > 0:
        try:
            return post(session, key=f"escrow:{campaign.id}:{n}", kind=TransactionKind.ESCROW, now=now,
                        legs=[(wallet, -delta), (escrow, delta)], memo=f"budget {campaign.budget_fen}")
        except InsufficientFunds as exc:
            raise Conflict(
                _l("Your wallet holds ¥%(available)s, but this needs ¥%(needed)s in escrow. "
                   "Top up ¥%(missing)s in the wallet first.", available=format_fen(exc.available_fen),
                   needed=format_fen(delta), missing=format_fen(delta - exc.available_fen)),
                code="insufficient_funds", field="budget") from None
    held = balance_of(session, escrow)
    committed = committed_fen(session, [campaign.id], commission_bps=commission_bps)[campaign.id]
    if held + delta < committed:
        minimum = campaign.budget_fen - delta - held + committed
        raise Conflict(_l("The budget cannot go below ¥%(min)s: that much is spent or promised to agents.",
                          min=format_fen(minimum)), field="budget")
    return post(session, key=f"escrow:{campaign.id}:{n}", kind=TransactionKind.ESCROW_RELEASE, now=now,
                legs=[(escrow, delta), (wallet, -delta)], memo=f"budget {campaign.budget_fen}")


def publish_and_fund(session: Session, campaign: Campaign, now: datetime) -> Campaign:
    """Publish a draft and move its budget from the wallet into escrow, all or nothing."""
    with session.begin_nested():  # a refused escrow leaves the campaign a draft
        publish_campaign(session, campaign, now=now)
        # A draft has no escrow yet, so this only reserves: commission (used when releasing) plays no part.
        fund_campaign(session, campaign, now=now, commission_bps=0)
    return campaign


def update_and_fund(session: Session, campaign: Campaign, *, data: CampaignInput, today, now: datetime,
                    commission_bps: int) -> Campaign:
    """Edit a campaign; on a live campaign a budget change reserves more (or releases what is unused)."""
    with session.begin_nested():
        update_campaign(session, campaign, data=data, today=today)
        if campaign.status in (CampaignStatus.PUBLISHED, CampaignStatus.RUNNING):
            fund_campaign(session, campaign, now=now, commission_bps=commission_bps)
    return campaign


# ---- refunds ----------------------------------------------------------------------------------------------------

ENDED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


def refund_campaign(session: Session, campaign: Campaign, *, now: datetime, commission_bps: int) -> Posted | None:
    """Return an ended campaign's unused escrow to the wallet, keeping what unsettled claims may still need.

    The first refund is keyed refund:<campaign>; money freed later (claims settled for less than was kept,
    an upheld dispute) goes back as refund:<campaign>:2, :3, ...
    """
    if campaign.status not in ENDED:
        raise Conflict(_l("Only a completed or cancelled campaign is refunded."))
    _lock_campaign(session, campaign)
    escrow = accounts.campaign_escrow(campaign.id)
    held = balance_of(session, escrow)
    amount = held - committed_fen(session, [campaign.id], commission_bps=commission_bps)[campaign.id]
    if amount <= 0:
        return None
    n = _escrow_sums(session, campaign.id).get(TransactionKind.REFUND, (0, 0))[1] + 1
    key = f"refund:{campaign.id}" if n == 1 else f"refund:{campaign.id}:{n}"
    return post(session, key=key, kind=TransactionKind.REFUND, now=now,
                legs=[(escrow, -amount), (accounts.client_wallet(campaign.organisation_id), amount)])


def refund_ended_campaigns(session: Session, *, now: datetime, commission_bps: int, limit: int = 200) -> int:
    """Sweep: every ended campaign with money in escrow beyond its commitments gets it back. Returns refunds made."""
    escrow_account = accounts.sql_name("campaign_escrow:", Campaign.id)
    candidates = list(session.scalars(
        select(Campaign).join(LedgerBalance, LedgerBalance.account == escrow_account)
        .where(Campaign.status.in_(ENDED), LedgerBalance.balance_fen > 0)
        .order_by(Campaign.id).limit(limit)
    ))
    return sum(refund_campaign(session, c, now=now, commission_bps=commission_bps) is not None for c in candidates)


# ---- disputes ---------------------------------------------------------------------------------------------------

def get_settlement_for_org(session: Session, settlement_id: int, organisation_id: int) -> Settlement:
    settlement = session.get(Settlement, settlement_id)
    if settlement is None or session.get(Campaign, settlement.campaign_id).organisation_id != organisation_id:
        raise NotFound(_l("No such settlement."))
    return settlement


def contest_settlement(session: Session, *, organisation_id: int, user_id: int, settlement_id: int, reason: str,
                       now: datetime) -> Dispute:
    """A client contests a settlement inside the dispute window; an admin decides."""
    settlement = get_settlement_for_org(session, settlement_id, organisation_id)
    text = " ".join((reason or "").replace("\x00", "").split())
    if not text:
        raise Invalid(_l("Say what is wrong with this settlement."), field="reason")
    if len(text) > 1000:
        raise Invalid(_l("At most %(n)d characters.", n=1000), field="reason")
    if now > settlement.disputable_until:
        raise Conflict(_l("The dispute window for this settlement has closed."))
    if settlement.reversed_at is not None:
        raise Conflict(_l("This settlement was already reversed."))
    dispute = Dispute(settlement_id=settlement.id, raised_by_id=user_id, reason=text, status=DisputeStatus.OPEN,
                      created_at=now)
    try:
        with session.begin_nested():
            session.add(dispute)
            session.flush()
    except IntegrityError:
        raise Conflict(_l("This settlement is already contested.")) from None
    return dispute


def _decide_dispute(session: Session, dispute_id: int, target: str, *, admin_id: int, now: datetime) -> Dispute:
    done = session.execute(
        update(Dispute).where(Dispute.id == dispute_id, Dispute.status == DisputeStatus.OPEN)
        .values(status=target, decided_at=now, decided_by_id=admin_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(_l("No such dispute."))
    if done != 1:
        raise Conflict(_l("This dispute was already decided."))
    session.refresh(dispute)
    audit(session, actor_id=admin_id, action=f"dispute.{target}", target_type="settlement",
          target_id=dispute.settlement_id, now=now)
    return dispute


def uphold_dispute(session: Session, *, admin_id: int, dispute_id: int, now: datetime) -> Dispute:
    """The client was right: the settlement is reversed (once) and the money returns to escrow."""
    dispute = _decide_dispute(session, dispute_id, DisputeStatus.UPHELD, admin_id=admin_id, now=now)
    settlement = session.get(Settlement, dispute.settlement_id)
    original = find(session, f"settle:{settlement.claim_id}")
    if original is not None:
        try:
            reverse(session, transaction_id=original.id, now=now, memo=f"dispute {dispute.id} upheld")
        except InsufficientFunds:
            raise Conflict(_l("The agent's earnings no longer cover this settlement; it cannot be reversed.")) from None
    settlement.reversed_at = now
    session.flush()
    return dispute


def reject_dispute(session: Session, *, admin_id: int, dispute_id: int, now: datetime) -> Dispute:
    return _decide_dispute(session, dispute_id, DisputeStatus.REJECTED, admin_id=admin_id, now=now)


# ---- payouts ----------------------------------------------------------------------------------------------------

def held_earnings_fen(session: Session, agent_id: int, now: datetime) -> int:
    """Pay still inside its dispute window, or under an open dispute: not yet available for payout."""
    open_dispute = select(Dispute.id).where(Dispute.settlement_id == Settlement.id,
                                            Dispute.status == DisputeStatus.OPEN).exists()
    return int(session.scalar(
        select(func.coalesce(func.sum(Settlement.paid_pay_fen), 0))
        .where(Settlement.agent_id == agent_id, Settlement.reversed_at.is_(None),
               (Settlement.disputable_until > now) | open_dispute)
    ) or 0)


def available_earnings_fen(session: Session, agent_id: int, now: datetime) -> int:
    return max(0, balance_of(session, accounts.agent_earnings(agent_id)) - held_earnings_fen(session, agent_id, now))


def request_payout(session: Session, *, agent_id: int, amount_fen: int, now: datetime, min_fen: int) -> Payout:
    """Move available earnings to 'payout pending' for an admin to approve."""
    if amount_fen < min_fen:
        raise Invalid(_l("The minimum payout is ¥%(min)s.", min=format_fen(min_fen)), field="amount")
    if amount_fen > MAX_FEN:
        raise Invalid(_l("That amount is too large."), field="amount")
    earnings = accounts.agent_earnings(agent_id)
    balance = lock_balances(session, [earnings])[earnings]  # two requests at once see each other's result
    available = max(0, balance - held_earnings_fen(session, agent_id, now))
    if amount_fen > available:
        raise Conflict(_l("You can withdraw at most ¥%(available)s now; pay stays held until its dispute "
                          "window has passed.", available=format_fen(available)), field="amount")
    payout = Payout(agent_id=agent_id, amount_fen=amount_fen, status=PayoutStatus.PENDING, requested_at=now)
    session.add(payout)
    session.flush()
    post(session, key=f"payout:{payout.id}", kind=TransactionKind.PAYOUT, now=now,
         legs=[(earnings, -amount_fen), (accounts.agent_payouts_pending(agent_id), amount_fen)])
    return payout


def _decide_payout(session: Session, payout_id: int, target: str, *, admin_id: int, now: datetime) -> Payout:
    done = session.execute(
        update(Payout).where(Payout.id == payout_id, Payout.status == PayoutStatus.PENDING)
        .values(status=target, decided_at=now, decided_by_id=admin_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    payout = session.get(Payout, payout_id)
    if payout is None:
        raise NotFound(_l("No such payout."))
    if done != 1:
        raise Conflict(_l("This payout was already decided."))
    session.refresh(payout)
    audit(session, actor_id=admin_id, action=f"payout.{target}", target_type="user", target_id=payout.agent_id,
          now=now, payout=payout.id, amount=format_fen(payout.amount_fen))
    from app.notifications.services import payout_decided

    payout_decided(session, agent_id=payout.agent_id, payout_id=payout.id, amount_fen=payout.amount_fen,
                   sent=target == PayoutStatus.APPROVED, now=now)
    return payout


def approve_payout(session: Session, *, admin_id: int, payout_id: int, now: datetime) -> Payout:
    """The money leaves: payouts pending -> payouts sent (paid at most once: status guard and key)."""
    payout = _decide_payout(session, payout_id, PayoutStatus.APPROVED, admin_id=admin_id, now=now)
    post(session, key=f"payout_sent:{payout.id}", kind=TransactionKind.PAYOUT_SENT, now=now,
         legs=[(accounts.agent_payouts_pending(payout.agent_id), -payout.amount_fen),
               (accounts.PAYOUTS_SENT, payout.amount_fen)])
    return payout


def reject_payout(session: Session, *, admin_id: int, payout_id: int, now: datetime) -> Payout:
    """The request is reversed: the money goes back to the agent's earnings."""
    payout = _decide_payout(session, payout_id, PayoutStatus.REJECTED, admin_id=admin_id, now=now)
    reverse(session, transaction_id=find(session, f"payout:{payout.id}").id, now=now,
            memo=f"payout {payout.id} rejected")
    return payout
