"""Hand-built campaign histories with known answers, made through the real services (insight tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from app.claims import services as claims
from app.contacts import services as contacts
from app.contacts.queries import contacts_handled_by_claim, successes_by_claim
from app.core import clock
from app.ledger import services as ledger
from app.ledger.payments import Payment
from app.ledger.settlement import settle_due_claims
from app.members.models import User
from app.quality import services as quality
from app.quality.models import QaFlag, Survey
from app.work import services as work

SECRET = b"insight-test-secret"
OPENS = timedelta(minutes=15)
GRACE = timedelta(minutes=10)


def fund(session, campaign) -> None:
    """Top the owner's wallet up with the budget and publish the campaign (its budget moves into escrow)."""
    ledger.top_up(session, organisation_id=campaign.organisation_id, now=clock.now(), payment=Payment(
        payment_id=f"test-{campaign.id}", amount_fen=campaign.budget_fen, succeeded=True, provider="test"))
    ledger.publish_and_fund(session, campaign, clock.now())
    session.commit()


@dataclass
class Scenario:
    campaign: object
    owner: User
    worker: User
    no_show: User
    later: User
    now: object  # the moment the metrics are read


def inbound_scenario(session, factory, *, owner=None, extra_contacts: int = 0, secret: bytes = SECRET) -> Scenario:
    """An inbound campaign with two shifts of two seats.

    Shift 1 (starts in 1 h, 2 h long): `worker` checks in 5 min late, logs 3 conversations (+ `extra_contacts`),
    checks out at the end; `no_show` never comes. Shift 2 (in 5 h): `later` holds a seat. Then: settlement,
    surveys (scores 5 and 2, one unanswered), QA (a forbidden word 态度 → one flag, confirmed).
    """
    owner = owner or factory.client()
    campaign = factory.campaign(owner, tags=(), kind="inbound", shifts=[(1, 2, 2), (5, 2, 2)], name="双11 售后高峰",
                                publish=False)
    fund(session, campaign)
    first, second = factory.shifts(campaign)
    worker, no_show, later = factory.agent(), factory.agent(), factory.agent()
    held = {}
    for agent, shift in ((worker, first), (no_show, first), (later, second)):
        held[agent.id] = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now()).id
        session.commit()
    quality.set_qa_rules(session, campaign=campaign, data=quality.RulesInput("", "态度", None, None),
                         known_courses=set(), now=clock.now())
    session.commit()

    at = first.starts_at + timedelta(minutes=5)
    work.check_in(session, agent_id=worker.id, claim_id=held[worker.id], now=at, opens=OPENS, grace=GRACE)
    session.commit()
    logged = [("delivery", "resolved", 120, "物流太慢了，快递一直没到"),
              ("complaint", "escalated", 300, "投诉快递员态度差，要求退款"),
              ("return", "resolved", 180, "退款什么时候到账 =SUM(A1)")]
    logged += [("order", "resolved", 60, "订单 查询")] * extra_contacts
    for i, (category, resolution, seconds, notes) in enumerate(logged):
        contacts.log_inbound_contact(session, agent_id=worker.id, claim_id=held[worker.id], data=contacts.InboundInput(
            channel="phone", category=category, resolution=resolution, duration_seconds=seconds, notes=notes),
            now=at + timedelta(minutes=10 + i))
        session.commit()
    work.sweep_no_shows(session, now=first.starts_at + GRACE + timedelta(minutes=1), grace=GRACE)
    work.check_out(session, agent_id=worker.id, claim_id=held[worker.id], now=first.ends_at)
    session.commit()

    done = first.ends_at + timedelta(minutes=5)
    settle_due_claims(session, now=done, commission_bps=1000, dispute_window=timedelta(hours=48),
                      contacts_by_claim=lambda ids: contacts_handled_by_claim(session, ids),
                      successes_by_claim=lambda ids: successes_by_claim(session, ids))
    quality.create_surveys(session, now=done)
    quality.inspect_contacts(session, now=done)
    session.commit()
    surveys = list(session.scalars(select(Survey).where(Survey.campaign_id == campaign.id).order_by(Survey.id)))
    answers = [(5, "物流 很快 客服 耐心"), (2, "退款 太慢 =HYPERLINK(\"x\")")]
    for survey, (score, comment) in zip(surveys, answers, strict=False):
        quality.answer_survey(session, secret=secret, token=quality.survey_token(secret, survey.id), score=score,
                              comment=comment, now=done + timedelta(minutes=1))
        session.commit()
    flag = session.scalars(select(QaFlag).where(QaFlag.campaign_id == campaign.id)).one()
    quality.decide_flag(session, user=owner, flag_id=flag.id, confirm=True, now=done + timedelta(minutes=2))
    session.commit()
    now = done + timedelta(minutes=10)
    clock.freeze(now)
    return Scenario(campaign=campaign, owner=owner, worker=worker, no_show=no_show, later=later, now=now)
