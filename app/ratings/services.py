"""Recompute every agent's rating from the underlying events, set-based, and move tiers and tag levels.

A constant number of SQL statements whatever the number of agents: three grouped reads (surveys,
inspections and flags, claims), one bulk upsert, bulk inserts for changes, audit and notifications,
and one UPDATE per tier and tag level. Replaying an event cannot change a rating: nothing is
incremented, everything is recomputed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.claims.models import Claim, ClaimStatus
from app.core.jobs import job
from app.members.models import AgentTag, AuditLog, Role, Status, Tag, User
from app.notifications.models import Notification
from app.quality.models import AgentRating, FlagStatus, Inspection, QaFlag, RatingChange, Survey
from app.ratings.rules import AGE_WEIGHTS, Aggregates, next_tier, rate, tag_level

HORIZON_DAYS = AGE_WEIGHTS[-1][0]


WEIGHT_SCALE = 10  # weights are summed as integer tenths: exact, whatever order the database adds them in


def _weight(column, now: datetime):
    """The age-bucket weight of an event time in tenths, as SQL (portable: no power() needed)."""
    whens = [(column >= now - timedelta(days=days), literal(round(weight * WEIGHT_SCALE)))
             for days, weight in AGE_WEIGHTS]
    return case(*whens, else_=literal(0))


def _w(value) -> float:
    return float(value or 0) / WEIGHT_SCALE


def _aggregates(session: Session, now: datetime) -> dict[int, dict]:
    since = now - timedelta(days=HORIZON_DAYS)
    acc: dict[int, dict] = defaultdict(dict)
    w = _weight(Survey.answered_at, now)
    for row in session.execute(
        select(Survey.agent_id, func.sum(w), func.sum(w * Survey.score), func.count(Survey.id))
        .where(Survey.answered_at.is_not(None), Survey.answered_at >= since).group_by(Survey.agent_id)
    ):
        acc[row[0]].update(survey_weight=_w(row[1]), survey_score_sum=_w(row[2]), surveys=row[3])
    w = _weight(Inspection.inspected_at, now)
    for row in session.execute(
        select(Inspection.agent_id, func.sum(w)).where(Inspection.inspected_at >= since).group_by(Inspection.agent_id)
    ):
        acc[row[0]]["inspected_weight"] = _w(row[1])
    w = _weight(QaFlag.created_at, now)
    for row in session.execute(
        select(QaFlag.agent_id, func.sum(w), func.count(QaFlag.id))
        .where(QaFlag.status == FlagStatus.CONFIRMED, QaFlag.created_at >= since).group_by(QaFlag.agent_id)
    ):
        acc[row[0]].update(flagged_weight=_w(row[1]), confirmed_flags=row[2])
    w = _weight(Claim.starts_at, now)
    due = Claim.status.in_([ClaimStatus.COMPLETED, ClaimStatus.SETTLED, ClaimStatus.NO_SHOW,
                            ClaimStatus.LATE_CANCELLED])
    worked = Claim.status.in_([ClaimStatus.COMPLETED, ClaimStatus.SETTLED])
    for row in session.execute(
        select(Claim.agent_id,
               func.sum(case((due, w), else_=0)),
               func.sum(case((Claim.status == ClaimStatus.NO_SHOW, w), else_=0)),
               func.sum(case((Claim.status == ClaimStatus.LATE_CANCELLED, w), else_=0)),
               func.sum(case((worked, 1), else_=0)),
               func.sum(case((Claim.status == ClaimStatus.NO_SHOW, 1), else_=0)),
               func.sum(case((Claim.status == ClaimStatus.LATE_CANCELLED, 1), else_=0)))
        .where(Claim.starts_at >= since, Claim.starts_at <= now).group_by(Claim.agent_id)
    ):
        acc[row[0]].update(due_weight=_w(row[1]), no_show_weight=_w(row[2]),
                           late_cancel_weight=_w(row[3]), shifts_completed=int(row[4] or 0),
                           no_shows=int(row[5] or 0), late_cancellations=int(row[6] or 0))
    return acc


_AGG_FIELDS = set(Aggregates.__dataclass_fields__)


def recompute_ratings(session: Session, *, now: datetime) -> dict[str, int]:
    """Ratings for every agent with events, tier moves by the published rules, tag levels."""
    acc = _aggregates(session, now)
    agents = {a.id: a for a in session.execute(
        select(User.id, User.tier, User.status).where(User.role == Role.AGENT, User.id.in_(list(acc)))
    )} if acc else {}
    previous = {r.agent_id: r for r in session.execute(select(AgentRating.agent_id, AgentRating.composite))}
    rows, changes, tier_moves = [], [], defaultdict(list)
    for agent_id, values in acc.items():
        agent = agents.get(agent_id)
        if agent is None:
            continue
        rating = rate(Aggregates(**{k: v for k, v in values.items() if k in _AGG_FIELDS}))
        counts = {k: values.get(k, 0) for k in ("no_shows", "late_cancellations", "confirmed_flags")}
        rows.append({"agent_id": agent_id, "satisfaction": rating.satisfaction, "qa": rating.qa,
                     "reliability": rating.reliability, "composite": rating.composite, "surveys": rating.surveys,
                     "shifts_completed": rating.shifts_completed, "computed_at": now, **counts})
        tier = next_tier(agent.tier, rating) if agent.status == Status.ACTIVE else agent.tier
        before = previous.get(agent_id)
        if before is None or abs(before.composite - rating.composite) >= 0.1 or tier != agent.tier:
            changes.append({"agent_id": agent_id, "composite_before": before.composite if before else None,
                            "composite_after": rating.composite, "tier_before": agent.tier, "tier_after": tier,
                            "reasons": {"satisfaction": rating.satisfaction, "qa": rating.qa,
                                        "reliability": rating.reliability, "surveys": rating.surveys,
                                        "shifts_completed": rating.shifts_completed, **counts},
                            "created_at": now})
        if tier != agent.tier:
            tier_moves[tier].append(agent_id)
    if rows:
        session.execute(delete(AgentRating).where(AgentRating.agent_id.in_([r["agent_id"] for r in rows])))
        session.execute(insert(AgentRating), rows)
    if changes:
        session.execute(insert(RatingChange), changes)
    moved = []
    for tier, ids in tier_moves.items():
        session.execute(update(User).where(User.id.in_(ids)).values(tier=tier).execution_options(
            synchronize_session=False))
        moved += [{"agent_id": i, "tier": tier} for i in ids]
    if moved:
        by_agent = {c["agent_id"]: c for c in changes}
        session.execute(insert(AuditLog), [
            {"actor_id": None, "action": "agent.tier", "target_type": "user", "target_id": m["agent_id"],
             "detail": {"tier": m["tier"], "previous": by_agent[m["agent_id"]]["tier_before"],
                        "reason": "rating rules", "composite": by_agent[m["agent_id"]]["composite_after"]},
             "created_at": now} for m in moved])
        session.execute(insert(Notification), [
            {"user_id": m["agent_id"], "kind": "rating.tier_changed", "created_at": now,
             "payload": {"tier": m["tier"], "previous": by_agent[m["agent_id"]]["tier_before"]}} for m in moved])
    levels = _update_tag_levels(session, now)
    badges = award_work_badges(session, now=now)
    return {"agents": len(rows), "changes": len(changes), "tier_moves": len(moved), "tag_levels": levels,
            "badges": badges}


def _update_tag_levels(session: Session, now: datetime) -> int:
    """Industry tags gain levels from volume and satisfaction in that industry's campaigns."""
    since = now - timedelta(days=HORIZON_DAYS)
    stats = session.execute(
        select(Survey.agent_id, Campaign.industry, func.count(Survey.id),
               func.sum(case((Survey.score >= 4, 1), else_=0)))
        .join(Campaign, Campaign.id == Survey.campaign_id)
        .where(Survey.answered_at.is_not(None), Survey.answered_at >= since)
        .group_by(Survey.agent_id, Campaign.industry)
    ).all()
    tag_ids = dict(session.execute(select(Tag.code, Tag.id).where(Tag.kind == "industry")).all())
    params = [
        {"a": agent_id, "t": tag_ids[industry], "l": tag_level(answered, (good or 0) / answered if answered else 0.0)}
        for agent_id, industry, answered, good in stats if industry in tag_ids
    ]
    if not params:
        return 0
    # One executemany for all pairs; rows already at their level are left alone.
    result = session.execute(
        update(AgentTag.__table__)
        .where(AgentTag.__table__.c.agent_id == bindparam("a"), AgentTag.__table__.c.tag_id == bindparam("t"),
               AgentTag.__table__.c.revoked_at.is_(None), AgentTag.__table__.c.level != bindparam("l"))
        .values(level=bindparam("l")),
        params,
    )
    return max(result.rowcount, 0)


HIGH_SATISFACTION_MIN_SURVEYS = 20
HIGH_SATISFACTION_SHARE = 0.9  # share of 4–5 ratings in a calendar month


def _month(session: Session, column):
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", column, "+8 hours")


def award_work_badges(session: Session, *, now: datetime) -> int:
    """The Academy's work badges (100 contacts, a month of high satisfaction), by the engine's badge rules."""
    from academy.gamification import MemberStats, badges_earned
    from app.contacts.models import ContactAttempt, InboundContact
    from app.training.models import BadgeAward

    handled: dict[int, int] = defaultdict(int)
    for model in (ContactAttempt, InboundContact):
        for agent_id, n in session.execute(select(model.agent_id, func.count(model.id)).group_by(model.agent_id)):
            handled[agent_id] += n
    month = _month(session, Survey.answered_at)
    months = session.execute(
        select(Survey.agent_id, month, func.count(Survey.id), func.sum(case((Survey.score >= 4, 1), else_=0)))
        .where(Survey.answered_at.is_not(None)).group_by(Survey.agent_id, month)
    ).all()
    good_months: dict[int, int] = defaultdict(int)
    for agent_id, _m, answered, good in months:
        if answered >= HIGH_SATISFACTION_MIN_SURVEYS and (good or 0) >= HIGH_SATISFACTION_SHARE * answered:
            good_months[agent_id] += 1
    held = set(session.execute(select(BadgeAward.agent_id, BadgeAward.code)
                               .where(BadgeAward.code.in_(["contacts_100", "satisfaction_month"]))).all())
    rows = []
    for agent_id in set(handled) | set(good_months):
        stats = MemberStats(contacts_handled=handled.get(agent_id, 0),
                            high_satisfaction_months=good_months.get(agent_id, 0))
        for code in badges_earned(stats) & {"contacts_100", "satisfaction_month"}:
            if (agent_id, code) not in held:
                rows.append({"agent_id": agent_id, "code": code, "awarded_at": now})
    if rows:
        session.execute(insert(BadgeAward), rows)
    return len(rows)


LEADERBOARD_SIZE = 50
LEADERBOARD_MIN_SURVEYS = 5


def _month_bounds(now: datetime) -> tuple[str, datetime, datetime]:
    """The previous calendar month in Asia/Shanghai: its label and UTC bounds."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    local = now.astimezone(tz)
    end = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    start = (end - timedelta(days=1)).replace(day=1)
    return start.strftime("%Y-%m"), start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


def freeze_monthly_leaderboard(session: Session, *, now: datetime) -> int:
    """Rank last month's agents by satisfied contacts (4–5 ratings), then contacts; written once per month."""
    from app.contacts.models import ContactAttempt, InboundContact
    from app.quality.models import MonthlyLeader

    month, start, end = _month_bounds(now)
    if session.scalar(select(MonthlyLeader.id).where(MonthlyLeader.month == month).limit(1)) is not None:
        return 0
    handled: dict[int, int] = defaultdict(int)
    for model in (ContactAttempt, InboundContact):
        for agent_id, n in session.execute(
            select(model.agent_id, func.count(model.id))
            .where(model.created_at >= start, model.created_at < end).group_by(model.agent_id)
        ):
            handled[agent_id] += n
    rated = session.execute(
        select(Survey.agent_id, func.count(Survey.id), func.sum(case((Survey.score >= 4, 1), else_=0)))
        .where(Survey.answered_at >= start, Survey.answered_at < end).group_by(Survey.agent_id)
    ).all()
    ranked = sorted(
        ((int(good or 0), handled.get(agent_id, 0), agent_id, answered, round(100 * (good or 0) / answered))
         for agent_id, answered, good in rated if answered >= LEADERBOARD_MIN_SURVEYS),
        key=lambda r: (-r[0], -r[1], r[2]),
    )[:LEADERBOARD_SIZE]
    if ranked:
        session.execute(insert(MonthlyLeader), [
            {"month": month, "rank": i + 1, "agent_id": agent_id, "contacts": contacts, "surveys": answered,
             "csat_percent": csat, "created_at": now}
            for i, (_good, contacts, agent_id, answered, csat) in enumerate(ranked)])
    return len(ranked)


def monthly_leaderboard(session: Session, *, now: datetime, limit: int = 10):
    """The latest frozen month: (month, top rows with names)."""
    from app.quality.models import MonthlyLeader

    month = session.scalar(select(func.max(MonthlyLeader.month)))
    if month is None:
        return None, []
    rows = session.execute(
        select(MonthlyLeader, User.name).join(User, User.id == MonthlyLeader.agent_id)
        .where(MonthlyLeader.month == month).order_by(MonthlyLeader.rank).limit(limit)
    ).all()
    return month, rows


@job("ratings.monthly_leaderboard", queue="low", every=3600)
def monthly_leaderboard_job(session: Session, now: datetime) -> None:
    """Freeze last month's leaderboard (idempotent: once per month)."""
    freeze_monthly_leaderboard(session, now=now)


def rating_of(session: Session, agent_id: int) -> AgentRating | None:
    return session.get(AgentRating, agent_id)


def changes_of(session: Session, agent_id: int, limit: int = 10) -> list[RatingChange]:
    return list(session.scalars(select(RatingChange).where(RatingChange.agent_id == agent_id)
                                .order_by(RatingChange.id.desc()).limit(limit)))


@job("ratings.recompute", queue="low", every=900)
def recompute_ratings_job(session: Session, now: datetime) -> None:
    """Recompute all ratings (idempotent: the same events give the same ratings)."""
    recompute_ratings(session, now=now)
