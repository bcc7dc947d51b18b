"""The worker's settlement pays the per-contact bonus for the contacts the agent really logged."""

from datetime import timedelta

from app.claims import services as claims
from app.contacts import services as contacts
from app.core import clock, jobs
from app.work import services as work
from tests.ledger_support import assert_ledger_sound, earnings_of, funded_campaign, shift_of


def test_the_settle_job_pays_time_plus_the_bonus_for_logged_contacts(app, session, factory):
    campaign = funded_campaign(factory, session, shifts=((24, 2, 3),), rate_fen=3600, bonus_fen=50)
    shift = shift_of(session, campaign)
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(shift.starts_at)
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(), opens=timedelta(minutes=15),
                  grace=timedelta(minutes=10))
    for _ in range(3):
        contacts.log_inbound_contact(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(),
                                     data=contacts.InboundInput("phone", "order", "resolved", 60, "您好"))
    work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.ends_at)
    session.commit()
    clock.freeze(shift.ends_at + timedelta(minutes=5))
    jobs.run_job_now("ledger.settle_due")
    jobs.run_job_now("ledger.settle_due")  # delivered twice: paid once
    assert earnings_of(session, agent.id) == 120 * 3600 // 60 + 3 * 50
    assert_ledger_sound(session)
