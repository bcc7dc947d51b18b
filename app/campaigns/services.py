"""Campaign mutations: create, edit, generate and edit shifts, publish, lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.campaigns.models import (
    CAMPAIGN_TRANSITIONS,
    Campaign,
    CampaignKind,
    CampaignStatus,
    Shift,
    ShiftStatus,
)
from app.core.errors import Conflict, Invalid, NotFound
from app.core.text import clean_text
from app.members.models import Tag, Tier, User
from app.members.tags import INDUSTRY_CODES

MAX_SEATS = 5000
MAX_SHIFTS_PER_GENERATION = 2000
MAX_RATE_FEN = 100_000  # 1,000 yuan per seat-hour: anything above is a typo
MAX_BONUS_FEN = 100_000
MIN_SHIFT_MINUTES = 30
MAX_SHIFT_MINUTES = 12 * 60
MAX_DAYS_AHEAD = 2 * 366  # a campaign starts within two years; also keeps date arithmetic far from date.max


@dataclass(frozen=True)
class CampaignInput:
    name: str
    kind: str
    industry: str
    description: str
    script: str
    required_tags: tuple[str, ...]
    min_tier: int
    rate_fen_per_hour: int
    bonus_fen_per_contact: int
    budget_fen: int
    starts_on: date
    ends_on: date
    bonus_fen_per_success: int = 0


def get_campaign_for_org(session: Session, campaign_id: int, organisation_id: int) -> Campaign:
    """A client's own campaign, or NotFound (another tenant's ids look like missing ones)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.organisation_id != organisation_id:
        raise NotFound(_l("No such campaign."))
    return campaign


def _name(text: str | None) -> str:
    """A campaign name as stored: one line, NUL and direction overrides dropped (PostgreSQL refuses NUL)."""
    return clean_text(text, field="name", max_len=120, single_line=True)


def _validate(session: Session, data: CampaignInput, *, today: date) -> list[Tag]:
    _name(data.name)
    if data.kind not in {k.value for k in CampaignKind}:
        raise Invalid(_l("Choose a kind of campaign."), field="kind")
    if data.industry not in INDUSTRY_CODES:
        raise Invalid(_l("Choose an industry."), field="industry")
    if data.min_tier not in {t.value for t in Tier}:
        raise Invalid(_l("Unknown tier."), field="min_tier")
    if not 0 < data.rate_fen_per_hour <= MAX_RATE_FEN:
        raise Invalid(_l("Pay per seat-hour must be between 0.01 and 1,000 yuan."), field="rate")
    if not 0 <= data.bonus_fen_per_contact <= MAX_BONUS_FEN:
        raise Invalid(_l("The contact bonus must be between 0 and 1,000 yuan."), field="bonus")
    if not 0 <= data.bonus_fen_per_success <= MAX_BONUS_FEN:
        raise Invalid(_l("The success bonus must be between 0 and 1,000 yuan."), field="success_bonus")
    if data.budget_fen <= 0:
        raise Invalid(_l("The budget must be more than zero."), field="budget")
    if data.ends_on < data.starts_on:
        raise Invalid(_l("The end date must not be before the start date."), field="ends_on")
    if data.ends_on < today:
        raise Invalid(_l("The campaign cannot end in the past."), field="ends_on")
    if (data.starts_on - today).days > MAX_DAYS_AHEAD:
        raise Invalid(_l("A campaign must start within two years."), field="starts_on")
    if (data.ends_on - data.starts_on).days > 366:
        raise Invalid(_l("A campaign can last at most a year."), field="ends_on")
    if len(data.description or "") > 10_000 or len(data.script or "") > 20_000:
        raise Invalid(_l("The text is too long."), field="script")
    codes = tuple(dict.fromkeys(data.required_tags))
    tags = list(session.scalars(select(Tag).where(Tag.code.in_(codes)))) if codes else []
    if len(tags) != len(codes):
        raise Invalid(_l("Unknown tag."), field="required_tags")
    return tags


def create_campaign(session: Session, *, user: User, data: CampaignInput, now: datetime, today: date) -> Campaign:
    tags = _validate(session, data, today=today)
    campaign = Campaign(
        organisation_id=user.organisation_id, name=_name(data.name), kind=data.kind,
        industry=data.industry, description=data.description.replace("\x00", ""),
        script=data.script.replace("\x00", ""), min_tier=data.min_tier, rate_fen_per_hour=data.rate_fen_per_hour,
        bonus_fen_per_contact=data.bonus_fen_per_contact, bonus_fen_per_success=data.bonus_fen_per_success,
        budget_fen=data.budget_fen, starts_on=data.starts_on,
        ends_on=data.ends_on, status=CampaignStatus.DRAFT, created_by_id=user.id, created_at=now,
    )
    campaign.required_tags = tags
    session.add(campaign)
    session.flush()
    return campaign


def update_campaign(session: Session, campaign: Campaign, *, data: CampaignInput, today: date) -> Campaign:
    """Terms that agents rely on (tags, tier, pay) are frozen once the campaign is published."""
    tags = _validate(session, data, today=today)
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise Conflict(_l("A finished campaign cannot be edited."))
    if campaign.status != CampaignStatus.DRAFT:
        changed_terms = (
            {t.code for t in tags} != {t.code for t in campaign.required_tags}
            or data.min_tier != campaign.min_tier
            or data.rate_fen_per_hour != campaign.rate_fen_per_hour
            or data.bonus_fen_per_contact != campaign.bonus_fen_per_contact
            or data.bonus_fen_per_success != campaign.bonus_fen_per_success
            or data.kind != campaign.kind
            or data.industry != campaign.industry
        )
        if changed_terms:
            raise Conflict(_l("Pay, tags, tier and kind cannot change after publishing."))
    campaign.name = _name(data.name)
    campaign.description = data.description.replace("\x00", "")
    campaign.script = data.script.replace("\x00", "")
    campaign.budget_fen = data.budget_fen
    campaign.starts_on = data.starts_on
    campaign.ends_on = data.ends_on
    campaign.kind = data.kind
    campaign.industry = data.industry
    campaign.min_tier = data.min_tier
    campaign.rate_fen_per_hour = data.rate_fen_per_hour
    campaign.bonus_fen_per_contact = data.bonus_fen_per_contact
    campaign.bonus_fen_per_success = data.bonus_fen_per_success
    campaign.required_tags = tags
    session.flush()
    return campaign


@dataclass(frozen=True)
class ShiftPattern:
    """E.g. 11 Nov to 11 Nov, 08:00 to 24:00 (00:00), 120-minute blocks, 50 seats each."""

    first_day: date
    last_day: date
    day_start: time
    day_end: time  # 00:00 means midnight at the end of the day
    block_minutes: int
    seats: int


def _check_seats(seats: int) -> None:
    if not 1 <= seats <= MAX_SEATS:
        raise Invalid(_l("Seats must be between 1 and %(n)d.", n=MAX_SEATS), field="seats")


def plan_shifts(pattern: ShiftPattern, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The (start, end) windows a pattern describes, in UTC. Only whole blocks are made."""
    _check_seats(pattern.seats)
    if not MIN_SHIFT_MINUTES <= pattern.block_minutes <= MAX_SHIFT_MINUTES:
        raise Invalid(_l("Blocks must be between 30 minutes and 12 hours."), field="block_minutes")
    if pattern.last_day < pattern.first_day:
        raise Invalid(_l("The last day must not be before the first day."), field="last_day")
    if (pattern.last_day - pattern.first_day).days > 92:
        raise Invalid(_l("Generate at most 93 days at once."), field="last_day")
    if pattern.last_day >= date.max - timedelta(days=1):  # the loop below looks one day past the last
        raise Invalid(_l("Enter a valid date."), field="last_day")
    windows = []
    day = pattern.first_day
    while day <= pattern.last_day:
        start = datetime.combine(day, pattern.day_start, tz)
        end_day = day + timedelta(days=1) if pattern.day_end <= pattern.day_start else day
        end = datetime.combine(end_day, pattern.day_end, tz)
        block = timedelta(minutes=pattern.block_minutes)
        cursor = start
        while cursor + block <= end:
            # Arithmetic in UTC so a DST change elsewhere cannot make blocks longer or shorter.
            windows.append((cursor.astimezone(ZoneInfo("UTC")), (cursor + block).astimezone(ZoneInfo("UTC"))))
            cursor = (cursor.astimezone(ZoneInfo("UTC")) + block).astimezone(tz)
        day += timedelta(days=1)
        if len(windows) > MAX_SHIFTS_PER_GENERATION:
            raise Invalid(_l("That would make more than %(n)d shifts.", n=MAX_SHIFTS_PER_GENERATION),
                          field="block_minutes")
    if not windows:
        raise Invalid(_l("The pattern makes no shifts: the block is longer than the day."), field="block_minutes")
    return windows


def generate_shifts(session: Session, campaign: Campaign, pattern: ShiftPattern, *, tz: ZoneInfo,
                    now: datetime) -> int:
    """Add the pattern's shifts in one statement; windows the campaign already has are skipped."""
    _check_editable(campaign)
    windows = plan_shifts(pattern, tz)
    if any(start <= now for start, _ in windows):
        raise Invalid(_l("Shifts cannot start in the past."), field="first_day")
    _check_within_campaign(campaign, [start for start, _ in windows], tz=tz, field="first_day")
    existing = set(session.execute(
        select(Shift.starts_at, Shift.ends_at).where(Shift.campaign_id == campaign.id)
    ).all())
    rows = [
        {"campaign_id": campaign.id, "starts_at": s, "ends_at": e, "seats": pattern.seats, "seats_taken": 0,
         "status": ShiftStatus.OPEN, "created_at": now}
        for s, e in windows if (s, e) not in existing
    ]
    if rows:
        try:
            with session.begin_nested():
                session.execute(insert(Shift), rows)
        except IntegrityError:  # a concurrent generation added some of the same windows first
            raise Conflict(_l("Some of these shifts were just added by someone else. Reload and try again.")) \
                from None
    return len(rows)


def _check_within_campaign(campaign: Campaign, starts: list[datetime], *, tz: ZoneInfo, field: str) -> None:
    """Every shift starts on a day of the campaign (a night shift may run past its last midnight)."""
    days = {start.astimezone(tz).date() for start in starts}
    if days and (min(days) < campaign.starts_on or max(days) > campaign.ends_on):
        raise Invalid(_l("Shifts must fall within the campaign's dates (%(first)s to %(last)s).",
                         first=campaign.starts_on.isoformat(), last=campaign.ends_on.isoformat()), field=field)


def _check_editable(campaign: Campaign) -> None:
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        raise Conflict(_l("A finished campaign cannot be edited."))


def get_shift_for_org(session: Session, shift_id: int, organisation_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None or shift.campaign.organisation_id != organisation_id:
        raise NotFound(_l("No such shift."))
    return shift


def edit_shift(session: Session, shift: Shift, *, starts_at: datetime, ends_at: datetime, seats: int,
               now: datetime) -> Shift:
    """Change one shift. Seats never drop below those taken; times are fixed once anyone holds a seat."""
    _check_editable(shift.campaign)
    if shift.status != ShiftStatus.OPEN:
        raise Conflict(_l("This shift was removed."))
    _check_seats(seats)
    if ends_at <= starts_at:
        raise Invalid(_l("The end must be after the start."), field="ends_at")
    if not MIN_SHIFT_MINUTES * 60 <= (ends_at - starts_at).total_seconds() <= MAX_SHIFT_MINUTES * 60:
        raise Invalid(_l("Blocks must be between 30 minutes and 12 hours."), field="ends_at")
    moves = (starts_at, ends_at) != (shift.starts_at, shift.ends_at)
    if moves:
        if starts_at <= now:
            raise Invalid(_l("Shifts cannot start in the past."), field="starts_at")
        if shift.seats_taken:
            raise Conflict(_l("Agents hold seats on this shift, so its time cannot change."))
        _check_within_campaign(shift.campaign, [starts_at], tz=starts_at.tzinfo or ZoneInfo("UTC"),
                               field="starts_at")
        clash = session.scalar(select(Shift.id).where(
            Shift.campaign_id == shift.campaign_id, Shift.id != shift.id,
            Shift.starts_at == starts_at, Shift.ends_at == ends_at))
        if clash is not None:
            raise Conflict(_l("The campaign already has a shift at this time; change that one instead."))
    # Conditional update: a claim that lands meanwhile can neither be pushed over capacity nor be moved.
    conditions = [Shift.id == shift.id, Shift.seats_taken <= seats, Shift.status == ShiftStatus.OPEN]
    if moves:
        conditions.append(Shift.seats_taken == 0)
    try:
        with session.begin_nested():
            result = session.execute(
                update(Shift).where(*conditions).values(seats=seats, starts_at=starts_at, ends_at=ends_at)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:  # a concurrent edit took the same window
        raise Conflict(_l("The campaign already has a shift at this time; change that one instead.")) from None
    if result.rowcount != 1:
        session.refresh(shift)
        if moves and shift.seats_taken:
            raise Conflict(_l("Agents hold seats on this shift, so its time cannot change."))
        raise Conflict(_l("More seats are taken than that; remove claims first or keep more seats."), field="seats")
    session.refresh(shift)
    return shift


def publish_campaign(session: Session, campaign: Campaign, *, now: datetime) -> Campaign:
    """Draft -> published: needs at least one future shift."""
    transition(campaign, CampaignStatus.PUBLISHED)
    has_future = session.scalar(select(exists().where(
        Shift.campaign_id == campaign.id, Shift.status == ShiftStatus.OPEN, Shift.starts_at > now)))
    if not has_future:
        raise Conflict(_l("Add at least one future shift before publishing."))
    campaign.status = CampaignStatus.PUBLISHED
    campaign.published_at = now
    session.flush()
    return campaign


def transition(campaign: Campaign, target: str) -> None:
    if target not in CAMPAIGN_TRANSITIONS[CampaignStatus(campaign.status)]:
        from app.core.templating import CAMPAIGN_STATUS_NAMES

        raise Conflict(_l("A campaign that is %(status)s cannot become %(target)s.",
                          status=CAMPAIGN_STATUS_NAMES[campaign.status], target=CAMPAIGN_STATUS_NAMES[target]))


def advance_campaigns(session: Session, *, now: datetime) -> dict[str, int]:
    """Published campaigns whose first shift started are running; those whose last shift ended are completed."""
    shift_window = (
        select(Shift.campaign_id, func.min(Shift.starts_at).label("first"), func.max(Shift.ends_at).label("last"))
        .where(Shift.status == ShiftStatus.OPEN).group_by(Shift.campaign_id).subquery()
    )
    completed = session.execute(
        update(Campaign)
        .where(Campaign.status.in_([CampaignStatus.PUBLISHED, CampaignStatus.RUNNING]),
               exists().where(and_(shift_window.c.campaign_id == Campaign.id, shift_window.c.last <= now)))
        .values(status=CampaignStatus.COMPLETED)
        .execution_options(synchronize_session=False)
    ).rowcount
    running = session.execute(
        update(Campaign)
        .where(Campaign.status == CampaignStatus.PUBLISHED,
               exists().where(and_(shift_window.c.campaign_id == Campaign.id, shift_window.c.first <= now)))
        .values(status=CampaignStatus.RUNNING)
        .execution_options(synchronize_session=False)
    ).rowcount
    return {"running": running, "completed": completed}

