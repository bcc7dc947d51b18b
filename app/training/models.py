"""The Academy's records: course versions, attempts and their answers, certifications, assessments,
XP events, badges, learning days, Q&A and expert articles.

The catalogue (academy/) decides; these tables remember. Everything a member earns is an append-only row with a
unique key, so a replay or a race can never award twice.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, db
from app.members.models import User


class CourseVersion(db.Model):
    """One version of a course's graded content, as the catalogue had it when first seen (never rewritten)."""

    __tablename__ = "academy_course_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    is_required: Mapped[bool] = mapped_column(Boolean, default=False)
    question_count: Mapped[int] = mapped_column(Integer)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("slug", "content_hash", name="uq_academy_course_versions_slug_content_hash"),
    )


class AttemptStatus(enum.StrEnum):
    ACTIVE = "active"
    PASSED = "passed"
    FAILED = "failed"
    EXPIRED = "expired"  # submitted after the time limit, or never submitted
    VOID = "void"  # the course's graded content changed during the attempt: not counted


# Which closed statuses a newly closed attempt may take (an attempt closes exactly once).
ATTEMPT_TRANSITIONS: dict[str, frozenset[str]] = {
    AttemptStatus.ACTIVE: frozenset({AttemptStatus.PASSED, AttemptStatus.FAILED, AttemptStatus.EXPIRED,
                                     AttemptStatus.VOID}),
    AttemptStatus.PASSED: frozenset(),
    AttemptStatus.FAILED: frozenset(),
    AttemptStatus.EXPIRED: frozenset(),
    AttemptStatus.VOID: frozenset(),
}


class Attempt(db.Model):
    """A quiz attempt: the questions drawn for it (with option order, no correctness) and, once closed, its score.

    `submitted_at` is when the attempt closed (graded, late, or closed by the server after its deadline); grading
    is a conditional UPDATE on `submitted_at IS NULL`, and a partial unique index allows one open attempt per
    member.
    """

    __tablename__ = "academy_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_version_id: Mapped[int] = mapped_column(ForeignKey("academy_course_versions.id"))
    course_slug: Mapped[str] = mapped_column(String(60))
    is_renewal: Mapped[bool] = mapped_column(Boolean, default=False)
    questions: Mapped[list] = mapped_column(JSON)  # [{"question_id", "option_order"}] in the order shown
    pass_mark: Mapped[int] = mapped_column(SmallInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default=AttemptStatus.ACTIVE)
    score_percent: Mapped[int | None] = mapped_column(SmallInteger)
    correct_count: Mapped[int | None] = mapped_column(SmallInteger)
    question_count: Mapped[int] = mapped_column(SmallInteger)

    course_version: Mapped[CourseVersion] = relationship()

    __table_args__ = (
        CheckConstraint("status IN ('active','passed','failed','expired','void')", name="status_known"),
        CheckConstraint("(status = 'active') = (submitted_at IS NULL)", name="open_iff_active"),
        CheckConstraint("score_percent IS NULL OR score_percent BETWEEN 0 AND 100", name="score_range"),
        # One open attempt per member at a time, whatever the course.
        Index("uq_academy_attempts_open", "agent_id", unique=True,
              sqlite_where=text("submitted_at IS NULL"), postgresql_where=text("submitted_at IS NULL")),
        Index("ix_academy_attempts_agent_id_course_slug", "agent_id", "course_slug", "started_at"),
        Index("ix_academy_attempts_course_slug", "course_slug"),
    )

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None

    @property
    def passed(self) -> bool:
        return self.status == AttemptStatus.PASSED


class AttemptAnswer(db.Model):
    """How one drawn question of a graded attempt was answered (statistics read these set-based)."""

    __tablename__ = "academy_attempt_answers"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("academy_attempts.id", ondelete="CASCADE"), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    chosen: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool] = mapped_column(Boolean)


class CertificationStatus(enum.StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"  # quiz passed, the mock call is still to be recorded
    PENDING_REVIEW = "pending_review"  # recording uploaded, an admin decides
    GRANTED = "granted"  # tags granted (expiry is read from expires_at)
    REJECTED = "rejected"  # the member may upload a new recording


CERTIFICATION_TRANSITIONS: dict[str, frozenset[str]] = {
    CertificationStatus.AWAITING_UPLOAD: frozenset({CertificationStatus.PENDING_REVIEW}),
    CertificationStatus.PENDING_REVIEW: frozenset({CertificationStatus.GRANTED, CertificationStatus.REJECTED,
                                                   CertificationStatus.PENDING_REVIEW}),
    CertificationStatus.REJECTED: frozenset({CertificationStatus.PENDING_REVIEW}),
    CertificationStatus.GRANTED: frozenset(),
}


class Certification(db.Model):
    """A passed attempt and what came of it: granted at once, or after an admin reviewed a mock call."""

    __tablename__ = "academy_certifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("academy_attempts.id"), unique=True)
    course_slug: Mapped[str] = mapped_column(String(60))
    is_renewal: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    passed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recording_name: Mapped[str | None] = mapped_column(String(80))  # random file name under the upload folder
    recording_type: Mapped[str | None] = mapped_column(String(10))  # mp3 | m4a | wav | ogg | webm | amr
    recording_bytes: Mapped[int | None] = mapped_column(Integer)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reject_reason: Mapped[str | None] = mapped_column(String(500))

    agent: Mapped[User] = relationship(foreign_keys=[agent_id])

    __table_args__ = (
        CheckConstraint("status IN ('awaiting_upload','pending_review','granted','rejected')", name="status_known"),
        CheckConstraint("status <> 'granted' OR granted_at IS NOT NULL", name="granted_has_time"),
        Index("ix_academy_certifications_agent_id_course_slug", "agent_id", "course_slug"),
        Index("ix_academy_certifications_status", "status"),
        Index("ix_academy_certifications_expires_at", "expires_at"),
    )


class AssessmentResult(db.Model):
    """One completed questionnaire; the latest per member and assessment counts, earlier ones stay as history."""

    __tablename__ = "academy_assessment_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assessment_slug: Mapped[str] = mapped_column(String(20))
    scores: Mapped[dict] = mapped_column(JSON)  # {dimension code: 0..100}
    responses: Mapped[dict] = mapped_column(JSON)  # {item id: 1..5}
    recommended: Mapped[list] = mapped_column(JSON, default=list)  # course slugs (career only)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_academy_assessment_results_agent_id_slug", "agent_id", "assessment_slug", "taken_at"),
    )


class XpEvent(db.Model):
    """XP earned, append-only; `source_key` makes each award happen once (first pass, renewal, accepted answer)."""

    __tablename__ = "academy_xp_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    source_key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("points >= 0", name="points_positive"),
        Index("ix_academy_xp_events_created_at_agent_id", "created_at", "agent_id"),
        Index("ix_academy_xp_events_agent_id", "agent_id"),
    )


class BadgeAward(db.Model):
    __tablename__ = "academy_badge_awards"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    code: Mapped[str] = mapped_column(String(40))
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("agent_id", "code", name="uq_academy_badge_awards_agent_id_code"),)


class LearningDay(db.Model):
    """A day (Asia/Shanghai) on which the member learned: opened a lesson or submitted an attempt."""

    __tablename__ = "academy_learning_days"

    agent_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    first_activity: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KnowledgeQuestion(db.Model):
    """A member's question to the community."""

    __tablename__ = "academy_kb_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    course_slug: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()

    __table_args__ = (Index("ix_academy_kb_questions_created_at", "created_at"),)


class KnowledgeAnswer(db.Model):
    """An answer; an admin or an expert marks at most one per question as accepted."""

    __tablename__ = "academy_kb_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("academy_kb_questions.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    author: Mapped[User] = relationship(foreign_keys=[author_id])

    __table_args__ = (
        Index("ix_academy_kb_answers_question_id", "question_id"),
        Index("uq_academy_kb_answers_accepted", "question_id", unique=True,
              sqlite_where=text("accepted_at IS NOT NULL"), postgresql_where=text("accepted_at IS NOT NULL")),
    )


class ArticleKind(enum.StrEnum):
    TALK = "talk"
    CASE = "case"


class ExpertArticle(db.Model):
    """A talk or case write-up in Markdown by an admin or an expert member (rendered sanitised)."""

    __tablename__ = "academy_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body_markdown: Mapped[str] = mapped_column(Text)
    course_slug: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("kind IN ('talk','case')", name="kind_known"),
        Index("ix_academy_articles_created_at", "created_at"),
    )
