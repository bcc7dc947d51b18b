"""Academy reads: a member's progress, XP and level, streak, leaderboard, learning path, Q&A lists, and the admin's
review queue and course statistics. Each is a constant number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, joinedload

from academy import Catalogue
from academy import policy as rules
from academy.gamification import LevelInfo, level_for_xp, streak
from academy.path import OpenWork, PathStep, learning_path
from app.campaigns.models import OPEN_CAMPAIGN_STATUSES, Campaign, CampaignTag, Shift, ShiftStatus
from app.claims.queries import held_tag_codes
from app.members.models import Tag, User
from app.training.models import (
    AssessmentResult,
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    BadgeAward,
    Certification,
    CertificationStatus,
    ExpertArticle,
    KnowledgeAnswer,
    KnowledgeQuestion,
    LearningDay,
    XpEvent,
)
from app.training.services import local_day, passed_slugs

LEADERBOARD_SIZE = 20


# ---------------------------------------------------------------- a member's progress


def xp_total(session: Session, agent_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(XpEvent.points), 0)).where(XpEvent.agent_id == agent_id))


def level_of(session: Session, agent_id: int) -> LevelInfo:
    return level_for_xp(int(xp_total(session, agent_id)))


def current_streak(session: Session, agent_id: int, now: datetime) -> int:
    today = local_day(now)
    days = session.scalars(select(LearningDay.day).where(LearningDay.agent_id == agent_id,
                                                          LearningDay.day >= today - timedelta(days=400)))
    return streak(days, today)


def badge_codes(session: Session, agent_id: int) -> list[str]:
    return list(session.scalars(select(BadgeAward.code).where(BadgeAward.agent_id == agent_id)
                                .order_by(BadgeAward.awarded_at, BadgeAward.id)))


@dataclass(frozen=True)
class CourseCard:
    """One course in the member's course list."""

    slug: str
    passed: bool
    expires_at: datetime | None
    expired: bool
    renewal_open: bool
    certification_status: str | None  # awaiting_upload | pending_review | rejected (of an open certification)
    open_attempt_id: int | None
    best_score: int | None
    attempts: int


def course_cards(session: Session, agent_id: int, catalogue: Catalogue, now: datetime) -> dict[str, CourseCard]:
    """Every course's standing for one member, in three queries."""
    from app.training.services import RENEWAL_WINDOW_DAYS

    certs = session.execute(
        select(Certification.course_slug, Certification.status, Certification.expires_at, Certification.passed_at,
               Certification.id).where(Certification.agent_id == agent_id)
        .order_by(Certification.passed_at, Certification.id)).all()
    attempts = session.execute(
        select(Attempt.course_slug, func.count(Attempt.id), func.max(Attempt.score_percent))
        .where(Attempt.agent_id == agent_id, Attempt.status != AttemptStatus.VOID).group_by(Attempt.course_slug)).all()
    open_attempt = session.execute(select(Attempt.course_slug, Attempt.id).where(
        Attempt.agent_id == agent_id, Attempt.submitted_at.is_(None))).first()
    by_slug = defaultdict(list)
    for row in certs:
        by_slug[row.course_slug].append(row)
    counts = {slug: (n, best) for slug, n, best in attempts}
    cards = {}
    for slug, course in catalogue.courses.items():
        rows = by_slug.get(slug, [])
        granted = [r for r in rows if r.status == CertificationStatus.GRANTED]
        never = any(r.expires_at is None for r in granted)
        expires = None if never else max((r.expires_at for r in granted), default=None)
        passed = bool(granted) and (never or expires > now)
        last = rows[-1] if rows else None
        open_status = last.status if last is not None and last.status != CertificationStatus.GRANTED else None
        n, best = counts.get(slug, (0, None))
        cards[slug] = CourseCard(
            slug=slug, passed=passed, expires_at=expires, expired=bool(granted) and not passed,
            renewal_open=course.renewal is not None and expires is not None
            and now >= expires - timedelta(days=RENEWAL_WINDOW_DAYS),
            certification_status=open_status,
            open_attempt_id=open_attempt.id if open_attempt is not None and open_attempt.course_slug == slug else None,
            best_score=best, attempts=n)
    return cards


def open_attempt_of(session: Session, agent_id: int) -> Attempt | None:
    return session.scalar(select(Attempt).where(Attempt.agent_id == agent_id, Attempt.submitted_at.is_(None)))


def attempts_at(session: Session, agent_id: int, slug: str, limit: int = 20) -> list[Attempt]:
    return list(session.scalars(select(Attempt).where(Attempt.agent_id == agent_id, Attempt.course_slug == slug)
                                .order_by(Attempt.started_at.desc(), Attempt.id.desc()).limit(limit)))


def certifications_of(session: Session, agent_id: int, slug: str | None = None) -> list[Certification]:
    query = select(Certification).where(Certification.agent_id == agent_id)
    if slug:
        query = query.where(Certification.course_slug == slug)
    return list(session.scalars(query.order_by(Certification.passed_at.desc(), Certification.id.desc())))


def answers_of(session: Session, attempt_id: int) -> dict[str, AttemptAnswer]:
    rows = session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
    return {a.question_id: a for a in rows}


def assessment_history(session: Session, agent_id: int, slug: str | None = None,
                       limit: int = 20) -> list[AssessmentResult]:
    """Newest first; the first of each assessment is the one that counts."""
    query = select(AssessmentResult).where(AssessmentResult.agent_id == agent_id)
    if slug:
        query = query.where(AssessmentResult.assessment_slug == slug)
    return list(session.scalars(query.order_by(AssessmentResult.taken_at.desc(), AssessmentResult.id.desc())
                                .limit(limit)))


def latest_results(session: Session, agent_id: int) -> dict[str, AssessmentResult]:
    latest: dict[str, AssessmentResult] = {}
    for result in assessment_history(session, agent_id, limit=200):
        latest.setdefault(result.assessment_slug, result)
    return latest


# ---------------------------------------------------------------- leaderboard


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    agent_id: int
    name: str
    xp: int


def week_start(now: datetime) -> datetime:
    """Monday 00:00 Asia/Shanghai of the week containing `now`."""
    day_start, _ = rules.local_day_bounds(now)
    return day_start - timedelta(days=day_start.weekday())


def weekly_leaderboard(session: Session, *, agent_id: int | None, now: datetime,
                       size: int = LEADERBOARD_SIZE) -> tuple[list[LeaderRow], LeaderRow | None]:
    """Top `size` by XP earned this week (ties share a rank) plus the member's own row, in one query."""
    weekly = func.sum(XpEvent.points)
    ranked = (
        select(XpEvent.agent_id.label("agent_id"), weekly.label("xp"),
               func.rank().over(order_by=weekly.desc()).label("rank"),
               func.row_number().over(order_by=(weekly.desc(), XpEvent.agent_id)).label("place"))
        .where(XpEvent.created_at >= week_start(now), XpEvent.created_at <= now)
        .group_by(XpEvent.agent_id).subquery()
    )
    rows = session.execute(
        select(ranked.c.rank, ranked.c.agent_id, User.name, ranked.c.xp, ranked.c.place)
        .join(User, User.id == ranked.c.agent_id)
        .where(or_(ranked.c.place <= size, ranked.c.agent_id == agent_id))
        .order_by(ranked.c.place)).all()
    top = [LeaderRow(r.rank, r.agent_id, r.name, int(r.xp)) for r in rows if r.place <= size]
    mine = next((LeaderRow(r.rank, r.agent_id, r.name, int(r.xp)) for r in rows if r.agent_id == agent_id), None)
    return top, mine


def public_name(name: str) -> str:
    """How a member appears to others on the leaderboard: the surname or first letter, the rest masked."""
    name = (name or "").strip()
    return (name[0] + "**") if name else "**"


# ---------------------------------------------------------------- learning path


def open_work_this_week(session: Session, now: datetime) -> list[OpenWork]:
    """Open shifts with free seats starting in the next 7 days, grouped by their campaigns' required tag sets.

    One statement: shifts counted per campaign, joined to each campaign's tags; grouped into tag sets here.
    """
    per_campaign = (
        select(Shift.campaign_id.label("campaign_id"), func.count(Shift.id).label("shifts"))
        .join(Campaign, Campaign.id == Shift.campaign_id)
        .where(Shift.status == ShiftStatus.OPEN, Shift.starts_at > now, Shift.starts_at < now + timedelta(days=7),
               Shift.seats_taken < Shift.seats, Campaign.status.in_(OPEN_CAMPAIGN_STATUSES))
        .group_by(Shift.campaign_id).subquery()
    )
    rows = session.execute(
        select(per_campaign.c.campaign_id, per_campaign.c.shifts, Tag.code)
        .outerjoin(CampaignTag, CampaignTag.campaign_id == per_campaign.c.campaign_id)
        .outerjoin(Tag, Tag.id == CampaignTag.tag_id)).all()
    campaigns: dict[int, tuple[int, set[str]]] = {}
    for campaign_id, shifts, code in rows:
        count, tags = campaigns.setdefault(campaign_id, (shifts, set()))
        if code:
            tags.add(code)
    by_tags: dict[frozenset[str], int] = defaultdict(int)
    for shifts, tags in campaigns.values():
        by_tags[frozenset(tags)] += shifts
    return [OpenWork(tags, n) for tags, n in sorted(by_tags.items(), key=lambda kv: sorted(kv[0]))]


def path_for(session: Session, agent_id: int, catalogue: Catalogue, now: datetime) -> list[PathStep]:
    """The learning path: courses not passed, ranked by the open shifts this week they would unlock."""
    return learning_path(catalogue, passed_slugs(session, agent_id, now), held_tag_codes(session, agent_id, now),
                         open_work_this_week(session, now))


# ---------------------------------------------------------------- Q&A and articles


def list_questions(session: Session, *, limit: int = 50, course: str | None = None) -> list[tuple]:
    """Newest questions with their answer count and whether one is accepted."""
    counts = (select(KnowledgeAnswer.question_id, func.count(KnowledgeAnswer.id).label("answers"),
                     func.max(case((KnowledgeAnswer.accepted_at.is_not(None), 1), else_=0)).label("solved"))
              .group_by(KnowledgeAnswer.question_id).subquery())
    query = (select(KnowledgeQuestion, func.coalesce(counts.c.answers, 0), func.coalesce(counts.c.solved, 0))
             .outerjoin(counts, counts.c.question_id == KnowledgeQuestion.id)
             .options(joinedload(KnowledgeQuestion.author)))
    if course:
        query = query.where(KnowledgeQuestion.course_slug == course)
    return session.execute(query.order_by(KnowledgeQuestion.created_at.desc(), KnowledgeQuestion.id.desc())
                           .limit(limit)).all()


def answers_to(session: Session, question_id: int) -> list[KnowledgeAnswer]:
    """Accepted answer first, then oldest first."""
    return list(session.scalars(
        select(KnowledgeAnswer).options(joinedload(KnowledgeAnswer.author))
        .where(KnowledgeAnswer.question_id == question_id)
        .order_by(KnowledgeAnswer.accepted_at.is_(None), KnowledgeAnswer.created_at, KnowledgeAnswer.id)))


def list_articles(session: Session, limit: int = 50) -> list[ExpertArticle]:
    return list(session.scalars(select(ExpertArticle).options(joinedload(ExpertArticle.author))
                                .order_by(ExpertArticle.created_at.desc(), ExpertArticle.id.desc()).limit(limit)))


# ---------------------------------------------------------------- admin


def review_queue(session: Session, limit: int = 200) -> list[Certification]:
    """Mock calls waiting for review, oldest upload first."""
    return list(session.scalars(
        select(Certification).options(joinedload(Certification.agent))
        .where(Certification.status == CertificationStatus.PENDING_REVIEW)
        .order_by(Certification.uploaded_at, Certification.id).limit(limit)))


@dataclass(frozen=True)
class CourseStats:
    slug: str
    attempts: int
    passed: int
    average_score: float | None

    @property
    def pass_rate(self) -> int | None:
        return round(self.passed * 100 / self.attempts) if self.attempts else None


def course_stats(session: Session) -> dict[str, CourseStats]:
    """Closed, counted attempts per course: how many, how many passed, the average score. One grouped query."""
    closed = and_(Attempt.submitted_at.is_not(None), Attempt.status != AttemptStatus.VOID)
    rows = session.execute(
        select(Attempt.course_slug, func.count(Attempt.id),
               func.sum(case((Attempt.status == AttemptStatus.PASSED, 1), else_=0)),
               func.avg(Attempt.score_percent))
        .where(closed).group_by(Attempt.course_slug)).all()
    return {slug: CourseStats(slug, n, int(passed or 0), float(avg) if avg is not None else None)
            for slug, n, passed, avg in rows}


@dataclass(frozen=True)
class QuestionStats:
    question_id: str
    answered: int
    correct: int

    @property
    def correct_rate(self) -> int:
        return round(self.correct * 100 / self.answered) if self.answered else 0


def hardest_questions(session: Session, slug: str, limit: int = 5) -> list[QuestionStats]:
    """The questions of a course answered correctly least often, from the stored per-question results."""
    correct = func.sum(cast(AttemptAnswer.is_correct, Integer))
    total = func.count()
    rows = session.execute(
        select(AttemptAnswer.question_id, total.label("answered"), correct.label("correct"))
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(Attempt.course_slug == slug)
        .group_by(AttemptAnswer.question_id)
        .order_by((correct * 1.0 / total).asc(), total.desc(), AttemptAnswer.question_id)
        .limit(limit)).all()
    return [QuestionStats(q, int(n), int(c or 0)) for q, n, c in rows]


@dataclass(frozen=True)
class MemberSummary:
    """The Academy section of the admin's member page."""

    latest: dict[str, AssessmentResult]
    history: list[AssessmentResult]
    certifications: list[Certification]
    xp: int
    level: LevelInfo


def member_summary(session: Session, agent_id: int) -> MemberSummary:
    history = assessment_history(session, agent_id, limit=30)
    latest: dict[str, AssessmentResult] = {}
    for result in history:
        latest.setdefault(result.assessment_slug, result)
    xp = int(xp_total(session, agent_id))
    return MemberSummary(latest, history, certifications_of(session, agent_id), xp, level_for_xp(xp))
