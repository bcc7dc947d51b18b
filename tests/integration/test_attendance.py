"""Working a shift: the check-in window, checking out (early), the no-show and auto-complete sweeps."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.core import clock
from app.core.errors import Conflict, NotFound
from app.core.jobs import PERIODIC, run_job_now
from app.work import policies, services
from tests.ledger_support import GRACE, OPENS

MIN = timedelta(minutes=1)
SEC = timedelta(seconds=1)


@pytest.fixture
def held(session, factory):
    """An agent holding a seat on a 2-hour shift starting in 24 hours (3 seats)."""
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 3)]))[0]
    agent = factory.agent()
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    return shift, agent, claim


def check_in(session, agent, claim, at):
    result = services.check_in(session, agent_id=agent.id, claim_id=claim.id, now=at, opens=OPENS, grace=GRACE)
    session.commit()
    return result


@pytest.mark.parametrize("offset, allowed", [
    (-OPENS - SEC, False),  # one second before the window opens
    (-OPENS, True),  # the window opens, inclusive
    (timedelta(0), True),
    (GRACE, True),  # the last moment of the grace period, inclusive
    (GRACE + SEC, False),
])
def test_check_in_is_open_from_shortly_before_the_start_until_the_grace_ends(session, held, offset, allowed):
    shift, agent, claim = held
    if allowed:
        result = check_in(session, agent, claim, shift.starts_at + offset)
        assert result.status == ClaimStatus.CHECKED_IN and result.checked_in_at == shift.starts_at + offset
    else:
        with pytest.raises(Conflict) as exc:
            check_in(session, agent, claim, shift.starts_at + offset)
        session.rollback()
        assert exc.value.code == ("too_early" if offset < timedelta(0) else "too_late")
        assert session.get(Claim, claim.id).status == ClaimStatus.CLAIMED


def test_the_check_in_policy_as_a_table():
    start = clock.now()
    end = start + timedelta(hours=2)
    cases = [
        (ClaimStatus.CLAIMED, start - OPENS, "allowed"),
        (ClaimStatus.CLAIMED, start - OPENS - SEC, "too_early"),
        (ClaimStatus.CLAIMED, start + GRACE + SEC, "too_late"),
        (ClaimStatus.CHECKED_IN, start, "not_claimed"),
        (ClaimStatus.RELEASED, start, "not_claimed"),
        (ClaimStatus.NO_SHOW, start, "not_claimed"),
    ]
    for status, at, expected in cases:
        decision = policies.can_check_in(status=status, starts_at=start, ends_at=end, now=at, opens=OPENS,
                                         grace=GRACE)
        assert (decision.reason or "allowed") == expected, (status, at)
    # A grace longer than the shift never lets anyone check in after it ended.
    short = policies.can_check_in(status=ClaimStatus.CLAIMED, starts_at=start, ends_at=start + 5 * MIN,
                                  now=start + 6 * MIN, opens=OPENS, grace=GRACE)
    assert short.reason == "too_late"


def test_checking_in_twice_or_on_someone_elses_claim_is_refused(session, factory, held):
    shift, agent, claim = held
    check_in(session, agent, claim, shift.starts_at)
    with pytest.raises(Conflict):
        check_in(session, agent, claim, shift.starts_at + MIN)
    session.rollback()
    with pytest.raises(NotFound):
        check_in(session, factory.agent(), claim, shift.starts_at)
    session.rollback()


def test_checking_out_early_is_recorded_and_pays_only_the_minutes_worked(session, held):
    shift, agent, claim = held
    check_in(session, agent, claim, shift.starts_at - 5 * MIN)  # early check-in is not paid before the start
    done = services.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.starts_at + 75 * MIN)
    session.commit()
    assert done.status == ClaimStatus.COMPLETED and done.left_early
    assert done.worked_minutes == 75 and done.checked_out_at == shift.starts_at + 75 * MIN
    assert done.is_active  # a worked seat still counts as held
    with pytest.raises(Conflict):
        services.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.ends_at)
    session.rollback()


def test_a_late_check_in_and_a_check_out_after_the_end_pay_the_overlap_with_the_shift(session, held):
    shift, agent, claim = held
    check_in(session, agent, claim, shift.starts_at + 7 * MIN + 20 * SEC)
    done = services.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.ends_at + 30 * MIN)
    session.commit()
    # 112 min 40 s of overlap: seconds are rounded, then whole minutes count.
    assert done.worked_minutes == 112 and not done.left_early


def test_paid_minutes_round_seconds_then_floor_minutes():
    start = clock.now()
    assert policies.whole_minutes(start, start + 59 * SEC) == 0
    assert policies.whole_minutes(start, start + 59.5 * SEC) == 1  # half a second rounds up to a whole minute
    assert policies.whole_minutes(start, start + 119 * SEC) == 1
    assert policies.whole_minutes(start, start - MIN) == 0


def test_the_no_show_sweep_frees_the_seat_and_gives_it_to_the_waitlist_with_a_fresh_grace(session, factory):
    from app.notifications.models import Notification

    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 2)]))[0]
    present, absent, waiter = factory.agent(), factory.agent(), factory.agent()
    kept = claims.claim_shift(session, agent=present, shift_id=shift.id, now=clock.now())
    missed = claims.claim_shift(session, agent=absent, shift_id=shift.id, now=clock.now())
    session.commit()
    claims.join_waitlist(session, agent=waiter, shift_id=shift.id, now=clock.now())
    session.commit()
    check_in(session, present, kept, shift.starts_at)

    assert services.sweep_no_shows(session, now=shift.starts_at + GRACE, grace=GRACE) == 0  # not yet: grace
    session.commit()
    swept_at = shift.starts_at + GRACE + SEC
    assert services.sweep_no_shows(session, now=swept_at, grace=GRACE) == 1
    session.commit()
    session.refresh(shift)
    gone = session.get(Claim, missed.id)
    assert gone.status == ClaimStatus.NO_SHOW and not gone.is_active and gone.ended_at == swept_at
    assert session.get(Claim, kept.id).status == ClaimStatus.CHECKED_IN
    # The freed seat went to the waiting agent at once, and they were told.
    late = session.scalar(select(Claim).where(Claim.agent_id == waiter.id, Claim.is_active))
    assert late.via_waitlist and late.claimed_at == swept_at and shift.seats_taken == 2
    assert session.scalar(select(Notification.kind).where(Notification.user_id == waiter.id)) == "waitlist.promoted"
    # Their grace runs from the hand-over: the next sweep leaves them alone, and they can still check in.
    assert services.sweep_no_shows(session, now=swept_at + GRACE, grace=GRACE) == 0
    session.commit()
    check_in(session, waiter, late, swept_at + GRACE)
    # A no-show cannot check in after all.
    with pytest.raises(Conflict):
        check_in(session, absent, gone, shift.starts_at + GRACE)
    session.rollback()


def test_a_freed_seat_of_a_shift_that_has_ended_is_not_handed_out(session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 1, 1)]))[0]
    absent, waiter = factory.agent(), factory.agent()
    claims.claim_shift(session, agent=absent, shift_id=shift.id, now=clock.now())
    session.commit()
    claims.join_waitlist(session, agent=waiter, shift_id=shift.id, now=clock.now())
    session.commit()
    assert services.sweep_no_shows(session, now=shift.ends_at + SEC, grace=GRACE) == 1
    session.commit()
    assert session.scalar(select(Claim.id).where(Claim.agent_id == waiter.id)) is None


def test_the_no_show_sweep_works_in_batches(session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 5)]))[0]
    for agent in [factory.agent() for _ in range(5)]:
        claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    later = shift.starts_at + timedelta(hours=1)
    assert services.sweep_no_shows(session, now=later, grace=GRACE, limit=2) == 2
    assert services.sweep_no_shows(session, now=later, grace=GRACE, limit=2) == 2
    assert services.sweep_no_shows(session, now=later, grace=GRACE, limit=2) == 1
    session.commit()
    session.refresh(shift)
    assert shift.seats_taken == 0


def test_the_auto_complete_sweep_checks_out_at_the_end_with_minutes_up_to_it(session, held):
    shift, agent, claim = held
    check_in(session, agent, claim, shift.starts_at + 3 * MIN + 31 * SEC)
    assert services.complete_ended_shifts(session, now=shift.ends_at - SEC) == 0
    assert services.complete_ended_shifts(session, now=shift.ends_at + timedelta(hours=3)) == 1
    session.commit()
    done = session.get(Claim, claim.id)
    session.refresh(done)
    # 116 min 29 s: the same rounding as a check-out by hand.
    assert done.status == ClaimStatus.COMPLETED and done.worked_minutes == 116
    assert done.checked_out_at == shift.ends_at and not done.left_early
    assert done.worked_minutes == policies.paid_minutes(checked_in_at=done.checked_in_at, checked_out_at=shift.ends_at,
                                                        starts_at=shift.starts_at, ends_at=shift.ends_at)


def test_the_sweeps_are_periodic_jobs_that_read_the_configured_grace(session, app, held):
    shift, agent, claim = held
    names = {p.name for p in PERIODIC}
    assert {"work.sweep_no_shows", "work.complete_ended_shifts"} <= names
    session.commit()
    clock.freeze(shift.starts_at + timedelta(minutes=app.config["NO_SHOW_GRACE_MINUTES"]) + SEC)
    run_job_now("work.sweep_no_shows")
    assert session.get(Claim, claim.id).status == ClaimStatus.NO_SHOW
