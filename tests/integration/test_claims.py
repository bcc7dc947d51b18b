"""Grabbing and releasing seats, the waitlist, and the rules behind them."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.claims import services
from app.claims.models import Claim, ClaimStatus, WaitlistEntry
from app.claims.services import NotEligible
from app.core import clock
from app.core.errors import Conflict, NotFound
from app.members import services as members
from app.members.models import Tier
from app.notifications.models import Notification

TAGS = ("industry.ecommerce",)
CUTOFF = timedelta(hours=2)


def blocker_codes(exc):
    return {b.code for b in exc.value.blockers}


def test_an_eligible_agent_takes_a_seat_and_the_count_follows(session, factory):
    campaign = factory.campaign(tags=TAGS)
    shift = factory.shifts(campaign)[0]
    agent = factory.agent(tags=TAGS)
    claim = services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    session.refresh(shift)
    assert claim.status == ClaimStatus.CLAIMED and claim.is_active
    assert shift.seats_taken == 1
    assert (claim.starts_at, claim.ends_at) == (shift.starts_at, shift.ends_at)


def test_claiming_the_same_shift_twice_is_a_conflict_not_a_second_seat(session, factory):
    shift = factory.shifts(factory.campaign(tags=TAGS))[0]
    agent = factory.agent(tags=TAGS)
    services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.rollback()
    assert session.scalar(select(func.count(Claim.id))) == 1


def test_missing_tag_expired_tag_and_low_tier_are_each_named(session, factory):
    campaign = factory.campaign(tags=("industry.ecommerce", "skill.inbound_support"), min_tier=Tier.SENIOR)
    shift = factory.shifts(campaign)[0]
    agent = factory.agent(tags=("industry.ecommerce",), tier=Tier.CERTIFIED)
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.rollback()
    assert blocker_codes(exc) == {"tags", "tier"}
    tags = next(b for b in exc.value.blockers if b.code == "tags")
    assert tags.detail["missing"] == ["skill.inbound_support"]

    expired = factory.agent(tags=("industry.ecommerce", "skill.inbound_support"), tier=Tier.GOLD,
                            tag_expires_at=clock.now() + timedelta(hours=1))
    clock.freeze(clock.now() + timedelta(hours=2))
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=expired, shift_id=shift.id, now=clock.now())
    session.rollback()
    assert blocker_codes(exc) == {"tags"}


def test_pending_and_suspended_agents_cannot_claim(session, factory):
    shift = factory.shifts(factory.campaign(tags=()))[0]
    for status in ("pending", "suspended"):
        agent = factory.agent(status=status)
        with pytest.raises(NotEligible) as exc:
            services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
        session.rollback()
        assert "not_active" in blocker_codes(exc)


def test_overlapping_shifts_cannot_both_be_held(session, factory):
    a = factory.campaign(tags=(), shifts=[(24, 2, 5)])
    b = factory.campaign(tags=(), shifts=[(25, 2, 5), (26, 2, 5)])
    agent = factory.agent()
    services.claim_shift(session, agent=agent, shift_id=factory.shifts(a)[0].id, now=clock.now())
    session.commit()
    overlapping, adjacent = factory.shifts(b)
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=agent, shift_id=overlapping.id, now=clock.now())
    session.rollback()
    assert blocker_codes(exc) == {"overlap"}
    services.claim_shift(session, agent=agent, shift_id=adjacent.id, now=clock.now())  # ends == starts is fine
    session.commit()


def test_the_database_refuses_an_overlapping_claim_even_without_the_service(session, factory):
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    a = factory.campaign(tags=(), shifts=[(24, 2, 5)])
    b = factory.campaign(tags=(), shifts=[(25, 2, 5)])
    agent = factory.agent()
    services.claim_shift(session, agent=agent, shift_id=factory.shifts(a)[0].id, now=clock.now())
    session.commit()
    other = factory.shifts(b)[0]
    with pytest.raises(IntegrityError):
        session.execute(insert(Claim).values(shift_id=other.id, agent_id=agent.id, campaign_id=b.id,
                                             starts_at=other.starts_at, ends_at=other.ends_at, status="claimed",
                                             is_active=True, via_waitlist=False, claimed_at=clock.now()))
    session.rollback()


def test_a_full_shift_says_so_and_offers_the_waitlist(session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 1)]))[0]
    first, second = factory.agent(), factory.agent()
    services.claim_shift(session, agent=first, shift_id=shift.id, now=clock.now())
    session.commit()
    with pytest.raises(Conflict) as exc:
        services.claim_shift(session, agent=second, shift_id=shift.id, now=clock.now())
    session.rollback()
    assert exc.value.code == "full"
    services.join_waitlist(session, agent=second, shift_id=shift.id, now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        services.join_waitlist(session, agent=second, shift_id=shift.id, now=clock.now())
    session.rollback()


def test_releasing_before_the_cutoff_is_free_and_promotes_the_first_eligible_waiter(session, factory):
    shift = factory.shifts(factory.campaign(tags=TAGS, shifts=[(24, 2, 1)]))[0]
    holder = factory.agent(tags=TAGS)
    lapsed = factory.agent(tags=TAGS)
    waiter = factory.agent(tags=TAGS)
    claim = services.claim_shift(session, agent=holder, shift_id=shift.id, now=clock.now())
    session.commit()
    services.join_waitlist(session, agent=lapsed, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(clock.now() + timedelta(seconds=1))
    services.join_waitlist(session, agent=waiter, shift_id=shift.id, now=clock.now())
    session.commit()
    admin = factory.admin()
    members.revoke_tag(session, admin=admin, agent_id=lapsed.id, tag_code=TAGS[0], reason="quality", now=clock.now())
    session.commit()

    released = services.release_claim(session, agent=holder, claim_id=claim.id, now=clock.now(), cutoff=CUTOFF)
    session.commit()
    assert released.status == ClaimStatus.RELEASED
    promoted = session.scalar(select(Claim).where(Claim.shift_id == shift.id, Claim.is_active))
    assert promoted.agent_id == waiter.id and promoted.via_waitlist
    statuses = dict(session.execute(select(WaitlistEntry.agent_id, WaitlistEntry.status)).all())
    assert statuses == {lapsed.id: "skipped", waiter.id: "promoted"}
    kinds = dict(session.execute(select(Notification.user_id, Notification.kind)
                                 .where(Notification.kind.like("waitlist.%"))).all())
    assert kinds == {lapsed.id: "waitlist.skipped", waiter.id: "waitlist.promoted"}
    session.refresh(shift)
    assert shift.seats_taken == 1


def test_releasing_inside_the_cutoff_is_a_late_cancellation_and_after_start_is_refused(session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(3, 2, 2)]))[0]
    agent, other = factory.agent(), factory.agent()
    claim = services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    late = services.claim_shift(session, agent=other, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(clock.now() + timedelta(hours=1, minutes=30))
    assert services.release_claim(session, agent=agent, claim_id=claim.id, now=clock.now(),
                                  cutoff=CUTOFF).status == ClaimStatus.LATE_CANCELLED
    session.commit()
    clock.freeze(clock.now() + timedelta(hours=2))
    with pytest.raises(Conflict):
        services.release_claim(session, agent=other, claim_id=late.id, now=clock.now(), cutoff=CUTOFF)
    session.rollback()


def test_an_agent_cannot_release_another_agents_claim(session, factory):
    shift = factory.shifts(factory.campaign(tags=()))[0]
    owner, intruder = factory.agent(), factory.agent()
    claim = services.claim_shift(session, agent=owner, shift_id=shift.id, now=clock.now())
    session.commit()
    with pytest.raises(NotFound):
        services.release_claim(session, agent=intruder, claim_id=claim.id, now=clock.now(), cutoff=CUTOFF)


def test_past_cancelled_and_draft_shifts_cannot_be_claimed(session, factory):
    agent = factory.agent()
    draft = factory.shifts(factory.campaign(tags=(), publish=False))[0]
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=agent, shift_id=draft.id, now=clock.now())
    session.rollback()
    assert "not_open" in blocker_codes(exc)

    campaign = factory.campaign(tags=(), shifts=[(24, 2, 3), (48, 2, 3)])
    soon, later = factory.shifts(campaign)
    services.remove_shift(session, shift=later, actor_id=campaign.created_by_id, now=clock.now())
    session.commit()
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=agent, shift_id=later.id, now=clock.now())
    session.rollback()
    assert "not_open" in blocker_codes(exc)

    clock.freeze(clock.now() + timedelta(hours=25))
    with pytest.raises(NotEligible) as exc:
        services.claim_shift(session, agent=agent, shift_id=soon.id, now=clock.now())
    session.rollback()
    assert "started" in blocker_codes(exc)


def test_cancelling_a_campaign_releases_future_claims_and_tells_each_agent(session, factory):
    campaign = factory.campaign(tags=(), shifts=[(24, 2, 3), (48, 2, 3)])
    agents = [factory.agent() for _ in range(3)]
    for agent, shift in zip(agents, factory.shifts(campaign) + factory.shifts(campaign)[:1], strict=True):
        services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    released = services.cancel_campaign(session, campaign=campaign, actor_id=campaign.created_by_id, now=clock.now())
    session.commit()
    assert released == 3
    assert session.scalar(select(func.count(Claim.id)).where(Claim.is_active)) == 0
    assert {s.seats_taken for s in factory.shifts(campaign)} == {0}
    notified = session.scalars(select(Notification.user_id).where(Notification.kind == "claim.cancelled_by_client"))
    assert sorted(notified) == sorted(a.id for a in agents)
    with pytest.raises(Conflict):
        services.cancel_campaign(session, campaign=campaign, actor_id=campaign.created_by_id, now=clock.now())
