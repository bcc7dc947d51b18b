"""Reads for agents: eligibility as SQL, the shift board, my shifts, a shift's standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from app.campaigns.models import OPEN_CAMPAIGN_STATUSES, Campaign, CampaignTag, Shift, ShiftStatus
from app.claims.models import Claim, WaitlistEntry, WaitlistStatus
from app.claims.policies import Blocker, claim_blockers
from app.members.models import AgentTag, Role, Status, Tag, User


def live_tag_condition(agent_id, tag_id_col, now: datetime):
    """The agent holds this tag: granted, not revoked, not expired."""
    return exists().where(
        AgentTag.agent_id == agent_id,
        AgentTag.tag_id == tag_id_col,
        AgentTag.revoked_at.is_(None),
        or_(AgentTag.expires_at.is_(None), AgentTag.expires_at > now),
    )


def tags_cover(agent_id, campaign_id_col, now: datetime):
    """No required tag of the campaign is missing from the agent's live tags."""
    return ~exists().where(
        CampaignTag.campaign_id == campaign_id_col,
        ~live_tag_condition(agent_id, CampaignTag.tag_id, now),
    )


def no_overlap(agent_id, starts_col, ends_col):
    """The agent holds no active seat whose time overlaps [starts, ends)."""
    return ~exists().where(
        Claim.agent_id == agent_id, Claim.is_active, Claim.starts_at < ends_col, Claim.ends_at > starts_col
    )


def agent_qualifies(agent_id, campaign_min_tier_col):
    return exists().where(
        User.id == agent_id, User.role == Role.AGENT, User.status == Status.ACTIVE,
        User.tier >= campaign_min_tier_col,
    )


def campaign_open_to(agent_id, now: datetime) -> list:
    """The campaign offers work and the agent qualifies for it (status, tier, tags), as SQL over Campaign."""
    return [
        Campaign.status.in_(OPEN_CAMPAIGN_STATUSES),
        agent_qualifies(agent_id, Campaign.min_tier),
        tags_cover(agent_id, Campaign.id, now),
    ]


def shift_open_to(agent_id, now: datetime, *, started_ok: bool = False) -> list:
    """The shift is open, in the future (or, for a waitlist promotion, not yet over) and clashes with none of
    the agent's seats, as SQL over Shift."""
    return [
        Shift.status == ShiftStatus.OPEN,
        Shift.ends_at > now if started_ok else Shift.starts_at > now,
        no_overlap(agent_id, Shift.starts_at, Shift.ends_at),
    ]


def claimable_shift_conditions(agent_id, now: datetime) -> list:
    """Everything that makes a shift claimable by this agent (the board and the claim share it)."""
    return shift_open_to(agent_id, now) + campaign_open_to(agent_id, now)


@dataclass(frozen=True)
class BoardFilters:
    kind: str | None = None
    industry: str | None = None
    day_start: datetime | None = None  # UTC bounds of the chosen local day
    day_end: datetime | None = None
    show_all: bool = False  # include shifts the agent cannot take, each with its reasons


@dataclass(frozen=True)
class BoardRow:
    shift_id: int
    campaign_id: int
    campaign_name: str
    organisation: str
    kind: str
    industry: str
    starts_at: datetime
    ends_at: datetime
    seats: int
    seats_taken: int
    rate_fen_per_hour: int
    bonus_fen_per_contact: int
    blockers: tuple[Blocker, ...]

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken

    @property
    def pay_fen(self) -> int:
        minutes = int((self.ends_at - self.starts_at).total_seconds() // 60)
        return self.rate_fen_per_hour * minutes // 60


def shift_board(session: Session, *, agent: User, now: datetime, filters: BoardFilters, after: tuple | None,
                limit: int) -> tuple[list[BoardRow], tuple | None]:
    """One page of open shifts, soonest first, keyset-paginated. A constant number of queries."""
    from app.members.models import Organisation

    if not filters.show_all and not (agent.role == Role.AGENT and agent.status == Status.ACTIVE):
        # Nothing is claimable by an agent who is not active (agent_qualifies would refuse every row), and
        # asking anyway walks every open shift to find none: ~0.1 s at 100,000 shifts for each pending agent.
        return [], None
    query = (
        select(Shift.id, Shift.campaign_id, Campaign.name, Organisation.name.label("org"), Campaign.kind,
               Campaign.industry, Shift.starts_at, Shift.ends_at, Shift.seats, Shift.seats_taken,
               Campaign.rate_fen_per_hour, Campaign.bonus_fen_per_contact, Campaign.min_tier, Campaign.status)
        .join(Campaign, Campaign.id == Shift.campaign_id)
        .join(Organisation, Organisation.id == Campaign.organisation_id)
        .where(Shift.status == ShiftStatus.OPEN, Shift.starts_at > now,
               Campaign.status.in_(OPEN_CAMPAIGN_STATUSES))
    )
    if not filters.show_all:
        query = query.where(*claimable_shift_conditions(agent.id, now))
    if filters.kind:
        query = query.where(Campaign.kind == filters.kind)
    if filters.industry:
        query = query.where(Campaign.industry == filters.industry)
    if filters.day_start and filters.day_end:
        query = query.where(Shift.starts_at >= filters.day_start, Shift.starts_at < filters.day_end)
    if after:
        query = query.where(tuple_(Shift.starts_at, Shift.id) > tuple_(*after))
    rows = session.execute(query.order_by(Shift.starts_at, Shift.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    blockers_by_shift = _blockers_for_rows(session, agent, rows, now) if rows else {}
    page = [
        BoardRow(r.id, r.campaign_id, r.name, r.org, r.kind, r.industry, r.starts_at, r.ends_at, r.seats,
                 r.seats_taken, r.rate_fen_per_hour, r.bonus_fen_per_contact, tuple(blockers_by_shift.get(r.id, ())))
        for r in rows
    ]
    cursor = (rows[-1].starts_at, rows[-1].id) if more else None
    return page, cursor


def held_tag_codes(session: Session, agent_id: int, now: datetime) -> set[str]:
    return set(session.scalars(
        select(Tag.code).join(AgentTag, AgentTag.tag_id == Tag.id).where(
            AgentTag.agent_id == agent_id, AgentTag.revoked_at.is_(None),
            or_(AgentTag.expires_at.is_(None), AgentTag.expires_at > now))
    ))


def required_tags_by_campaign(session: Session, campaign_ids: set[int]) -> dict[int, list[str]]:
    result: dict[int, list[str]] = {cid: [] for cid in campaign_ids}
    for cid, code in session.execute(
        select(CampaignTag.campaign_id, Tag.code).join(Tag, Tag.id == CampaignTag.tag_id)
        .where(CampaignTag.campaign_id.in_(campaign_ids)).order_by(Tag.code)
    ):
        result[cid].append(code)
    return result


def _blockers_for_rows(session: Session, agent: User, rows, now: datetime) -> dict[int, list[Blocker]]:
    """Reasons per shift for one page: three queries whatever the page size."""
    held = held_tag_codes(session, agent.id, now)
    required = required_tags_by_campaign(session, {r.campaign_id for r in rows})
    first, last = min(r.starts_at for r in rows), max(r.ends_at for r in rows)
    my_claims = session.execute(
        select(Claim.shift_id, Claim.starts_at, Claim.ends_at).where(
            Claim.agent_id == agent.id, Claim.is_active, Claim.starts_at < last, Claim.ends_at > first)
    ).all()
    result = {}
    for r in rows:
        result[r.id] = claim_blockers(
            agent_role=agent.role, agent_status=agent.status, agent_tier=agent.tier, held_tag_codes=held,
            campaign_status=r.status, min_tier=r.min_tier, required_tag_codes=required[r.campaign_id],
            shift_status=ShiftStatus.OPEN, starts_at=r.starts_at, seats_left=r.seats - r.seats_taken,
            overlaps=any(c.starts_at < r.ends_at and c.ends_at > r.starts_at for c in my_claims),
            already_holds=any(c.shift_id == r.id for c in my_claims), now=now,
        )
    return result


def shift_standing(session: Session, *, agent: User, shift: Shift, now: datetime) -> dict:
    """Everything the shift page needs for one agent: blockers, their claim, their waitlist place."""
    held = held_tag_codes(session, agent.id, now)
    required = [t.code for t in shift.campaign.required_tags]
    # One query for both: the agent's seat on this shift, and any active seat of theirs overlapping its time.
    nearby = session.scalars(select(Claim).where(
        Claim.agent_id == agent.id, Claim.is_active,
        or_(Claim.shift_id == shift.id, and_(Claim.starts_at < shift.ends_at, Claim.ends_at > shift.starts_at)),
    )).all()
    my_claim = next((c for c in nearby if c.shift_id == shift.id), None)
    overlaps = any(c.starts_at < shift.ends_at and c.ends_at > shift.starts_at for c in nearby)
    waiting = session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.shift_id == shift.id, WaitlistEntry.agent_id == agent.id,
        WaitlistEntry.status == WaitlistStatus.WAITING))
    position = None
    if waiting is not None:
        position = session.scalar(select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.shift_id == shift.id, WaitlistEntry.status == WaitlistStatus.WAITING,
            tuple_(WaitlistEntry.created_at, WaitlistEntry.id) <= tuple_(waiting.created_at, waiting.id)))
    blockers = claim_blockers(
        agent_role=agent.role, agent_status=agent.status, agent_tier=agent.tier, held_tag_codes=held,
        campaign_status=shift.campaign.status, min_tier=shift.campaign.min_tier, required_tag_codes=required,
        shift_status=shift.status, starts_at=shift.starts_at, seats_left=shift.seats_left,
        overlaps=overlaps and my_claim is None, already_holds=my_claim is not None, now=now,
    )
    return {"blockers": blockers, "claim": my_claim, "waiting": waiting, "position": position,
            "required": required, "held": held}


@dataclass(frozen=True)
class ClaimFacts:
    """A shift as one agent stands before it, as plain values: what a refused claim is explained with."""

    shift_id: int
    starts_at: datetime
    ends_at: datetime
    seats: int
    seats_taken: int
    shift_status: str
    campaign_id: int
    campaign_name: str
    organisation: str
    campaign_status: str
    min_tier: int
    missing_tags: tuple[str, ...]  # required by the campaign, not live on the agent
    holds_seat: bool  # an active seat on this shift
    overlaps: bool  # an active seat (on any shift) whose time overlaps this one
    waitlist_position: int  # 0 when not waiting

    @property
    def seats_left(self) -> int:
        return self.seats - self.seats_taken


_CLAIM_FACTS: list = []


def _claim_facts_statement():
    """One SELECT, built once per process with bind parameters (a claim storm is mostly refusals)."""
    if not _CLAIM_FACTS:
        from sqlalchemy import bindparam
        from sqlalchemy.orm import aliased

        from app.core.db import UTCDateTime
        from app.members.models import Organisation

        agent_id, now = bindparam("agent_id"), bindparam("now", type_=UTCDateTime())
        missing = (
            select(func.aggregate_strings(Tag.code, " "))
            .select_from(CampaignTag).join(Tag, Tag.id == CampaignTag.tag_id)
            .where(CampaignTag.campaign_id == Campaign.id, ~live_tag_condition(agent_id, CampaignTag.tag_id, now))
            .scalar_subquery()
        )
        holds = exists().where(Claim.agent_id == agent_id, Claim.is_active, Claim.shift_id == Shift.id)
        overlaps = exists().where(Claim.agent_id == agent_id, Claim.is_active, Claim.starts_at < Shift.ends_at,
                                  Claim.ends_at > Shift.starts_at)
        ahead, mine = aliased(WaitlistEntry), aliased(WaitlistEntry)
        position = (
            select(func.count(ahead.id))
            .where(ahead.shift_id == Shift.id, ahead.status == WaitlistStatus.WAITING,
                   exists().where(mine.shift_id == Shift.id, mine.agent_id == agent_id,
                                  mine.status == WaitlistStatus.WAITING,
                                  or_(ahead.created_at < mine.created_at,
                                      and_(ahead.created_at == mine.created_at, ahead.id <= mine.id))))
            .scalar_subquery()
        )
        _CLAIM_FACTS.append(
            select(Shift.id, Shift.starts_at, Shift.ends_at, Shift.seats, Shift.seats_taken, Shift.status,
                   Campaign.id, Campaign.name, Organisation.name, Campaign.status, Campaign.min_tier,
                   missing.label("missing"), holds.label("holds"), overlaps.label("overlaps"),
                   position.label("position"))
            .join(Campaign, Campaign.id == Shift.campaign_id)
            .join(Organisation, Organisation.id == Campaign.organisation_id)
            .where(Shift.id == bindparam("shift_id"))
        )
    return _CLAIM_FACTS[0]


def claim_facts(session: Session, *, agent_id: int, shift_id: int, now: datetime) -> ClaimFacts | None:
    """Everything needed to explain a refused claim, in one query and without ORM objects; None: no such shift."""
    row = session.connection().execute(_claim_facts_statement(),
                          {"agent_id": agent_id, "shift_id": shift_id, "now": now}).first()
    if row is None:
        return None
    return ClaimFacts(*row[:11], missing_tags=tuple(sorted((row.missing or "").split())), holds_seat=bool(row.holds),
                      overlaps=bool(row.overlaps), waitlist_position=int(row.position or 0))


def my_claims(session: Session, agent_id: int, *, upcoming: bool, now: datetime, limit: int = 100) -> list[Claim]:
    query = select(Claim).where(Claim.agent_id == agent_id)
    if upcoming:
        query = query.where(Claim.is_active, Claim.ends_at > now).order_by(Claim.starts_at)
    else:
        query = query.where(or_(~Claim.is_active, Claim.ends_at <= now)).order_by(Claim.starts_at.desc())
    from sqlalchemy.orm import joinedload

    return list(session.scalars(query.options(joinedload(Claim.shift).joinedload(Shift.campaign)).limit(limit)))


def my_waitlist(session: Session, agent_id: int, now: datetime) -> list[WaitlistEntry]:
    from sqlalchemy.orm import joinedload

    return list(session.scalars(
        select(WaitlistEntry).join(Shift, Shift.id == WaitlistEntry.shift_id)
        .where(WaitlistEntry.agent_id == agent_id, WaitlistEntry.status == WaitlistStatus.WAITING,
               Shift.starts_at > now)
        .options(joinedload(WaitlistEntry.shift).joinedload(Shift.campaign)).order_by(Shift.starts_at)
    ))


def count_claimable(session: Session, *, agent_id: int, now: datetime) -> int:
    return session.scalar(
        select(func.count(Shift.id)).join(Campaign, Campaign.id == Shift.campaign_id)
        .where(and_(*claimable_shift_conditions(agent_id, now)), Shift.seats_taken < Shift.seats)
    ) or 0


def shifts_of(session: Session, campaign_id: int, limit: int = 500) -> list[tuple[Shift, int]]:
    """The campaign's shifts with their waitlist length."""
    waiting = (
        select(WaitlistEntry.shift_id, func.count(WaitlistEntry.id).label("n"))
        .where(WaitlistEntry.status == WaitlistStatus.WAITING).group_by(WaitlistEntry.shift_id).subquery()
    )
    rows = session.execute(
        select(Shift, waiting.c.n).outerjoin(waiting, waiting.c.shift_id == Shift.id)
        .where(Shift.campaign_id == campaign_id).order_by(Shift.starts_at, Shift.id).limit(limit)
    ).all()
    return [(s, n or 0) for s, n in rows]
