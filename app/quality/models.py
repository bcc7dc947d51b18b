"""Quality signals: customer surveys, client ratings of shifts, agent ratings of campaigns, QA rules and flags."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db

# A handled contact is either an outbound attempt with the customer on the line or an inbound conversation.
ONE_SOURCE = "(attempt_id IS NULL) <> (inbound_id IS NULL)"


class Survey(db.Model):
    """A one-time satisfaction survey of one handled contact. Its link token is an HMAC of its id."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_contacts.id"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(ONE_SOURCE, name="one_source"),
        CheckConstraint("score IS NULL OR score BETWEEN 1 AND 5", name="score_range"),
        CheckConstraint("(answered_at IS NULL) = (score IS NULL)", name="answered_has_score"),
        Index("ix_surveys_agent_id_answered_at", "agent_id", "answered_at"),
        Index("ix_surveys_campaign_id", "campaign_id"),
    )


class ShiftRating(db.Model):
    """A client's rating of one agent's shift (a completed claim)."""

    __tablename__ = "shift_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
                      Index("ix_shift_ratings_agent_id", "agent_id"))


class CampaignRating(db.Model):
    """An agent's rating of a campaign they worked: clients build a reputation too."""

    __tablename__ = "campaign_ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    script_quality: Mapped[int] = mapped_column(SmallInteger)
    list_quality: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("campaign_id", "agent_id", name="uq_campaign_ratings_campaign_agent"),
        CheckConstraint("script_quality BETWEEN 1 AND 5 AND list_quality BETWEEN 1 AND 5", name="scores_range"),
    )


class QaRules(db.Model):
    """A campaign's inspection rules, run by the worker over each handled contact's notes."""

    __tablename__ = "qa_rules"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    required_phrases: Mapped[list] = mapped_column(JSON, default=list)
    forbidden_words: Mapped[list] = mapped_column(JSON, default=list)
    max_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    lesson_course: Mapped[str | None] = mapped_column(String(60))  # Academy course assigned on a confirmed flag
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


class QaFlag(db.Model):
    __tablename__ = "qa_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"))
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_contacts.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    rule: Mapped[str] = mapped_column(String(20))  # missing_phrase | forbidden_word | too_long
    detail: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default=FlagStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(ONE_SOURCE, name="one_source"),
        CheckConstraint("rule IN ('missing_phrase','forbidden_word','too_long')", name="rule_known"),
        CheckConstraint("status IN ('open','confirmed','dismissed')", name="status_known"),
        # One flag per contact, rule and detail (NULLs never collide, hence one partial index per source).
        Index("uq_qa_flags_attempt_rule", "attempt_id", "rule", "detail", unique=True,
              sqlite_where=text("attempt_id IS NOT NULL"), postgresql_where=text("attempt_id IS NOT NULL")),
        Index("uq_qa_flags_inbound_rule", "inbound_id", "rule", "detail", unique=True,
              sqlite_where=text("inbound_id IS NOT NULL"), postgresql_where=text("inbound_id IS NOT NULL")),
        Index("ix_qa_flags_campaign_id_status", "campaign_id", "status"),
        Index("ix_qa_flags_agent_id", "agent_id"),
    )


class Inspection(db.Model):
    """That a handled contact was inspected (with or without flags): the QA pass rate's denominator."""

    __tablename__ = "qa_inspections"

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("contact_attempts.id"), unique=True)
    inbound_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_contacts.id"), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    flags: Mapped[int] = mapped_column(Integer, default=0)
    inspected_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint(ONE_SOURCE, name="one_source"),
                      Index("ix_qa_inspections_agent_id_inspected_at", "agent_id", "inspected_at"))


class AgentRating(db.Model):
    """The latest recomputed rating of an agent (a cache of rules.rate over their events)."""

    __tablename__ = "agent_ratings"

    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    satisfaction: Mapped[float] = mapped_column(db.Float)
    qa: Mapped[float] = mapped_column(db.Float)
    reliability: Mapped[float] = mapped_column(db.Float)
    composite: Mapped[float] = mapped_column(db.Float)
    surveys: Mapped[int] = mapped_column(Integer)
    shifts_completed: Mapped[int] = mapped_column(Integer)
    no_shows: Mapped[int] = mapped_column(Integer, default=0)
    late_cancellations: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_flags: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RatingChange(db.Model):
    """A change of an agent's rating or tier, kept so the agent sees what changed and why."""

    __tablename__ = "rating_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    composite_before: Mapped[float | None] = mapped_column(db.Float)
    composite_after: Mapped[float] = mapped_column(db.Float)
    tier_before: Mapped[int] = mapped_column(SmallInteger)
    tier_after: Mapped[int] = mapped_column(SmallInteger)
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_rating_changes_agent_id_created_at", "agent_id", "created_at"),)


class MonthlyLeader(db.Model):
    """The monthly work leaderboard, frozen when the month closes (the periodic job writes it once)."""

    __tablename__ = "monthly_leaders"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in Asia/Shanghai
    rank: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contacts: Mapped[int] = mapped_column(Integer)
    surveys: Mapped[int] = mapped_column(Integer)
    csat_percent: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("month", "rank", name="uq_monthly_leaders_month_rank"),
        UniqueConstraint("month", "agent_id", name="uq_monthly_leaders_month_agent"),
    )
