"""Helpers for the work and money tests: funded campaigns, worked claims, the ledger invariants."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from app.campaigns.models import Campaign, Shift
from app.claims import services as claims
from app.claims.models import Claim
from app.core import clock
from app.ledger import accounts, services
from app.ledger.journal import balance_of
from app.ledger.payments import SimulatedProvider
from app.ledger.queries import check_invariants
from app.ledger.settlement import settle_due_claims
from app.work import services as work

COMMISSION_BPS = 1000
WINDOW = timedelta(hours=48)
OPENS, GRACE = timedelta(minutes=15), timedelta(minutes=10)


def assert_ledger_sound(session) -> None:
    """Every invariant of design/money.md holds for the committed data."""
    session.rollback()
    problems = check_invariants(session)
    assert problems == [], problems


def top_up(session, organisation_id: int, amount_fen: int, *, reference: str | None = None):
    payment = SimulatedProvider().charge(organisation_id=organisation_id, amount_fen=amount_fen,
                                         reference=reference or uuid.uuid4().hex)
    posted = services.top_up(session, organisation_id=organisation_id, payment=payment, now=clock.now())
    session.commit()
    return posted


def funded_campaign(factory, session, *, owner=None, budget_fen: int = 1_000_000, wallet_fen: int | None = None,
                    shifts=((24, 2, 3),), rate_fen: int = 3800, bonus_fen: int = 50) -> Campaign:
    """A published campaign whose budget sits in escrow (the wallet was topped up first)."""
    owner = owner or factory.client()
    campaign = factory.campaign(owner, tags=(), publish=False, shifts=list(shifts), rate_fen=rate_fen)
    campaign.budget_fen = budget_fen
    campaign.bonus_fen_per_contact = bonus_fen
    session.commit()
    top_up(session, owner.organisation_id, budget_fen if wallet_fen is None else wallet_fen)
    services.publish_and_fund(session, campaign, clock.now())
    session.commit()
    return campaign


def escrow_of(session, campaign_id: int) -> int:
    return balance_of(session, accounts.campaign_escrow(campaign_id))


def earnings_of(session, agent_id: int) -> int:
    return balance_of(session, accounts.agent_earnings(agent_id))


def work_shift(session, agent, shift: Shift, *, checked_in_after: timedelta = timedelta(0),
               checked_out_after: timedelta | None = None) -> Claim:
    """Claim a seat, check in and out at the given offsets from the shift start (default: the whole shift)."""
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=shift.starts_at + checked_in_after,
                  opens=OPENS, grace=GRACE)
    session.commit()
    out = shift.starts_at + checked_out_after if checked_out_after is not None else shift.ends_at
    claim = work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=out)
    session.commit()
    return claim


def settle(session, *, now=None, limit: int = 2000, contacts=None):
    result = settle_due_claims(session, now=now or clock.now(), commission_bps=COMMISSION_BPS,
                               dispute_window=WINDOW, limit=limit, contacts_by_claim=contacts)
    session.commit()
    return result


def shift_of(session, campaign: Campaign, index: int = 0) -> Shift:
    return list(session.scalars(select(Shift).where(Shift.campaign_id == campaign.id)
                                .order_by(Shift.starts_at, Shift.id)))[index]
