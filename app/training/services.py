"""Academy mutations: catalogue sync, attempts, grading, certification and review, assessments, XP, badges,
learning days, Q&A and expert articles.

Plain functions of (session, ..., now): no request, no current_user. The engine in academy/ decides every rule;
these functions store what it decided. Exactly-once comes from the database: a conditional UPDATE closes an
attempt, and unique keys make every award (certification per attempt, XP per source, badge per member) happen once.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask_babel import LazyString, get_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from academy import Catalogue, Course
from academy import policy as rules
from academy.assessment import recommend_tracks, score_likert
from academy.errors import AcademyError, InvalidAnswer
from academy.gamification import (
    ACCEPTED_ANSWER_XP,
    MemberStats,
    badges_earned,
    longest_streak,
    xp_for_pass,
)
from academy.quiz import DrawnQuestion, draw_questions, grade
from app.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from app.core.text import clean_text
from app.members.models import Role, Status, Tier, User
from app.members.services import audit, get_agent, get_tag, grant_tag_from_academy, live_tag, set_tier
from app.training import current_catalogue
from app.training.models import (
    ArticleKind,
    AssessmentResult,
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    BadgeAward,
    Certification,
    CertificationStatus,
    CourseVersion,
    ExpertArticle,
    KnowledgeAnswer,
    KnowledgeQuestion,
    LearningDay,
    XpEvent,
)

RENEWAL_WINDOW_DAYS = 30
"""A renewal quiz opens this many days before a pass expires (and stays open after it has expired)."""

REMINDER_DAYS = 14
"""Members are reminded this many days before a pass (and its tags) expires."""

EXPERT_TIER = Tier.SENIOR
"""Agents of this tier or above may accept answers and write expert articles."""

QUESTION_TITLE_MAX = 200
TEXT_MAX = 5_000
ARTICLE_MAX = 50_000


# ---------------------------------------------------------------- small helpers


def _lazy(build: Callable[[], str]) -> LazyString:
    """A message built when shown, in the reader's language (course titles come from the catalogue)."""
    return LazyString(build)


def _lang() -> str:
    return str(get_locale() or "zh")


def _title(catalogue: Catalogue, slug: str) -> str:
    course = catalogue.courses.get(slug)
    return course.title.get(_lang()) if course else slug


def _course(catalogue: Catalogue, slug: str) -> Course:
    course = catalogue.courses.get(slug) if isinstance(slug, str) else None
    if course is None:
        raise NotFound(_l("There is no such course."))
    return course


def _insert_ignore(session: Session, model, values: dict, keys: list[str]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL; True when a row was written."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=keys)
    # RETURNING says whether a row was written (rowcount is not reliable for this on every driver).
    return session.execute(statement.returning(getattr(model, keys[0]))).first() is not None


def local_day(now: datetime):
    """The Asia/Shanghai date of a moment (streaks and the daily cap use the same calendar)."""
    return now.astimezone(rules.LOCAL_TZ).date()


def is_expert(user: User) -> bool:
    """Admins, and active agents of senior tier or above."""
    if user.role == Role.ADMIN:
        return True
    return user.role == Role.AGENT and user.status == Status.ACTIVE and user.tier >= EXPERT_TIER


# ---------------------------------------------------------------- catalogue sync


def sync_course(session: Session, course: Course, *, now: datetime) -> CourseVersion:
    """The stored version of the course's current graded content, created on first sight (idempotent)."""
    query = select(CourseVersion).where(CourseVersion.slug == course.slug,
                                        CourseVersion.content_hash == course.content_hash)
    row = session.scalar(query)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = CourseVersion(slug=course.slug, version=course.version, content_hash=course.content_hash,
                                is_required=course.required, question_count=len(course.questions), synced_at=now)
            session.add(row)
            session.flush()
    except IntegrityError:  # another process stored it first
        row = session.scalar(query)
    return row


def sync_catalogue(session: Session, catalogue: Catalogue, *, now: datetime) -> int:
    """Store every course version not stored yet; returns how many were new. Old versions are never touched."""
    known = set(session.execute(select(CourseVersion.slug, CourseVersion.content_hash)).tuples())
    new = 0
    for course in catalogue.courses.values():
        if (course.slug, course.content_hash) not in known:
            sync_course(session, course, now=now)
            new += 1
    return new


# ---------------------------------------------------------------- reads the rules need


def passed_slugs(session: Session, agent_id: int, now: datetime) -> set[str]:
    """Courses with a granted, unexpired certification."""
    return set(session.scalars(
        select(Certification.course_slug).where(
            Certification.agent_id == agent_id, Certification.status == CertificationStatus.GRANTED,
            (Certification.expires_at.is_(None)) | (Certification.expires_at > now))
        .distinct()
    ))


def latest_scores(session: Session, agent_id: int, slug: str) -> dict[str, int]:
    """Dimension scores of the member's latest result for an assessment ({} if never taken)."""
    row = session.scalar(
        select(AssessmentResult.scores).where(AssessmentResult.agent_id == agent_id,
                                              AssessmentResult.assessment_slug == slug)
        .order_by(AssessmentResult.taken_at.desc(), AssessmentResult.id.desc()).limit(1))
    return dict(row or {})


@dataclass(frozen=True)
class CourseState:
    """Where a member stands with one course."""

    slug: str
    passed: bool  # a granted certification that has not expired
    ever_granted: bool
    expires_at: datetime | None  # of the latest granted certification
    renewal_open: bool  # the renewal quiz may be taken now
    open_certification: Certification | None  # awaiting upload, pending review or rejected
    open_attempt_id: int | None  # the member's open attempt at this course

    @property
    def expired(self) -> bool:
        return self.ever_granted and not self.passed


def course_state(session: Session, agent_id: int, course: Course, now: datetime) -> CourseState:
    certs = list(session.scalars(
        select(Certification).where(Certification.agent_id == agent_id, Certification.course_slug == course.slug)
        .order_by(Certification.passed_at.desc(), Certification.id.desc())))
    granted = [c for c in certs if c.status == CertificationStatus.GRANTED]
    never_expires = any(c.expires_at is None for c in granted)
    expires = None if never_expires else max((c.expires_at for c in granted), default=None)
    passed = bool(granted) and (never_expires or expires > now)
    renewal_open = (course.renewal is not None and expires is not None
                    and now >= expires - timedelta(days=RENEWAL_WINDOW_DAYS))
    latest = max(granted, key=lambda c: (c.granted_at, c.id)) if granted else None
    open_cert = next((c for c in certs if c.status != CertificationStatus.GRANTED), None)
    if open_cert is not None and latest is not None and latest.passed_at > open_cert.passed_at:
        open_cert = None
    open_attempt = session.scalar(select(Attempt.id).where(
        Attempt.agent_id == agent_id, Attempt.course_slug == course.slug, Attempt.submitted_at.is_(None)))
    return CourseState(course.slug, passed, latest is not None, expires, renewal_open, open_cert, open_attempt)


# ---------------------------------------------------------------- attempts


class StartRefused(DomainError):
    """The engine's can_start_attempt said no; `code` is its reason code."""


_REFUSAL_STATUS = {
    rules.PREREQUISITES_MISSING: 403,
    rules.ASSESSMENT_REQUIRED: 403,
    rules.ASSESSMENT_SCORE_TOO_LOW: 403,
    rules.ATTEMPT_ACTIVE: 409,
    rules.COOLDOWN: 429,
    rules.DAILY_LIMIT: 429,
}


def refusal(decision: rules.Decision, catalogue: Catalogue, psych_names: Mapping[str, object]) -> StartRefused:
    """A member-facing error for a refused start, worded when shown (in the reader's language)."""
    from app.core.timefmt import local

    code, detail = decision.reason_code, decision.detail

    def build() -> str:
        if code == rules.PREREQUISITES_MISSING:
            return gettext("Pass these courses first: %(courses)s.",
                           courses=", ".join(_title(catalogue, s) for s in detail["missing"]))
        if code == rules.ASSESSMENT_REQUIRED:
            return gettext("This course needs a %(dimension)s score of at least %(required)d in the work-style "
                           "assessment. Take the assessment first.",
                           dimension=_dimension_name(psych_names, detail["dimension"]), required=detail["required"])
        if code == rules.ASSESSMENT_SCORE_TOO_LOW:
            return gettext("This course needs a %(dimension)s score of at least %(required)d; your latest "
                           "work-style assessment gave %(score)d.",
                           dimension=_dimension_name(psych_names, detail["dimension"]), required=detail["required"],
                           score=detail["score"])
        if code == rules.ATTEMPT_ACTIVE:
            return gettext("You already have a quiz in progress. Finish it first.")
        if code == rules.COOLDOWN:
            minutes = max(1, (int(detail["remaining_seconds"]) + 59) // 60)
            return gettext("Take a break after a failed attempt: you can try again at %(time)s (in %(n)d min). "
                           "Re-read the lessons in the meantime.",
                           time=local(detail["until"]).strftime("%H:%M"), n=minutes)
        if code == rules.DAILY_LIMIT:
            return gettext("You have used all %(limit)d attempts for today. Try again tomorrow.",
                           limit=detail["limit"])
        return gettext("You cannot start this quiz now.")

    exc = StartRefused(_lazy(build), code=code, **detail)
    exc.status = _REFUSAL_STATUS.get(code, 400)
    return exc


def _dimension_name(names: Mapping[str, object], code: str) -> str:
    localized = names.get(code)
    return localized.get(_lang()) if localized is not None else code


def close_overdue_attempts(session: Session, *, now: datetime, agent_id: int | None = None) -> int:
    """Close open attempts whose deadline (plus grace) has passed: expired, score 0. Returns how many."""
    grace = timedelta(seconds=rules.DEFAULT_GRACE_SECONDS)
    query = update(Attempt).where(Attempt.submitted_at.is_(None), Attempt.deadline_at < now - grace)
    if agent_id is not None:
        query = query.where(Attempt.agent_id == agent_id)
    result = session.execute(query.values(submitted_at=now, status=AttemptStatus.EXPIRED, score_percent=0,
                                          correct_count=0).execution_options(synchronize_session=False))
    if result.rowcount:
        session.expire_all()
    return result.rowcount


def attempt_records(session: Session, agent_id: int, slug: str) -> list[rules.AttemptRecord]:
    """This member's closed, counted attempts at a course (any version), for the cooldown and the daily cap."""
    rows = session.execute(
        select(Attempt.started_at, Attempt.status, Attempt.submitted_at, Attempt.deadline_at).where(
            Attempt.agent_id == agent_id, Attempt.course_slug == slug, Attempt.submitted_at.is_not(None),
            Attempt.status != AttemptStatus.VOID)).all()
    # An attempt that ran out of time failed at its deadline, not when the server noticed.
    return [rules.AttemptRecord(r.started_at, r.status == AttemptStatus.PASSED, min(r.submitted_at, r.deadline_at))
            for r in rows]


def start_attempt(session: Session, *, agent_id: int, slug: str, now: datetime, renewal: bool = False,
                  catalogue: Catalogue | None = None, rng: random.Random | None = None) -> Attempt:
    """Start a quiz: the engine's rules, then questions drawn and shuffled on the server and stored."""
    catalogue = catalogue or current_catalogue()
    course = _course(catalogue, slug)
    agent = get_agent(session, agent_id)
    if agent.status == Status.SUSPENDED:
        raise NotAllowed(_l("Your account is suspended."))
    close_overdue_attempts(session, now=now, agent_id=agent_id)
    state = course_state(session, agent_id, course, now)
    if state.open_certification is not None:
        raise Conflict(_l("You passed this quiz; your certification is waiting for the mock-call review."),
                       code="review_pending")
    if renewal:
        if course.renewal is None or not state.renewal_open:
            raise Conflict(_l("This course has no renewal due."), code="no_renewal")
    elif state.ever_granted:
        if state.renewal_open:
            raise Conflict(_l("You passed this course before: take the shorter renewal quiz."), code="use_renewal")
        raise Conflict(_l("You have already passed this course."), code="already_passed")
    open_attempt = session.scalar(select(Attempt).where(Attempt.agent_id == agent_id,
                                                        Attempt.submitted_at.is_(None)))
    decision = rules.can_start_attempt(
        course, now, passed_slugs(session, agent_id, now), attempt_records(session, agent_id, course.slug),
        latest_scores(session, agent_id, "psych"), open_attempt is not None)
    if not decision.ok:
        exc = refusal(decision, catalogue, {d.code: d.name for d in catalogue.psych.dimensions})
        if open_attempt is not None and decision.reason_code == rules.ATTEMPT_ACTIVE:
            exc.detail["attempt_id"] = open_attempt.id
        raise exc
    version = sync_course(session, course, now=now)
    drawn = draw_questions(course, rng or random.SystemRandom(), renewal=renewal)
    quiz = course.rules(renewal)
    attempt = Attempt(agent_id=agent_id, course_version_id=version.id, course_slug=course.slug, is_renewal=renewal,
                      questions=[d.to_dict() for d in drawn], pass_mark=quiz.pass_mark, started_at=now,
                      deadline_at=rules.deadline(now, course, renewal), status=AttemptStatus.ACTIVE,
                      question_count=len(drawn))
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:  # a concurrent start won the one-open-attempt index
        raise Conflict(_l("You already have a quiz in progress. Finish it first."), code=rules.ATTEMPT_ACTIVE) \
            from None
    return attempt


def own_attempt(session: Session, agent_id: int, attempt_id: int) -> Attempt:
    """The member's own attempt; someone else's is as absent as a missing one (404)."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.agent_id != agent_id:
        raise NotFound(_l("There is no such quiz attempt."))
    return attempt


def validate_answers(attempt: Attempt, course: Course, answers: Mapping[str, Collection[str]]) -> dict[str, list[str]]:
    """Check answers against the drawn questions, with messages that name the question's number."""
    drawn = {d["question_id"]: (i + 1, d["option_order"]) for i, d in enumerate(attempt.questions)}
    clean: dict[str, list[str]] = {}
    for question_id, chosen in answers.items():
        if question_id not in drawn:
            raise Invalid(_l("An answer was sent for a question that is not part of this quiz."),
                          code="invalid_answer")
        number, options = drawn[question_id]
        chosen = [c for c in dict.fromkeys(chosen) if c != ""]
        if any(not isinstance(c, str) or c not in options for c in chosen):
            raise Invalid(_l("Question %(n)d: that answer is not one of its options.", n=number),
                          code="invalid_answer")
        if len(chosen) > 1 and course.question(question_id).kind != "multiple":
            raise Invalid(_l("Question %(n)d takes exactly one answer.", n=number), code="invalid_answer")
        clean[question_id] = chosen
    return clean


@dataclass(frozen=True)
class SubmitOutcome:
    attempt: Attempt
    late: bool = False
    void: bool = False
    certification: Certification | None = None


def _close(session: Session, attempt: Attempt, now: datetime, **values) -> None:
    """Close an open attempt exactly once: zero rows updated means it was already closed (409)."""
    result = session.execute(
        update(Attempt).where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(submitted_at=now, **values).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_l("This quiz was already submitted. Each attempt is graded once."), code="already_submitted")
    session.refresh(attempt)


def submit_attempt(session: Session, *, agent_id: int, attempt_id: int, answers: Mapping[str, Collection[str]],
                   now: datetime, catalogue: Catalogue | None = None) -> SubmitOutcome:
    """Grade the member's open attempt once. Late: recorded as expired. Invalid answers: 422, attempt stays open."""
    catalogue = catalogue or current_catalogue()
    attempt = own_attempt(session, agent_id, attempt_id)
    if attempt.submitted_at is not None:
        raise Conflict(_l("This quiz was already submitted. Each attempt is graded once."), code="already_submitted")
    course = catalogue.courses.get(attempt.course_slug)
    if course is None or course.content_hash != attempt.course_version.content_hash:
        _close(session, attempt, now, status=AttemptStatus.VOID)
        return SubmitOutcome(attempt, void=True)
    if rules.is_late(attempt.started_at, now, course, attempt.is_renewal):
        _close(session, attempt, now, status=AttemptStatus.EXPIRED, score_percent=0, correct_count=0)
        record_learning_day(session, agent_id=agent_id, now=now, activity="attempt")
        return SubmitOutcome(attempt, late=True)
    clean = validate_answers(attempt, course, answers)
    try:
        result = grade(course, attempt.questions, clean, attempt.pass_mark)
    except InvalidAnswer:
        raise Invalid(_l("Some answers are not options of their questions."), code="invalid_answer") from None
    except AcademyError:  # the stored draw no longer matches the course: never count it
        _close(session, attempt, now, status=AttemptStatus.VOID)
        return SubmitOutcome(attempt, void=True)
    _close(session, attempt, now, status=AttemptStatus.PASSED if result.passed else AttemptStatus.FAILED,
           score_percent=result.score_percent, correct_count=result.correct_count)
    session.add_all([
        AttemptAnswer(attempt_id=attempt.id, question_id=r.question_id, position=i, chosen=list(r.chosen),
                      is_correct=r.correct)
        for i, r in enumerate(result.results)
    ])
    session.flush()
    record_learning_day(session, agent_id=agent_id, now=now, activity="attempt")
    certification = record_pass(session, attempt_id=attempt.id, now=now, catalogue=catalogue) if result.passed \
        else None
    return SubmitOutcome(attempt, certification=certification)


# ---------------------------------------------------------------- certification


def record_pass(session: Session, *, attempt_id: int, now: datetime,
                catalogue: Catalogue | None = None) -> Certification:
    """What a passed attempt earns, once: replaying it returns the same certification and awards nothing more.

    Courses with a mock-call review wait for an upload and an admin; the others grant their tags at once.
    """
    catalogue = catalogue or current_catalogue()
    existing = session.scalar(select(Certification).where(Certification.attempt_id == attempt_id))
    if existing is not None:
        return existing
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.status != AttemptStatus.PASSED:
        raise Conflict(_l("Only a passed attempt earns a certification."))
    course = _course(catalogue, attempt.course_slug)
    needs_review = course.review == "mock_call" and not attempt.is_renewal
    cert = Certification(agent_id=attempt.agent_id, attempt_id=attempt.id, course_slug=course.slug,
                         is_renewal=attempt.is_renewal, passed_at=attempt.submitted_at or now,
                         status=CertificationStatus.AWAITING_UPLOAD if needs_review else CertificationStatus.GRANTED,
                         granted_at=None if needs_review else now)
    try:
        with session.begin_nested():
            session.add(cert)
            session.flush()
    except IntegrityError:  # a concurrent replay stored it
        return session.scalar(select(Certification).where(Certification.attempt_id == attempt_id))
    if not needs_review:
        _grant(session, cert, course, now=now, catalogue=catalogue)
    return cert


def _grant(session: Session, cert: Certification, course: Course, *, now: datetime, catalogue: Catalogue) -> None:
    """Tags (never shortening a longer grant the member already holds), XP once, tier, badges."""
    cert.status = CertificationStatus.GRANTED
    cert.granted_at = now
    cert.expires_at = rules.expires_at(now, course)
    session.flush()
    for code in course.grants_tags:
        held = live_tag(session, cert.agent_id, get_tag(session, code).id)
        if held is not None and (held.expires_at is None or
                                 (cert.expires_at is not None and held.expires_at >= cert.expires_at)):
            continue
        grant_tag_from_academy(session, agent_id=cert.agent_id, tag_code=code, expires_at=cert.expires_at, now=now,
                               reason=f"academy: {course.slug} v{course.version}")
    if cert.is_renewal:
        award_xp(session, agent_id=cert.agent_id, source_key=f"renewal:{cert.id}", kind="renewal",
                 points=xp_for_pass(course, first_pass=False, renewal=True), now=now)
    else:
        award_xp(session, agent_id=cert.agent_id, source_key=f"course:{cert.agent_id}:{course.slug}",
                 kind="course_pass", points=xp_for_pass(course, first_pass=True, renewal=False), now=now)
    certify_if_ready(session, cert.agent_id, now, catalogue=catalogue)
    award_badges(session, cert.agent_id, now, catalogue=catalogue)


def certify_if_ready(session: Session, agent_id: int, now: datetime, *, catalogue: Catalogue | None = None) -> bool:
    """A verified (active) trainee who has passed every required course becomes certified; True if so.

    Called after each grant and after an admin verifies an agent (who may have passed the courses while pending).
    """
    catalogue = catalogue or current_catalogue()
    agent = session.get(User, agent_id)
    if agent is None or agent.role != Role.AGENT or agent.status != Status.ACTIVE or agent.tier != Tier.TRAINEE:
        return False
    required = catalogue.required_slugs
    if not required or not set(required) <= passed_slugs(session, agent_id, now):
        return False
    set_tier(session, actor_id=None, agent_id=agent_id, tier=Tier.CERTIFIED, now=now,
             reason=f"academy: required courses passed ({', '.join(required)})")
    from app.notifications.services import notify

    notify(session, user_ids=[agent_id], kind="academy.certified", payload={}, now=now)
    return True


AUDIO_EXTENSIONS = ("mp3", "m4a", "wav", "ogg", "webm", "amr")
AUDIO_MIME = {"mp3": "audio/mpeg", "m4a": "audio/mp4", "wav": "audio/wav", "ogg": "audio/ogg",
              "webm": "audio/webm", "amr": "audio/amr"}


def sniff_audio(head: bytes) -> str | None:
    """The audio container the first bytes belong to (mp3, m4a, wav, ogg, webm, amr), or None."""
    if head.startswith(b"ID3") or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "mp3"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "m4a"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"OggS"):
        return "ogg"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if head.startswith(b"#!AMR"):
        return "amr"
    return None


class UnsupportedUpload(DomainError):
    status = 415
    code = "unsupported_upload"


class UploadTooLarge(DomainError):
    status = 413
    code = "upload_too_large"


def own_certification(session: Session, agent_id: int, certification_id: int) -> Certification:
    cert = session.get(Certification, certification_id)
    if cert is None or cert.agent_id != agent_id:
        raise NotFound(_l("There is no such certification."))
    return cert


def upload_recording(session: Session, *, agent_id: int, certification_id: int, filename: str, stream: BinaryIO,
                     upload_dir: Path, max_bytes: int, now: datetime) -> Certification:
    """Store the member's mock-call recording (audio only, checked by extension and content) for review."""
    cert = own_certification(session, agent_id, certification_id)
    if cert.status not in (CertificationStatus.AWAITING_UPLOAD, CertificationStatus.REJECTED):
        raise Conflict(_l("This certification is not waiting for a recording."))
    ext = (filename or "").rsplit(".", 1)[-1].lower() if "." in (filename or "") else ""
    allowed = ", ".join(AUDIO_EXTENSIONS)
    if ext not in AUDIO_EXTENSIONS:
        raise UnsupportedUpload(_l("Upload an audio file (%(types)s).", types=allowed), field="recording")
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadTooLarge(_l("The recording is larger than %(mb)d MB.", mb=max(1, max_bytes // (1024 * 1024))),
                             field="recording")
    if not data:
        raise Invalid(_l("The file is empty."), field="recording")
    if sniff_audio(data[:16]) != ext:
        raise UnsupportedUpload(_l("This file is not a %(type)s audio recording. Upload an audio file (%(types)s).",
                                   type=ext, types=allowed), field="recording")
    folder = Path(upload_dir) / "academy"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    (folder / name).write_bytes(data)
    result = session.execute(
        update(Certification).where(Certification.id == cert.id, Certification.status.in_(
            [CertificationStatus.AWAITING_UPLOAD, CertificationStatus.REJECTED]))
        .values(recording_name=name, recording_type=ext, recording_bytes=len(data), uploaded_at=now,
                status=CertificationStatus.PENDING_REVIEW).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        (folder / name).unlink(missing_ok=True)
        raise Conflict(_l("This certification is not waiting for a recording."))
    session.refresh(cert)
    return cert


def recording_path(cert: Certification, upload_dir: Path) -> Path | None:
    if not cert.recording_name:
        return None
    return Path(upload_dir) / "academy" / cert.recording_name


def _pending_review(session: Session, certification_id: int) -> Certification:
    cert = session.get(Certification, certification_id)
    if cert is None:
        raise NotFound(_l("There is no such certification."))
    return cert


def approve_certification(session: Session, *, admin: User, certification_id: int, now: datetime,
                          catalogue: Catalogue | None = None) -> Certification:
    """An admin accepts the mock call: the course's tags are granted now (validity runs from today)."""
    catalogue = catalogue or current_catalogue()
    cert = _pending_review(session, certification_id)
    course = _course(catalogue, cert.course_slug)
    result = session.execute(
        update(Certification).where(Certification.id == cert.id,
                                    Certification.status == CertificationStatus.PENDING_REVIEW)
        .values(reviewed_at=now, reviewed_by_id=admin.id, reject_reason=None).execution_options(
            synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_l("This certification is not waiting for review."))
    session.refresh(cert)
    _grant(session, cert, course, now=now, catalogue=catalogue)
    audit(session, actor_id=admin.id, action="academy.approve", target_type="user", target_id=cert.agent_id,
          now=now, course=course.slug, certification=cert.id)
    from app.notifications.services import notify

    notify(session, user_ids=[cert.agent_id], kind="academy.review_approved",
           payload={"course_zh": course.title.zh, "course_en": course.title.en}, now=now)
    return cert


def reject_certification(session: Session, *, admin: User, certification_id: int, reason: str, now: datetime,
                         catalogue: Catalogue | None = None) -> Certification:
    """An admin turns the mock call down with a reason the member sees; they may upload a new one."""
    catalogue = catalogue or current_catalogue()
    cert = _pending_review(session, certification_id)
    reason = clean_text(reason, field="reason", max_len=500)
    result = session.execute(
        update(Certification).where(Certification.id == cert.id,
                                    Certification.status == CertificationStatus.PENDING_REVIEW)
        .values(status=CertificationStatus.REJECTED, reviewed_at=now, reviewed_by_id=admin.id, reject_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_l("This certification is not waiting for review."))
    session.refresh(cert)
    audit(session, actor_id=admin.id, action="academy.reject", target_type="user", target_id=cert.agent_id,
          now=now, course=cert.course_slug, certification=cert.id, reason=reason)
    course = catalogue.courses.get(cert.course_slug)
    from app.notifications.services import notify

    notify(session, user_ids=[cert.agent_id], kind="academy.review_rejected",
           payload={"course_zh": course.title.zh if course else cert.course_slug,
                    "course_en": course.title.en if course else cert.course_slug, "reason": reason}, now=now)
    return cert


def send_expiry_reminders(session: Session, *, now: datetime, catalogue: Catalogue | None = None) -> int:
    """Remind members REMINDER_DAYS before a pass expires (once per certification, unless already renewed)."""
    catalogue = catalogue or current_catalogue()
    newer = aliased(Certification)
    renewed = exists().where(newer.agent_id == Certification.agent_id,
                             newer.course_slug == Certification.course_slug,
                             newer.status == CertificationStatus.GRANTED, newer.id != Certification.id,
                             newer.granted_at > Certification.granted_at)
    due = select(Certification.id).where(
        Certification.status == CertificationStatus.GRANTED, Certification.reminded_at.is_(None),
        Certification.expires_at > now, Certification.expires_at <= now + timedelta(days=REMINDER_DAYS), ~renewed)
    rows = session.execute(
        update(Certification).where(Certification.id.in_(due.scalar_subquery()))
        .values(reminded_at=now)
        .returning(Certification.agent_id, Certification.course_slug, Certification.expires_at)
        .execution_options(synchronize_session=False)).all()
    from app.core.timefmt import local
    from app.notifications.services import notify

    for agent_id, slug, expires in rows:
        course = catalogue.courses.get(slug)
        notify(session, user_ids=[agent_id], kind="academy.expiring", now=now, payload={
            "course": slug, "course_zh": course.title.zh if course else slug,
            "course_en": course.title.en if course else slug, "expires_on": local(expires).strftime("%Y-%m-%d")})
    return len(rows)


# ---------------------------------------------------------------- assessments


def submit_assessment(session: Session, *, agent_id: int, slug: str, responses: Mapping[str, object],
                      now: datetime, catalogue: Catalogue | None = None) -> AssessmentResult:
    """Score a Likert questionnaire (every statement 1..5) and keep the result; the latest one counts."""
    catalogue = catalogue or current_catalogue()
    assessment = catalogue.assessments.get(slug) if isinstance(slug, str) else None
    if assessment is None:
        raise NotFound(_l("There is no such assessment."))
    get_agent(session, agent_id)
    try:
        scores = score_likert(assessment, dict(responses))  # type: ignore[arg-type]
    except InvalidAnswer:
        raise Invalid(_l("Answer every statement with a value from 1 to 5."), code="invalid_answer") from None
    recommended = recommend_tracks(catalogue.career, scores) if slug == "career" else []
    result = AssessmentResult(agent_id=agent_id, assessment_slug=slug, scores=scores, responses=dict(responses),
                              recommended=recommended, taken_at=now)
    session.add(result)
    session.flush()
    return result


# ---------------------------------------------------------------- XP, badges, learning days


def award_xp(session: Session, *, agent_id: int, source_key: str, kind: str, points: int, now: datetime) -> bool:
    """Append an XP event unless one with this source key exists; True if written."""
    if points <= 0:
        return False
    return _insert_ignore(session, XpEvent, {"agent_id": agent_id, "source_key": source_key, "kind": kind,
                                             "points": points, "created_at": now}, ["source_key"])


def record_learning_day(session: Session, *, agent_id: int, now: datetime, activity: str) -> bool:
    """Mark today (Asia/Shanghai) as a learning day for the streak; idempotent."""
    return _insert_ignore(session, LearningDay, {"agent_id": agent_id, "day": local_day(now),
                                                 "first_activity": activity, "created_at": now},
                          ["agent_id", "day"])


def member_stats(session: Session, agent_id: int, *, catalogue: Catalogue) -> MemberStats:
    ever = set(session.scalars(select(Certification.course_slug).where(
        Certification.agent_id == agent_id, Certification.status == CertificationStatus.GRANTED).distinct()))
    days = session.scalars(select(LearningDay.day).where(LearningDay.agent_id == agent_id))
    required = set(catalogue.required_slugs)
    return MemberStats(courses_passed=len(ever), required_passed_all=bool(required) and required <= ever,
                       longest_streak=longest_streak(days))


def award_badges(session: Session, agent_id: int, now: datetime, *, catalogue: Catalogue | None = None) -> set[str]:
    """Award every badge the member's stats now earn; returns the codes newly awarded (unique per member+code)."""
    catalogue = catalogue or current_catalogue()
    new = set()
    for code in sorted(badges_earned(member_stats(session, agent_id, catalogue=catalogue))):
        if _insert_ignore(session, BadgeAward, {"agent_id": agent_id, "code": code, "awarded_at": now},
                          ["agent_id", "code"]):
            new.add(code)
    return new


def open_lesson(session: Session, *, agent_id: int, now: datetime, catalogue: Catalogue | None = None) -> None:
    """A lesson was opened: today counts for the streak (and a 7-day streak earns its badge)."""
    if record_learning_day(session, agent_id=agent_id, now=now, activity="lesson"):
        award_badges(session, agent_id, now, catalogue=catalogue)


# ---------------------------------------------------------------- Q&A and expert articles


def ask_question(session: Session, *, author: User, title: str, body: str, course_slug: str | None,
                 now: datetime, catalogue: Catalogue | None = None) -> KnowledgeQuestion:
    catalogue = catalogue or current_catalogue()
    if author.role not in (Role.AGENT, Role.ADMIN):
        raise NotAllowed(_l("Only agents and admins take part in the Academy."))
    if course_slug and course_slug not in catalogue.courses:
        raise Invalid(_l("Choose a course from the list."), field="course")
    question = KnowledgeQuestion(author_id=author.id, created_at=now, course_slug=course_slug or None,
                                 title=clean_text(title, field="title", max_len=QUESTION_TITLE_MAX, single_line=True),
                                 body=clean_text(body, field="body", max_len=TEXT_MAX))
    session.add(question)
    session.flush()
    return question


def answer_question(session: Session, *, author: User, question_id: int, body: str,
                    now: datetime) -> KnowledgeAnswer:
    if author.role not in (Role.AGENT, Role.ADMIN):
        raise NotAllowed(_l("Only agents and admins take part in the Academy."))
    if session.get(KnowledgeQuestion, question_id) is None:
        raise NotFound(_l("There is no such question."))
    answer = KnowledgeAnswer(question_id=question_id, author_id=author.id, created_at=now,
                             body=clean_text(body, field="body", max_len=TEXT_MAX))
    session.add(answer)
    session.flush()
    return answer


def accept_answer(session: Session, *, actor: User, answer_id: int, now: datetime,
                  catalogue: Catalogue | None = None) -> KnowledgeAnswer:
    """An admin or an expert marks the best answer (one per question); its author earns XP once."""
    if not is_expert(actor):
        raise NotAllowed(_l("Only admins and senior members can mark the best answer."))
    answer = session.get(KnowledgeAnswer, answer_id)
    if answer is None:
        raise NotFound(_l("There is no such answer."))
    if answer.author_id == actor.id:
        raise NotAllowed(_l("You cannot mark your own answer as the best one."))
    other = aliased(KnowledgeAnswer)
    try:
        with session.begin_nested():
            result = session.execute(
                update(KnowledgeAnswer).where(
                    KnowledgeAnswer.id == answer.id, KnowledgeAnswer.accepted_at.is_(None),
                    ~exists().where(and_(other.question_id == KnowledgeAnswer.question_id,
                                         other.accepted_at.is_not(None))))
                .values(accepted_at=now, accepted_by_id=actor.id).execution_options(synchronize_session=False))
    except IntegrityError:
        result = None
    if result is None or result.rowcount != 1:
        raise Conflict(_l("This question already has a best answer."))
    session.refresh(answer)
    author = session.get(User, answer.author_id)
    if author is not None and author.role == Role.AGENT:
        award_xp(session, agent_id=author.id, source_key=f"answer:{answer.id}", kind="accepted_answer",
                 points=ACCEPTED_ANSWER_XP, now=now)
    return answer


def publish_article(session: Session, *, author: User, kind: str, title: str, body_markdown: str,
                    course_slug: str | None, now: datetime, catalogue: Catalogue | None = None) -> ExpertArticle:
    """A talk or case write-up by an admin or an expert (Markdown, rendered sanitised when shown)."""
    catalogue = catalogue or current_catalogue()
    if not is_expert(author):
        raise NotAllowed(_l("Only admins and senior members write expert articles."))
    if kind not in {k.value for k in ArticleKind}:
        raise Invalid(_l("Choose a kind from the list."), field="kind")
    if course_slug and course_slug not in catalogue.courses:
        raise Invalid(_l("Choose a course from the list."), field="course")
    article = ExpertArticle(author_id=author.id, kind=kind, course_slug=course_slug or None, created_at=now,
                            title=clean_text(title, field="title", max_len=QUESTION_TITLE_MAX, single_line=True),
                            body_markdown=clean_text(body_markdown, field="body", max_len=ARTICLE_MAX))
    session.add(article)
    session.flush()
    return article


def correct_answers(course: Course, attempt: Attempt) -> dict[str, list[str]]:
    """The right answers to an attempt's drawn questions (the demo and tests use it; never sent to a browser)."""
    return {d["question_id"]: sorted(course.question(d["question_id"]).correct_option_ids)
            for d in attempt.questions}


def drawn_questions(attempt: Attempt) -> list[DrawnQuestion]:
    return [DrawnQuestion.from_dict(d) for d in attempt.questions]
