"""Property: any sequence of claim / release / waitlist / removal keeps every seat rule."""

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.campaigns.models import Shift
from app.claims import services
from app.claims.models import Claim, WaitlistEntry
from app.core import clock
from app.core.errors import DomainError

ACTIONS = st.lists(
    st.tuples(st.sampled_from(["claim", "release", "join", "leave", "remove", "wait"]),
              st.integers(0, 3), st.integers(0, 3)),
    min_size=1, max_size=25,
)


def _assert_rules(session, shift_ids):
    shifts = session.execute(select(Shift.id, Shift.seats, Shift.seats_taken, Shift.status)
                             .where(Shift.id.in_(shift_ids))).all()
    for shift in shifts:
        active = session.scalar(select(func.count(Claim.id)).where(Claim.shift_id == shift.id, Claim.is_active))
        assert active == shift.seats_taken <= shift.seats
        if shift.status == "cancelled":
            assert active == 0
        waiting = set(session.scalars(select(WaitlistEntry.agent_id).where(
            WaitlistEntry.shift_id == shift.id, WaitlistEntry.status == "waiting")))
        holders = set(session.scalars(select(Claim.agent_id).where(Claim.shift_id == shift.id, Claim.is_active)))
        assert not waiting & holders, "an agent holds a seat and waits for the same shift"
        if waiting and shift.status == "open":
            assert shift.seats_taken == shift.seats, "a seat is free while eligible agents wait"
    rows = session.execute(select(Claim.agent_id, Claim.starts_at, Claim.ends_at).where(Claim.is_active)).all()
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            assert not (a.agent_id == b.agent_id and a.starts_at < b.ends_at and b.starts_at < a.ends_at)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=ACTIONS)
def test_random_claim_sequences_keep_every_seat_rule(session, factory, actions):
    start = clock.now()
    campaign = factory.campaign(tags=(), shifts=[(24, 2, 1), (25, 2, 2), (30, 2, 1), (50, 3, 2)])
    shifts = factory.shifts(campaign)
    agents = [factory.agent() for _ in range(4)]
    shift_ids = [s.id for s in shifts]
    for action, a, s in actions:
        agent, shift = agents[a], shifts[s]
        try:
            if action == "claim":
                services.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
            elif action == "release":
                claim = session.scalar(select(Claim).where(Claim.agent_id == agent.id, Claim.shift_id == shift.id,
                                                           Claim.is_active))
                if claim is None:
                    continue
                services.release_claim(session, agent=agent, claim_id=claim.id, now=clock.now(),
                                       cutoff=timedelta(hours=2))
            elif action == "join":
                services.join_waitlist(session, agent=agent, shift_id=shift.id, now=clock.now())
            elif action == "leave":
                services.leave_waitlist(session, agent=agent, shift_id=shift.id, now=clock.now())
            elif action == "remove":
                session.refresh(shift)
                services.remove_shift(session, shift=shift, actor_id=campaign.created_by_id, now=clock.now())
            else:
                clock.freeze(clock.now() + timedelta(minutes=30))
            session.commit()
        except DomainError:
            session.rollback()
        _assert_rules(session, shift_ids)
    clock.freeze(start)
