"""Handing out contacts from real threads, each with its own connection (SQLite and PostgreSQL)."""

from collections import Counter

from sqlalchemy import func, select

from app.contacts import services
from app.contacts.models import Contact, ContactAttempt, ContactStatus
from app.core import clock
from app.core.db import commit_with_retry
from tests.integration.contacts_support import (
    checked_in_claims,
    csv_bytes,
    import_directly,
    outbound_campaign,
    phones,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.threads import in_threads


def _setup(session, factory, uploads, *, contacts: int, agents: int):
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    import_directly(session, campaign, owner, csv_bytes([f"客户,{p}," for p in phones(contacts)]), uploads)
    people = [factory.agent() for _ in range(agents)]
    claim_ids = checked_in_claims(session, factory, campaign, people)
    return campaign, list(zip([p.id for p in people], claim_ids, strict=True))


def test_many_agents_working_a_list_at_once_never_get_the_same_contact(app, session, factory, uploads):
    campaign, seats = _setup(session, factory, uploads, contacts=150, agents=12)
    now = clock.now()

    def work_the_list(agent_id, claim_id):
        def job(s):
            handed = []
            while True:
                picked = commit_with_retry(s, lambda: services.next_contact(
                    s, agent_id=agent_id, claim_id=claim_id, now=now))
                if picked is None:
                    return handed
                handed.append(picked)
                commit_with_retry(s, lambda contact_id=picked: services.record_outcome(
                    s, agent_id=agent_id, claim_id=claim_id, contact_id=contact_id, now=now,
                    data=services.OutcomeInput("reached", 30)))
        return job

    results = in_threads(app, [work_the_list(a, c) for a, c in seats])
    handed = [contact for per_agent in results for contact in per_agent]
    assert len(handed) == 150
    assert Counter(handed).most_common(1)[0][1] == 1  # no contact handed out twice
    assert sum(1 for per_agent in results if per_agent) > 1  # the work was shared
    session.rollback()
    assert session.scalar(select(func.count(ContactAttempt.id))) == 150
    per_contact = session.execute(select(ContactAttempt.contact_id, func.count()).group_by(ContactAttempt.contact_id)
                                  .having(func.count() > 1)).all()
    assert per_contact == []
    assert session.scalar(select(func.count(Contact.id)).where(Contact.status != ContactStatus.DONE)) == 0


def test_agents_racing_for_the_last_few_contacts_get_one_each_at_most(app, session, factory, uploads):
    campaign, seats = _setup(session, factory, uploads, contacts=3, agents=12)
    now = clock.now()
    jobs = [lambda s, a=a, c=c: commit_with_retry(s, lambda: services.next_contact(
        s, agent_id=a, claim_id=c, now=now)) for a, c in seats]
    picked = [p for p in in_threads(app, jobs) if p is not None]
    assert sorted(picked) == sorted(set(picked)) and len(picked) == 3
    session.rollback()
    holders = session.execute(select(Contact.assigned_agent_id).where(Contact.status == ContactStatus.ASSIGNED)).all()
    assert len(holders) == len({h[0] for h in holders}) == 3


def test_one_agent_tapping_next_many_times_at_once_holds_one_contact(app, session, factory, uploads):
    campaign, seats = _setup(session, factory, uploads, contacts=20, agents=1)
    (agent_id, claim_id), now = seats[0], clock.now()
    job = lambda s: commit_with_retry(s, lambda: services.next_contact(  # noqa: E731
        s, agent_id=agent_id, claim_id=claim_id, now=now))
    picked = in_threads(app, [job] * 10)
    assert len(set(picked)) == 1 and picked[0] is not None
    session.rollback()
    assert session.scalar(select(func.count(Contact.id)).where(Contact.status == ContactStatus.ASSIGNED)) == 1
