"""Hammer the seat rules from real threads, each with its own connection (SQLite and PostgreSQL)."""

import threading

from sqlalchemy import func, select

from app.campaigns.models import Shift
from app.claims import services
from app.claims.models import Claim
from app.core import clock
from app.core.db import db
from app.core.errors import DomainError
from app.members.models import User


def _race(app, jobs):
    """Run each (agent_id, shift_id) claim in its own thread and connection, all released at once."""
    db.session.rollback()  # on SQLite an open transaction here would hold the write lock
    barrier = threading.Barrier(len(jobs))
    outcomes, errors = [], []
    now = clock.now()

    def worker(agent_id, shift_id):
        with app.app_context():
            session = db.session
            try:
                agent = session.get(User, agent_id)
                session.rollback()
                barrier.wait(timeout=30)
                for _attempt in range(5):
                    try:
                        services.claim_shift(session, agent=agent, shift_id=shift_id, now=now)
                        session.commit()
                        outcomes.append("ok")
                        return
                    except DomainError as exc:
                        session.rollback()
                        outcomes.append(exc.code)
                        return
                    except Exception as exc:
                        session.rollback()
                        from app.core.db import is_retryable

                        if not is_retryable(exc):
                            raise
                outcomes.append("gave_up")
            except Exception as exc:  # surfaced below: a crash is a failure
                errors.append(repr(exc))
            finally:
                session.remove() if hasattr(session, "remove") else None

    threads = [threading.Thread(target=worker, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return outcomes


def _check_rules(session):
    session.rollback()
    over = session.scalar(select(func.count(Shift.id)).where(Shift.seats_taken > Shift.seats))
    assert over == 0
    mismatched = session.execute(
        select(Shift.id, Shift.seats_taken, func.count(Claim.id))
        .outerjoin(Claim, (Claim.shift_id == Shift.id) & Claim.is_active)
        .group_by(Shift.id, Shift.seats_taken)
        .having(func.count(Claim.id) != Shift.seats_taken)
    ).all()
    assert mismatched == []
    doubles = session.execute(
        select(Claim.agent_id, Claim.shift_id).where(Claim.is_active).group_by(Claim.agent_id, Claim.shift_id)
        .having(func.count() > 1)
    ).all()
    assert doubles == []
    a, b = Claim.__table__.alias("a"), Claim.__table__.alias("b")
    overlaps = session.execute(
        select(a.c.id, b.c.id).where(a.c.agent_id == b.c.agent_id, a.c.id < b.c.id, a.c.is_active, b.c.is_active,
                                     a.c.starts_at < b.c.ends_at, a.c.ends_at > b.c.starts_at)
    ).all()
    assert overlaps == []


def test_many_agents_racing_for_few_seats_never_overbook(app, session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 5)]))[0]
    agents = [factory.agent().id for _ in range(24)]
    outcomes = _race(app, [(agent_id, shift.id) for agent_id in agents])
    assert outcomes.count("ok") == 5
    assert set(outcomes) <= {"ok", "full"}
    session.refresh(shift)
    assert shift.seats_taken == 5
    _check_rules(session)


def test_one_agent_tapping_grab_many_times_at_once_gets_one_seat(app, session, factory):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 50)]))[0]
    agent = factory.agent()
    outcomes = _race(app, [(agent.id, shift.id)] * 12)
    assert outcomes.count("ok") == 1
    assert session.scalar(select(func.count(Claim.id)).where(Claim.agent_id == agent.id)) == 1
    _check_rules(session)


def test_one_agent_grabbing_overlapping_shifts_at_once_holds_only_one(app, session, factory):
    campaigns = [factory.campaign(tags=(), shifts=[(24 + i * 0.25, 2, 10)]) for i in range(6)]
    agent = factory.agent()
    jobs = [(agent.id, factory.shifts(c)[0].id) for c in campaigns]
    outcomes = _race(app, jobs)
    assert outcomes.count("ok") == 1
    _check_rules(session)


def test_a_crowd_grabbing_several_popular_shifts_keeps_every_rule(app, session, factory):
    campaign = factory.campaign(tags=(), shifts=[(24, 2, 3), (25, 2, 3), (27, 2, 3)])
    shifts = [s.id for s in factory.shifts(campaign)]
    agents = [factory.agent().id for _ in range(10)]
    jobs = [(a, s) for a in agents for s in shifts]
    outcomes = _race(app, jobs)
    assert outcomes.count("ok") <= 9
    _check_rules(session)
