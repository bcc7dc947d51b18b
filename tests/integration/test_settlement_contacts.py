"""The worker's settlement pays the per-contact bonus for the contacts the agent really logged."""

from datetime import timedelta

from sqlalchemy import select

from app.claims import services as claims
from app.contacts import services as contacts
from app.core import clock, jobs
from app.work import services as work
from tests.ledger_support import assert_ledger_sound, earnings_of, funded_campaign, shift_of


def _checked_in(session, factory, campaign):
    """An agent holding a seat on the campaign's shift, checked in at its start (the clock moved there)."""
    shift = shift_of(session, campaign)
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(shift.starts_at)
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(), opens=timedelta(minutes=15),
                  grace=timedelta(minutes=10))
    return agent, shift, claim


def test_the_settle_job_pays_time_plus_the_bonus_for_logged_contacts(app, session, factory):
    campaign = funded_campaign(factory, session, shifts=((24, 2, 3),), rate_fen=3600, bonus_fen=50)
    agent, shift, claim = _checked_in(session, factory, campaign)
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


def test_successful_outbound_contacts_earn_the_success_bonus(app, session, factory, tmp_path):
    from sqlalchemy import update

    from app.campaigns.models import Campaign
    from app.contacts.models import ContactAttempt

    campaign = funded_campaign(factory, session, shifts=((24, 2, 3),), rate_fen=3600, bonus_fen=50)
    session.execute(update(Campaign).where(Campaign.id == campaign.id)
                    .values(kind="outbound_marketing", bonus_fen_per_success=500))
    session.commit()
    agent, shift, claim = _checked_in(session, factory, campaign)
    work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.ends_at)
    session.commit()
    # Two recorded attempts, one of them a success (as the console records them).
    from app.contacts.models import Contact
    from app.members.models import User
    from tests.integration.contacts_support import csv_bytes, import_directly, phones

    owner = session.get(User, campaign.created_by_id)
    import_directly(session, campaign, owner, csv_bytes([f"客户,{p}," for p in phones(2)]), tmp_path)
    ids = list(session.scalars(select(Contact.id).where(Contact.campaign_id == campaign.id)))
    for contact_id, outcome in zip(ids, ("reactivated", "refused"), strict=True):
        session.add(ContactAttempt(contact_id=contact_id, campaign_id=campaign.id, claim_id=claim.id,
                                   agent_id=agent.id, outcome=outcome, duration_seconds=60, notes="",
                                   created_at=shift.starts_at))
    session.commit()
    clock.freeze(shift.ends_at + timedelta(minutes=5))
    jobs.run_job_now("ledger.settle_due")
    assert earnings_of(session, agent.id) == 120 * 3600 // 60 + 2 * 50 + 1 * 500
    assert_ledger_sound(session)
