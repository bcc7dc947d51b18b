"""The admins' platform dashboard: members, activity, fill, money, queues and the no-show trend.

Set-based like the campaign metrics: a fixed number of grouped statements whatever the number of members,
shifts or claims (the trend groups claims by UTC hour over a fixed window, then by local week in Python).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign, CampaignStatus, Shift, ShiftStatus
from app.claims.models import Claim, ClaimStatus
from app.core.sqlfuncs import parse_hour, utc_hour
from app.core.timefmt import display_tz, local
from app.insight.metrics import SEAT_HOLDING, WORKED, ratio
from app.ledger.queries import totals_by_group
from app.members.models import AgentTag, Role, Status, Tag, User
from app.training.models import Certification, CertificationStatus

TREND_WEEKS = 8
TOP_CITIES = 12
FILL_WINDOW_DAYS = 28
LIVE_CAMPAIGNS = (CampaignStatus.PUBLISHED, CampaignStatus.RUNNING, CampaignStatus.COMPLETED)


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the current week in the display time zone."""
    today = local(now).date()
    return datetime.combine(today - timedelta(days=today.weekday()), time(0), display_tz())


def _queue_age(session: Session, column, where, now: datetime) -> dict:
    """How many wait, and how long the oldest and the median have waited (hours): three small statements."""
    waiting = session.scalar(select(func.count()).where(*where)) or 0
    if not waiting:
        return {"waiting": 0, "oldest_hours": None, "median_hours": None}
    ordered = select(column).where(*where).order_by(column)
    oldest = session.scalar(ordered.limit(1))
    # The median: the middle one (the mean of the two middle ones for an even count).
    middle = list(session.scalars(ordered.offset((waiting - 1) // 2).limit(2 - waiting % 2)))
    median = middle[0] + (middle[-1] - middle[0]) / 2

    def hours(at: datetime) -> float:
        return round((now - at).total_seconds() / 3600, 1)

    return {"waiting": int(waiting), "oldest_hours": hours(oldest), "median_hours": hours(median)}


def platform_figures(session: Session, *, now: datetime, grace_minutes: int = 10) -> dict:
    agents = (User.role == Role.AGENT,)

    # Members: agents by status and tier, by city, by live tag.
    by_tier: dict[int, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for tier, status, n in session.execute(
        select(User.tier, User.status, func.count()).where(*agents).group_by(User.tier, User.status)
    ):
        by_status[status] += n
        if status == Status.ACTIVE:
            by_tier[int(tier)] += n
    per_city: dict[str, int] = defaultdict(int)
    for city, n in session.execute(
        select(User.city, func.count()).where(*agents, User.status == Status.ACTIVE).group_by(User.city)
    ):
        per_city[(city or "").strip()] += n
    cities = sorted(per_city.items(), key=lambda item: (-item[1], item[0]))
    top_cities = [(city, n) for city, n in cities[:TOP_CITIES]]
    other_cities = sum(n for _city, n in cities[TOP_CITIES:])
    live_tag = and_(AgentTag.revoked_at.is_(None), or_(AgentTag.expires_at.is_(None), AgentTag.expires_at > now))
    tags = session.execute(
        select(Tag.code, Tag.kind, func.count(AgentTag.id))
        .join(AgentTag, and_(AgentTag.tag_id == Tag.id, live_tag))
        .join(User, and_(User.id == AgentTag.agent_id, User.status == Status.ACTIVE))
        .group_by(Tag.code, Tag.kind).order_by(Tag.kind, func.count(AgentTag.id).desc(), Tag.code)
    ).all()

    # Activity: agents who checked in at least once since Monday.
    monday = week_start(now)
    # Reached through the shifts of the window (the open-shift index on start time), not a scan of all claims.
    active_this_week = session.scalar(
        select(func.count(func.distinct(Claim.agent_id))).join(Shift, Shift.id == Claim.shift_id)
        .where(Shift.status == ShiftStatus.OPEN, Shift.starts_at >= monday - timedelta(days=1), Shift.starts_at <= now,
               Claim.checked_in_at >= monday, Claim.checked_in_at <= now)) or 0

    # Fill across campaigns: shifts of the last four weeks and upcoming ones, per shift capped at its seats.
    window = (Shift.status == ShiftStatus.OPEN, Shift.starts_at >= now - timedelta(days=FILL_WINDOW_DAYS))
    held = (select(Claim.shift_id, func.count().label("n")).join(Shift, Shift.id == Claim.shift_id)
            .where(Claim.status.in_(SEAT_HOLDING), *window).group_by(Claim.shift_id).subquery())
    n_held = func.coalesce(held.c.n, 0)
    claimed = case((n_held < Shift.seats, n_held), else_=Shift.seats)
    upcoming = Shift.starts_at > now
    fill = {False: (0, 0), True: (0, 0)}
    for is_upcoming, offered, taken in session.execute(
        select(upcoming, func.sum(Shift.seats), func.sum(claimed))
        .join(Campaign, Campaign.id == Shift.campaign_id)
        .outerjoin(held, held.c.shift_id == Shift.id)
        .where(Campaign.status.in_(LIVE_CAMPAIGNS), *window)
        .group_by(upcoming)
    ):
        fill[bool(is_upcoming)] = (int(offered or 0), int(taken or 0))

    # Money: the ledger's cached balances per kind of account (one row per account kind, never a sum of entries).
    totals = totals_by_group(session)
    money = {
        "escrow_fen": totals.get("campaign_escrow", 0),
        "wallets_fen": totals.get("client_wallet", 0),
        "earnings_owed_fen": totals.get("agent_earnings", 0) + totals.get("agent_payouts_pending", 0),
        "payouts_pending_fen": totals.get("agent_payouts_pending", 0),
        "paid_out_fen": totals.get("payouts_sent", 0),
        "platform_revenue_fen": totals.get("platform_revenue", 0),
        "paid_in_fen": -totals.get("payment_provider", 0),
    }

    # Queues: agents waiting for verification, mock-call recordings waiting for review.
    verification = _queue_age(session, User.created_at, (*agents, User.status == Status.PENDING), now)
    reviews = _queue_age(session, Certification.uploaded_at,
                         (Certification.status == CertificationStatus.PENDING_REVIEW,
                          Certification.uploaded_at.is_not(None)), now)

    # No-show trend: claims due per local week (start + grace passed) and those never checked in.
    first_week = week_start(now) - timedelta(weeks=TREND_WEEKS - 1)
    due_cut = now - timedelta(minutes=grace_minutes)
    missed = or_(Claim.status == ClaimStatus.NO_SHOW, Claim.status == ClaimStatus.CLAIMED)
    bucket = utc_hour(Claim.starts_at)
    weeks: dict[str, list[int]] = {}
    for i in range(TREND_WEEKS):
        weeks[(first_week + timedelta(weeks=i)).date().isoformat()] = [0, 0]
    for hour, due, no_shows in session.execute(
        select(bucket, func.count(), func.count().filter(missed)).join(Shift, Shift.id == Claim.shift_id)
        .where(Shift.status == ShiftStatus.OPEN, Shift.starts_at >= first_week, Shift.starts_at <= due_cut,
               Claim.starts_at <= due_cut, Claim.status.in_(WORKED + (ClaimStatus.NO_SHOW, ClaimStatus.CLAIMED)))
        .group_by(bucket)
    ):
        key = week_start(parse_hour(hour)).date().isoformat()
        if key in weeks:
            weeks[key][0] += due
            weeks[key][1] += no_shows
    trend = [{"week": k, "claims_due": v[0], "no_shows": v[1], "no_show_rate": ratio(v[1], v[0])}
             for k, v in weeks.items()]

    past_offered, past_taken = fill[False]
    next_offered, next_taken = fill[True]
    return {
        "computed_at": now.isoformat(),
        "agents_by_status": dict(by_status),
        "agents_by_tier": {tier: by_tier.get(tier, 0) for tier in range(4)},
        "agents_by_city": top_cities,
        "agents_other_cities": other_cities,
        "agents_by_tag": [(code, kind, n) for code, kind, n in tags],
        "active_agents_this_week": int(active_this_week),
        "week_start": monday.isoformat(),
        "fill_past_offered": past_offered, "fill_past_claimed": past_taken,
        "fill_past_rate": ratio(past_taken, past_offered),
        "fill_upcoming_offered": next_offered, "fill_upcoming_claimed": next_taken,
        "fill_upcoming_rate": ratio(next_taken, next_offered),
        **money,
        "verification_queue": verification,
        "review_queue": reviews,
        "no_show_trend": trend,
    }


def chart_data(f: dict) -> dict:
    from flask_babel import gettext

    trend = f["no_show_trend"]
    return {
        "no_shows": {"type": "bar", "percentAxis": "y2", "labels": [w["week"][5:] for w in trend], "datasets": [
            {"label": gettext("Claims due"), "data": [w["claims_due"] for w in trend], "color": "#c9cede"},
            {"label": gettext("No-shows"), "data": [w["no_shows"] for w in trend], "color": "#b7791f"},
            {"label": gettext("No-show rate"), "type": "line", "yAxisID": "y2", "color": "#c53030",
             "data": [None if w["no_show_rate"] is None else round(w["no_show_rate"] * 100, 1) for w in trend]},
        ]},
    }
