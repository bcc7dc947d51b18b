"""Surveys, client and agent ratings, and quality inspection.

Survey links carry `<id>-<HMAC(secret, id)>`: unguessable without the secret, checked in constant
time, one-time (answered_at) and expiring (expires_at). Nothing secret is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from app.campaigns.models import Campaign
from app.claims.models import Claim, ClaimStatus
from app.contacts.models import ContactAttempt, InboundContact, Outcome
from app.core.errors import Conflict, Invalid, NotFound
from app.core.jobs import job
from app.members.models import User
from app.notifications.services import notify
from app.quality.models import (
    CampaignRating,
    FlagStatus,
    Inspection,
    QaFlag,
    QaRules,
    ShiftRating,
    Survey,
)

SURVEY_DAYS = 7
# Outbound attempts where a conversation took place and the customer did not opt out get a survey.
SURVEYED_OUTCOMES = (Outcome.REACHED, Outcome.CONVERTED, Outcome.REACTIVATED, Outcome.CALLBACK)
WORKED = (ClaimStatus.COMPLETED, ClaimStatus.SETTLED)
MAX_RULE_ITEMS = 30
MAX_RULE_LENGTH = 60


def _sign(secret: bytes, survey_id: int) -> str:
    mac = hmac.new(secret, f"survey:{survey_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode().rstrip("=")


def survey_token(secret: bytes, survey_id: int) -> str:
    return f"{survey_id}-{_sign(secret, survey_id)}"


def find_survey(session: Session, secret: bytes, token: str) -> Survey:
    """The survey a token names; forged or malformed tokens look like missing ones."""
    sid, _, mac = (token or "").partition("-")
    if not sid.isdigit() or len(sid) > 12 or not hmac.compare_digest(mac.encode(), _sign(secret, int(sid)).encode()):
        raise NotFound(_l("This survey link is not valid."))
    survey = session.get(Survey, int(sid))
    if survey is None:
        raise NotFound(_l("This survey link is not valid."))
    return survey


def create_surveys(session: Session, *, now: datetime, batch: int = 5000) -> int:
    """A survey for every handled contact that has none yet, set-based (two INSERT … SELECT)."""
    expires = now + timedelta(days=SURVEY_DAYS)
    made = 0
    attempts = (
        select(ContactAttempt.id, ContactAttempt.campaign_id, ContactAttempt.claim_id, ContactAttempt.agent_id)
        .where(ContactAttempt.outcome.in_(SURVEYED_OUTCOMES),
               ~select(Survey.id).where(Survey.attempt_id == ContactAttempt.id).exists())
        .order_by(ContactAttempt.id).limit(batch)
    )
    rows = session.execute(attempts).all()
    if rows:
        session.execute(insert(Survey), [
            {"attempt_id": r.id, "inbound_id": None, "campaign_id": r.campaign_id, "claim_id": r.claim_id,
             "agent_id": r.agent_id, "created_at": now, "expires_at": expires} for r in rows])
        made += len(rows)
    inbound = (
        select(InboundContact.id, InboundContact.campaign_id, InboundContact.claim_id, InboundContact.agent_id)
        .where(~select(Survey.id).where(Survey.inbound_id == InboundContact.id).exists())
        .order_by(InboundContact.id).limit(batch)
    )
    rows = session.execute(inbound).all()
    if rows:
        session.execute(insert(Survey), [
            {"attempt_id": None, "inbound_id": r.id, "campaign_id": r.campaign_id, "claim_id": r.claim_id,
             "agent_id": r.agent_id, "created_at": now, "expires_at": expires} for r in rows])
        made += len(rows)
    return made


def answer_survey(session: Session, *, secret: bytes, token: str, score, comment: str | None,
                  now: datetime) -> Survey:
    """Record the customer's 1–5 rating once. Reused → 409, expired → 410-like Conflict, forged → 404."""
    survey = find_survey(session, secret, token)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise Invalid(_l("Choose a rating from 1 to 5."), field="score")
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > 1000:
        raise Invalid(_l("At most %(n)d characters.", n=1000), field="comment")
    if survey.answered_at is not None:
        raise Conflict(_l("Thank you — this survey was already answered."), code="already_answered")
    if survey.expires_at <= now:
        raise Conflict(_l("This survey has expired."), code="expired")
    done = session.execute(
        update(Survey).where(Survey.id == survey.id, Survey.answered_at.is_(None), Survey.expires_at > now)
        .values(answered_at=now, score=score, comment=comment or None)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_l("Thank you — this survey was already answered."), code="already_answered")
    session.refresh(survey)
    return survey


def _score(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise Invalid(_l("Choose a rating from 1 to 5."), field=field)
    return value


def rate_shift(session: Session, *, client: User, claim_id: int, score, comment: str, now: datetime) -> ShiftRating:
    """A client rates one agent's worked shift on their own campaign, once."""
    claim = session.get(Claim, claim_id)
    if claim is None or session.get(Campaign, claim.campaign_id).organisation_id != client.organisation_id:
        raise NotFound(_l("No such claim."))
    if claim.status not in WORKED:
        raise Conflict(_l("Only worked shifts can be rated."))
    if session.scalar(select(ShiftRating.id).where(ShiftRating.claim_id == claim_id)) is not None:
        raise Conflict(_l("This shift was already rated."))
    rating = ShiftRating(claim_id=claim_id, agent_id=claim.agent_id, rated_by_id=client.id,
                         score=_score(score, "score"), comment=(comment or "")[:1000], created_at=now)
    session.add(rating)
    session.flush()
    return rating


def rate_campaign(session: Session, *, agent: User, campaign_id: int, script_quality, list_quality,
                  comment: str, now: datetime) -> CampaignRating:
    """An agent who worked a campaign rates its script and list, once."""
    worked = session.scalar(select(Claim.id).where(Claim.agent_id == agent.id, Claim.campaign_id == campaign_id,
                                                   Claim.status.in_(WORKED)).limit(1))
    if worked is None:
        raise NotFound(_l("You can rate a campaign after working a shift on it."))
    if session.scalar(select(CampaignRating.id).where(CampaignRating.campaign_id == campaign_id,
                                                      CampaignRating.agent_id == agent.id)) is not None:
        raise Conflict(_l("You already rated this campaign."))
    rating = CampaignRating(campaign_id=campaign_id, agent_id=agent.id,
                            script_quality=_score(script_quality, "script_quality"),
                            list_quality=_score(list_quality, "list_quality"), comment=(comment or "")[:1000],
                            created_at=now)
    session.add(rating)
    session.flush()
    return rating


def _rule_list(text: str, field: str) -> list[str]:
    items = [" ".join(line.split()) for line in (text or "").replace("，", "\n").replace(",", "\n").splitlines()]
    items = list(dict.fromkeys(i for i in items if i))
    if len(items) > MAX_RULE_ITEMS or any(len(i) > MAX_RULE_LENGTH for i in items):
        raise Invalid(_l("At most %(n)d entries of %(m)d characters.", n=MAX_RULE_ITEMS, m=MAX_RULE_LENGTH),
                      field=field)
    return items


@dataclass(frozen=True)
class RulesInput:
    required_phrases: str
    forbidden_words: str
    max_duration_minutes: int | None
    lesson_course: str | None


def set_qa_rules(session: Session, *, campaign: Campaign, data: RulesInput, known_courses: set[str],
                 now: datetime) -> QaRules:
    if data.max_duration_minutes is not None and not 1 <= data.max_duration_minutes <= 240:
        raise Invalid(_l("Between 1 and 240 minutes."), field="max_duration_minutes")
    if data.lesson_course and data.lesson_course not in known_courses:
        raise Invalid(_l("Unknown course."), field="lesson_course")
    rules = session.get(QaRules, campaign.id) or QaRules(campaign_id=campaign.id)
    rules.required_phrases = _rule_list(data.required_phrases, "required_phrases")
    rules.forbidden_words = _rule_list(data.forbidden_words, "forbidden_words")
    rules.max_duration_seconds = data.max_duration_minutes * 60 if data.max_duration_minutes else None
    rules.lesson_course = data.lesson_course or None
    rules.updated_at = now
    session.add(rules)
    session.flush()
    return rules


def check_text(rules: QaRules, notes: str, duration_seconds: int) -> list[tuple[str, str]]:
    """Pure: the (rule, detail) flags one contact's text (notes and transcript) and duration raise."""
    text = (notes or "").casefold()
    flags = [("missing_phrase", p) for p in rules.required_phrases if p.casefold() not in text]
    flags += [("forbidden_word", w) for w in rules.forbidden_words if w.casefold() in text]
    if rules.max_duration_seconds and duration_seconds > rules.max_duration_seconds:
        flags.append(("too_long", str(rules.max_duration_seconds)))
    return flags


def inspect_contacts(session: Session, *, now: datetime, batch: int = 2000) -> int:
    """Run each campaign's rules over handled contacts not yet inspected; a bulk insert per batch."""
    inspected = 0
    for model, key in ((ContactAttempt, "attempt_id"), (InboundContact, "inbound_id")):
        source = getattr(Inspection, key)
        rows = session.execute(
            select(model.id, model.campaign_id, model.claim_id, model.agent_id, model.notes, model.transcript,
                   model.duration_seconds)
            .join(QaRules, QaRules.campaign_id == model.campaign_id)
            .where(~select(Inspection.id).where(source == model.id).exists())
            .order_by(model.id).limit(batch)
        ).all()
        if not rows:
            continue
        rules = {r.campaign_id: r for r in session.scalars(
            select(QaRules).where(QaRules.campaign_id.in_({row.campaign_id for row in rows})))}
        flags, inspections = [], []
        for row in rows:
            found = check_text(rules[row.campaign_id], f"{row.notes}\n{row.transcript}", row.duration_seconds)
            other = "inbound_id" if key == "attempt_id" else "attempt_id"
            base = {key: row.id, other: None, "campaign_id": row.campaign_id, "agent_id": row.agent_id}
            inspections.append({**base, "flags": len(found), "inspected_at": now})
            flags += [{**base, "claim_id": row.claim_id, "rule": rule, "detail": detail[:200],
                       "status": FlagStatus.OPEN, "created_at": now} for rule, detail in found]
        session.execute(insert(Inspection), inspections)
        if flags:
            session.execute(insert(QaFlag), flags)
        inspected += len(rows)
    return inspected


def decide_flag(session: Session, *, user: User, flag_id: int, confirm: bool, now: datetime) -> QaFlag:
    """The client (own campaign) or an admin confirms or dismisses a flag; confirming tells the agent."""
    flag = session.get(QaFlag, flag_id)
    campaign = session.get(Campaign, flag.campaign_id) if flag else None
    if flag is None or not (user.is_admin or (user.is_client and campaign.organisation_id == user.organisation_id)):
        raise NotFound(_l("No such flag."))
    status = FlagStatus.CONFIRMED if confirm else FlagStatus.DISMISSED
    done = session.execute(
        update(QaFlag).where(QaFlag.id == flag_id, QaFlag.status == FlagStatus.OPEN)
        .values(status=status, decided_by_id=user.id, decided_at=now).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_l("This flag was already decided."))
    if confirm:
        rules = session.get(QaRules, flag.campaign_id)
        notify(session, user_ids=[flag.agent_id], kind="qa.flag_confirmed", now=now,
               payload={"campaign": campaign.name, "rule": flag.rule, "detail": flag.detail,
                        "course": rules.lesson_course if rules else None})
    session.refresh(flag)
    return flag


def flags_for(session: Session, *, campaign_ids: list[int] | None, status: str | None, limit: int = 200):
    query = select(QaFlag, User.name).join(User, User.id == QaFlag.agent_id)
    if campaign_ids is not None:
        query = query.where(QaFlag.campaign_id.in_(campaign_ids))
    if status:
        query = query.where(QaFlag.status == status)
    return session.execute(query.order_by(QaFlag.id.desc()).limit(limit)).all()


def surveys_for_campaign(session: Session, campaign_id: int, limit: int = 200):
    return session.execute(
        select(Survey, User.name).join(User, User.id == Survey.agent_id)
        .where(Survey.campaign_id == campaign_id).order_by(Survey.id.desc()).limit(limit)
    ).all()


def worked_claims_for_campaign(session: Session, campaign_id: int, limit: int = 200):
    """Worked claims with their rating (if any), for the client's rating page."""
    return session.execute(
        select(Claim, User.name, ShiftRating.score)
        .join(User, User.id == Claim.agent_id)
        .outerjoin(ShiftRating, ShiftRating.claim_id == Claim.id)
        .where(and_(Claim.campaign_id == campaign_id, Claim.status.in_(WORKED)))
        .order_by(Claim.starts_at.desc()).limit(limit)
    ).all()


@job("quality.create_surveys", queue="default", every=60)
def create_surveys_job(session: Session, now: datetime) -> None:
    """A survey link for each newly handled contact."""
    create_surveys(session, now=now)


@job("quality.inspect", queue="low", every=120)
def inspect_job(session: Session, now: datetime) -> None:
    """Quality inspection of newly handled contacts."""
    inspect_contacts(session, now=now)
