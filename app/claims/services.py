"""Grabbing and releasing seats, the waitlist, and client-side cancellations.

Every rule is checked and acted on inside the caller's transaction, and backed by a constraint:
- capacity: one conditional UPDATE (`seats_taken < seats`) plus CHECK (seats_taken <= seats);
- one seat per agent per shift: a unique partial index on active claims;
- no overlapping seats: checked in the same UPDATE, backed by an exclusion constraint
  (PostgreSQL) or a trigger (SQLite);
- eligibility: the same SQL predicates the shift board uses, in the same UPDATE.
A lost race surfaces as Conflict (409), never as a broken rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignStatus, Shift, ShiftStatus
from app.campaigns.services import transition
from app.claims.models import Claim, ClaimStatus, WaitlistEntry, WaitlistStatus
from app.claims.policies import Blocker, claim_blockers
from app.claims.queries import campaign_open_to, claim_facts, shift_open_to, shift_standing
from app.core.db import UTCDateTime
from app.core.errors import Conflict, NotAllowed, NotFound
from app.core.timefmt import local_range
from app.members.models import User
from app.notifications.services import claim_confirmed, notify, notify_each
from app.webhooks.services import campaign_seat_filled


class NotEligible(NotAllowed):
    """The agent cannot take this shift; `blockers` say why."""

    status = 409
    code = "not_eligible"

    def __init__(self, blockers: list[Blocker]):
        super().__init__(_l("You cannot take this shift."), blockers=blockers)
        self.blockers = blockers


def shift_label(shift: Shift) -> str:
    return local_range(shift.starts_at, shift.ends_at)


_TAKE_SEAT: dict[bool, object] = {}


def _take_seat_statement(started_ok: bool):
    """The check-and-act UPDATE, built once per process with bind parameters (the hot path of a claim storm)."""
    if started_ok not in _TAKE_SEAT:
        agent_id = bindparam("agent_id")
        now = bindparam("now", type_=UTCDateTime())
        eligible_campaign = (
            select(Campaign.id).where(Campaign.id == Shift.campaign_id, *campaign_open_to(agent_id, now)).exists()
        )
        _TAKE_SEAT[started_ok] = (
            update(Shift)
            .where(Shift.id == bindparam("shift_id"), Shift.seats_taken < Shift.seats,
                   *shift_open_to(agent_id, now, started_ok=started_ok), eligible_campaign)
            .values(seats_taken=Shift.seats_taken + 1)
            .returning(Shift.starts_at, Shift.ends_at, Shift.campaign_id, Shift.seats_taken, Shift.seats,
                       select(Campaign.name).where(Campaign.id == Shift.campaign_id).correlate(Shift)
                       .scalar_subquery().label("campaign_name"))
            .execution_options(synchronize_session=False)
        )
    return _TAKE_SEAT[started_ok]


def _take_seat(session: Session, *, agent_id: int, shift_id: int, now: datetime, started_ok: bool = False):
    """The check-and-act: one UPDATE that only succeeds for an eligible agent while a seat is free.

    Returns the shift's (starts_at, ends_at, campaign_id, seats_taken, seats, campaign_name) when a seat was taken,
    else None.
    """
    return session.connection().execute(_take_seat_statement(started_ok),
                           {"agent_id": agent_id, "shift_id": shift_id, "now": now}).first()


def claim_shift(session: Session, *, agent: User, shift_id: int, now: datetime, via_waitlist: bool = False,
                started_ok: bool = False) -> Claim:
    """Take a seat. Raises NotEligible (with reasons), Conflict (full / already held) or NotFound.

    On an error the caller rolls the transaction back (the seat count was already raised).
    """
    shift = _take_seat(session, agent_id=agent.id, shift_id=shift_id, now=now, started_ok=started_ok)
    if shift is None:
        # Nothing was written. One query of plain values explains the refusal (in a storm almost every request
        # is one); the error carries it, so the refusal page asks nothing more.
        facts = claim_facts(session, agent_id=agent.id, shift_id=shift_id, now=now)
        if facts is None:
            raise NotFound(_l("No such shift."))
        blockers = claim_blockers(
            agent_role=agent.role, agent_status=agent.status, agent_tier=agent.tier, held_tag_codes=set(),
            campaign_status=facts.campaign_status, min_tier=facts.min_tier, required_tag_codes=list(facts.missing_tags),
            shift_status=facts.shift_status, starts_at=facts.starts_at, seats_left=facts.seats_left,
            overlaps=facts.overlaps, already_holds=facts.holds_seat, now=now,
        )
        codes = {b.code for b in blockers}
        if "already" in codes:
            error = Conflict(_l("You already hold a seat on this shift."), code="already_claimed")
        elif codes == {"full"}:
            error = Conflict(_l("This shift is full. You can join the waitlist."), code="full")
        else:
            error = NotEligible(blockers or [Blocker("full")])
        error.facts = facts
        raise error
    try:
        claim_id = session.execute(
            insert(Claim).values(
                shift_id=shift_id, agent_id=agent.id, campaign_id=shift.campaign_id, starts_at=shift.starts_at,
                ends_at=shift.ends_at, status=ClaimStatus.CLAIMED, is_active=True, via_waitlist=via_waitlist,
                claimed_at=now,
            ).returning(Claim.id)
        ).scalar_one()
    except IntegrityError:
        # A concurrent request of the same agent won: same shift or an overlapping one.
        raise Conflict(_l("You already hold a seat at this time."), code="already_claimed") from None
    # Leaving the waitlist of a shift you now hold.
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.shift_id == shift_id, WaitlistEntry.agent_id == agent.id,
               WaitlistEntry.status == WaitlistStatus.WAITING)
        .values(status=WaitlistStatus.PROMOTED, decided_at=now)
    )
    if not via_waitlist:  # a promotion sends its own notice
        claim_confirmed(session, agent_id=agent.id, claim_id=claim_id, shift_id=shift_id, campaign=shift.campaign_name,
                        starts_at=shift.starts_at, ends_at=shift.ends_at, now=now)
    if shift.seats_taken >= shift.seats:  # this claim took the shift's last seat (RETURNING says so)
        campaign_seat_filled(session, campaign_id=shift.campaign_id, now=now)
    return session.get(Claim, claim_id)


def get_own_claim(session: Session, *, agent: User, claim_id: int) -> Claim:
    claim = session.get(Claim, claim_id)
    if claim is None or claim.agent_id != agent.id:
        raise NotFound(_l("No such claim."))
    return claim


def release_claim(session: Session, *, agent: User, claim_id: int, now: datetime, cutoff: timedelta) -> Claim:
    """Give a seat back: free before the cut-off, a late cancellation after it, impossible once started."""
    claim = get_own_claim(session, agent=agent, claim_id=claim_id)
    if claim.status != ClaimStatus.CLAIMED:
        raise Conflict(_l("This seat can no longer be released."))
    if claim.starts_at <= now:
        raise Conflict(_l("The shift has started; it can no longer be released."))
    status = ClaimStatus.RELEASED if claim.starts_at - now >= cutoff else ClaimStatus.LATE_CANCELLED
    _end_claims(session, [claim.id], status=status, now=now)
    promote_waitlist(session, shift_id=claim.shift_id, now=now)
    session.refresh(claim)
    return claim


def _end_claims(session: Session, claim_ids: list[int], *, status: str, now: datetime) -> list[tuple[int, int]]:
    """End active, not-yet-worked claims and free their seats. Returns (claim_id, shift_id) of those ended."""
    if not claim_ids:
        return []
    ended = session.execute(
        update(Claim)
        .where(Claim.id.in_(claim_ids), Claim.status == ClaimStatus.CLAIMED)
        .values(status=status, is_active=False, ended_at=now)
        .returning(Claim.id, Claim.shift_id)
        .execution_options(synchronize_session=False)
    ).all()
    per_shift: dict[int, int] = {}
    for _, shift_id in ended:
        per_shift[shift_id] = per_shift.get(shift_id, 0) + 1
    for shift_id, count in per_shift.items():
        session.execute(update(Shift).where(Shift.id == shift_id).values(seats_taken=Shift.seats_taken - count)
                        .execution_options(synchronize_session=False))
    return [(row[0], row[1]) for row in ended]


def join_waitlist(session: Session, *, agent: User, shift_id: int, now: datetime) -> WaitlistEntry:
    """Queue for a full shift the agent could otherwise take."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise NotFound(_l("No such shift."))
    standing = shift_standing(session, agent=agent, shift=shift, now=now)
    if standing["waiting"] is not None:
        raise Conflict(_l("You are already on the waitlist."), code="already_waiting")
    blockers = [b for b in standing["blockers"] if b.code != "full"]
    if blockers:
        raise NotEligible(blockers)
    if shift.seats_left > 0:
        raise Conflict(_l("Seats are free: grab one instead."), code="not_full")
    entry = WaitlistEntry(shift_id=shift.id, agent_id=agent.id, status=WaitlistStatus.WAITING, created_at=now)
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        raise Conflict(_l("You are already on the waitlist."), code="already_waiting") from None
    return entry


def leave_waitlist(session: Session, *, agent: User, shift_id: int, now: datetime) -> None:
    result = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.shift_id == shift_id, WaitlistEntry.agent_id == agent.id,
               WaitlistEntry.status == WaitlistStatus.WAITING)
        .values(status=WaitlistStatus.LEFT, decided_at=now)
    )
    if result.rowcount == 0:
        raise NotFound(_l("You are not on this waitlist."))


def promote_waitlist(session: Session, *, shift_id: int, now: datetime, started_ok: bool = False) -> list[int]:
    """Give free seats to waiting agents in order; skip (and tell) those no longer eligible.

    `started_ok`: the shift may have started (a no-show's seat); it must not have ended.
    """
    promoted: list[int] = []
    while True:
        entry = session.execute(
            select(WaitlistEntry.id, WaitlistEntry.agent_id)
            .where(WaitlistEntry.shift_id == shift_id, WaitlistEntry.status == WaitlistStatus.WAITING)
            .order_by(WaitlistEntry.created_at, WaitlistEntry.id).limit(1)
        ).first()
        if entry is None:
            break
        seats = session.execute(select(Shift.seats, Shift.seats_taken, Shift.status, Shift.starts_at, Shift.ends_at)
                                .where(Shift.id == shift_id)).one()
        closes = seats.ends_at if started_ok else seats.starts_at
        if seats.seats_taken >= seats.seats or seats.status != ShiftStatus.OPEN or closes <= now:
            break
        agent = session.get(User, entry.agent_id)
        try:
            with session.begin_nested():
                claim = claim_shift(session, agent=agent, shift_id=shift_id, now=now, via_waitlist=True,
                                    started_ok=started_ok)
            outcome = WaitlistStatus.PROMOTED
        except (NotEligible, Conflict):
            claim, outcome = None, WaitlistStatus.SKIPPED
        session.execute(update(WaitlistEntry).where(WaitlistEntry.id == entry.id)
                        .values(status=outcome, decided_at=now))
        shift = session.get(Shift, shift_id)
        payload = {"shift": shift_label(shift), "campaign": shift.campaign.name, "shift_id": shift_id}
        notify(session, user_ids=[entry.agent_id], now=now, payload=payload,
               kind="waitlist.promoted" if claim else "waitlist.skipped")
        if claim:
            promoted.append(claim.id)
    return promoted


def remove_shift(session: Session, *, shift: Shift, actor_id: int, now: datetime) -> int:
    """A client removes a shift: its seats are released and each agent is told."""
    if shift.status != ShiftStatus.OPEN:
        raise Conflict(_l("This shift was removed."))
    if shift.starts_at <= now:
        raise Conflict(_l("A shift that has started cannot be removed."))
    if shift.campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise Conflict(_l("A finished campaign cannot be edited."))
    released = _cancel_claims(session, shift_ids=[shift.id], now=now)
    session.execute(update(Shift).where(Shift.id == shift.id).values(status=ShiftStatus.CANCELLED)
                    .execution_options(synchronize_session=False))
    session.refresh(shift)
    return released


def cancel_campaign(session: Session, *, campaign: Campaign, actor_id: int, now: datetime) -> int:
    """Cancel a campaign: future claims are released with a notice; shifts under way run to their end."""
    transition(campaign, CampaignStatus.CANCELLED)
    future = list(session.scalars(select(Shift.id).where(Shift.campaign_id == campaign.id,
                                                         Shift.status == ShiftStatus.OPEN, Shift.starts_at > now)))
    released = _cancel_claims(session, shift_ids=future, now=now)
    if future:
        session.execute(update(Shift).where(Shift.id.in_(future)).values(status=ShiftStatus.CANCELLED)
                        .execution_options(synchronize_session=False))
    campaign.status = CampaignStatus.CANCELLED
    campaign.cancelled_at = now
    session.flush()
    return released


def _cancel_claims(session: Session, *, shift_ids: list[int], now: datetime) -> int:
    if not shift_ids:
        return 0
    claims = session.execute(
        select(Claim.id, Claim.agent_id, Claim.shift_id).where(Claim.shift_id.in_(shift_ids),
                                                              Claim.status == ClaimStatus.CLAIMED)
    ).all()
    ended = dict(_end_claims(session, [c.id for c in claims], status=ClaimStatus.CANCELLED, now=now))
    session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.shift_id.in_(shift_ids), WaitlistEntry.status == WaitlistStatus.WAITING)
        .values(status=WaitlistStatus.LEFT, decided_at=now)
    )
    told = {c.shift_id for c in claims if c.id in ended}
    # One read of the shifts concerned and one INSERT of notifications, however many shifts were removed.
    labels = {
        s.id: {"shift": local_range(s.starts_at, s.ends_at), "campaign": name, "shift_id": s.id}
        for s, name in session.execute(select(Shift, Campaign.name).join(Campaign, Campaign.id == Shift.campaign_id)
                                       .where(Shift.id.in_(told)))
    } if told else {}
    notify_each(session, kind="claim.cancelled_by_client", now=now,
                items=[(c.agent_id, labels[c.shift_id]) for c in claims if c.id in ended])
    return len(ended)


def promote_all_waitlists(session: Session, *, now: datetime) -> int:
    """Sweep: any future shift with a free seat and someone waiting gets promotions."""
    shift_ids = list(session.scalars(
        select(Shift.id).where(
            Shift.status == ShiftStatus.OPEN, Shift.starts_at > now, Shift.seats_taken < Shift.seats,
            select(WaitlistEntry.id).where(and_(WaitlistEntry.shift_id == Shift.id,
                                                WaitlistEntry.status == WaitlistStatus.WAITING)).exists(),
        ).limit(1000)
    ))
    return sum(len(promote_waitlist(session, shift_id=sid, now=now)) for sid in shift_ids)
