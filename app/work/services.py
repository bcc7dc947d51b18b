"""Working a shift: check in, check out, and the sweeps for no-shows and shifts that ended.

Each mutation is a conditional UPDATE on the claim's status, so a check-out racing the
auto-complete sweep (or a check-in racing the no-show sweep) has exactly one winner.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.campaigns.models import Shift
from app.claims.models import Claim, ClaimStatus
from app.core.errors import Conflict, NotFound
from app.core.sqlfuncs import later_of, whole_minutes
from app.work import policies


def _own_claim(session: Session, *, agent_id: int, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None or claim.agent_id != agent_id:
        raise NotFound(_l("No such claim."))
    return claim


def check_in(session: Session, *, agent_id: int, claim_id: int, now: datetime, opens: timedelta,
             grace: timedelta) -> Claim:
    """Start working a held seat, inside the check-in window."""
    claim = _own_claim(session, agent_id=agent_id, claim_id=claim_id)
    decision = policies.can_check_in(status=claim.status, starts_at=claim.starts_at, ends_at=claim.ends_at,
                                     now=now, opens=opens, grace=grace, claimed_at=claim.claimed_at)
    if not decision:
        raise Conflict(policies.REASONS[decision.reason], code=decision.reason)
    done = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status == ClaimStatus.CLAIMED)
        .values(status=ClaimStatus.CHECKED_IN, checked_in_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:  # the no-show sweep (or a second tap) got there first
        raise Conflict(policies.REASONS["not_claimed"], code="not_claimed")
    session.refresh(claim)
    return claim


def check_out(session: Session, *, agent_id: int, claim_id: int, now: datetime) -> Claim:
    """Stop working: at the end, or early (recorded). Paid minutes are the overlap with the shift."""
    claim = _own_claim(session, agent_id=agent_id, claim_id=claim_id)
    decision = policies.can_check_out(status=claim.status)
    if not decision:
        raise Conflict(policies.REASONS[decision.reason], code=decision.reason)
    minutes = policies.paid_minutes(checked_in_at=claim.checked_in_at, checked_out_at=now,
                                    starts_at=claim.starts_at, ends_at=claim.ends_at)
    done = session.execute(
        update(Claim).where(Claim.id == claim.id, Claim.status == ClaimStatus.CHECKED_IN)
        .values(status=ClaimStatus.COMPLETED, checked_out_at=now, worked_minutes=minutes,
                left_early=now < claim.ends_at, ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if done != 1:  # the auto-complete sweep got there first
        raise Conflict(policies.REASONS["not_checked_in"], code="not_checked_in")
    session.refresh(claim)
    return claim


def sweep_no_shows(session: Session, *, now: datetime, grace: timedelta, limit: int = 2000) -> int:
    """Claims still 'claimed' after start + grace become no-shows and free their seats.

    Each freed seat of a shift still running goes to its waitlist: the first eligible waiting agent gets
    it with their own check-in grace from that moment (docs/marketplace.md). Marking and freeing are two
    statements per batch, whatever its size; promotions then run per affected shift.
    """
    due = (
        select(Claim.id).where(Claim.status == ClaimStatus.CLAIMED, Claim.starts_at < now - grace,
                               Claim.claimed_at < now - grace)
        .order_by(Claim.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ended = session.execute(
        update(Claim)
        .where(Claim.id.in_(due.scalar_subquery()), Claim.status == ClaimStatus.CLAIMED)
        .values(status=ClaimStatus.NO_SHOW, is_active=False, ended_at=now)
        .returning(Claim.shift_id, Claim.id)
        .execution_options(synchronize_session=False)
    ).all()
    from app.notifications.services import no_shows_recorded

    no_shows_recorded(session, claim_ids=[row.id for row in ended], now=now)
    ended = [row.shift_id for row in ended]
    per_shift: dict[int, int] = {}
    for shift_id in ended:
        per_shift[shift_id] = per_shift.get(shift_id, 0) + 1
    if per_shift:
        shifts = Shift.__table__  # Core executemany: one statement, one parameter set per shift
        session.execute(
            update(shifts).where(shifts.c.id == bindparam("sid"))
            .values(seats_taken=shifts.c.seats_taken - bindparam("n")),
            [{"sid": sid, "n": n} for sid, n in sorted(per_shift.items())],
        )
        from app.claims.services import promote_waitlist

        for shift_id in sorted(per_shift):
            promote_waitlist(session, shift_id=shift_id, now=now, started_ok=True)
    return len(ended)


def complete_ended_shifts(session: Session, *, now: datetime, limit: int = 2000) -> int:
    """Checked-in claims whose shift ended are checked out at the end, paid up to it. One statement a batch."""
    due = (
        select(Claim.id).where(Claim.status == ClaimStatus.CHECKED_IN, Claim.ends_at <= now)
        .order_by(Claim.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = session.execute(
        update(Claim)
        .where(Claim.id.in_(due.scalar_subquery()), Claim.status == ClaimStatus.CHECKED_IN)
        .values(status=ClaimStatus.COMPLETED, checked_out_at=Claim.ends_at, ended_at=Claim.ends_at,
                left_early=False,
                worked_minutes=whole_minutes(later_of(Claim.checked_in_at, Claim.starts_at), Claim.ends_at))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
