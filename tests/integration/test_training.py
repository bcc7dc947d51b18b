"""The Academy's rules with a database: attempts, grading, certification, expiry, XP, badges, path, leaderboard."""

from __future__ import annotations

import random
import shutil
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from academy import load_catalogue
from academy.quiz import draw_questions
from app.claims.queries import count_claimable, held_tag_codes
from app.core import clock
from app.core.db import db
from app.core.errors import Conflict, DomainError, Invalid, NotAllowed, NotFound
from app.members.models import AgentTag, AuditLog, Status, Tier, User
from app.notifications.models import Notification
from app.training import queries, services
from app.training.models import (
    Attempt,
    AttemptAnswer,
    AttemptStatus,
    BadgeAward,
    Certification,
    CertificationStatus,
    CourseVersion,
    XpEvent,
)
from app.training.services import StartRefused
from tests.integration.academy_helpers import catalogue, pass_required, take, wrong_answers

ECOMMERCE = ("industry.ecommerce", "skill.inbound_support")


def count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def trainee(factory, status=Status.ACTIVE):
    return factory.agent(tier=Tier.TRAINEE, status=status)


# --- drawing and grading ---------------------------------------------------------------------


def test_questions_are_drawn_from_the_pool_and_graded_per_question(session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    ids = [d["question_id"] for d in attempt.questions]
    assert len(ids) == course.questions_per_attempt == attempt.question_count
    assert len(set(ids)) == len(ids) and set(ids) <= {q.id for q in course.questions}
    right = services.correct_answers(course, attempt)
    wrong = wrong_answers(course, attempt)
    answers = {qid: (right[qid] if i < 7 else wrong[qid]) for i, qid in enumerate(ids)}
    outcome = services.submit_attempt(session, agent_id=agent.id, attempt_id=attempt.id, answers=answers,
                                      now=clock.now())
    session.commit()
    assert (outcome.attempt.score_percent, outcome.attempt.correct_count) == (70, 7)
    assert outcome.attempt.status == AttemptStatus.FAILED  # pass mark 80
    stored = {a.question_id: a.is_correct for a in session.scalars(select(AttemptAnswer))}
    assert stored == {qid: i < 7 for i, qid in enumerate(ids)}
    assert outcome.certification is None and count(session, Certification) == 0


def test_the_shuffle_is_made_on_the_server_and_kept_with_the_attempt(session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now(),
                                     rng=random.Random(42))
    session.commit()
    expected = [d.to_dict() for d in draw_questions(course, random.Random(42))]
    session.expire_all()
    assert session.get(Attempt, attempt.id).questions == expected
    other = [d.to_dict() for d in draw_questions(course, random.Random(43))]
    assert other != expected


def test_an_unknown_course_is_not_found(session, factory):
    with pytest.raises(NotFound):
        services.start_attempt(session, agent_id=trainee(factory).id, slug="no-such-course", now=clock.now())


def test_a_course_cannot_be_started_before_its_prerequisites(session, factory):
    agent = trainee(factory)
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="ecommerce-peak", now=clock.now())
    assert exc.value.code == "prerequisites_missing" and exc.value.status == 403
    assert exc.value.detail["missing"] == ["onboarding", "privacy-security"]
    session.rollback()
    pass_required(session, agent)
    services.start_attempt(session, agent_id=agent.id, slug="ecommerce-peak", now=clock.now())


def test_complaint_handling_needs_the_minimum_empathy_score_from_the_latest_psych_result(session, factory):
    agent = trainee(factory)
    pass_required(session, agent)
    psych = catalogue().psych

    def answer_psych(value):
        responses = {i.id: (6 - value if i.reverse else value) for i in psych.items}
        services.submit_assessment(session, agent_id=agent.id, slug="psych", responses=responses, now=clock.now())
        session.commit()

    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="complaint-handling", now=clock.now())
    assert exc.value.code == "assessment_required"
    session.rollback()
    answer_psych(5)
    clock.freeze(clock.now() + timedelta(minutes=1))
    answer_psych(2)  # the latest result counts, not the best one
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="complaint-handling", now=clock.now())
    assert exc.value.code == "assessment_score_too_low" and exc.value.detail["score"] == 25
    session.rollback()
    clock.freeze(clock.now() + timedelta(minutes=1))
    answer_psych(4)
    services.start_attempt(session, agent_id=agent.id, slug="complaint-handling", now=clock.now())


def test_only_one_attempt_may_be_open_at_a_time(session, factory):
    agent = trainee(factory)
    first = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="privacy-security", now=clock.now())
    assert exc.value.code == "attempt_active" and exc.value.status == 409
    assert exc.value.detail["attempt_id"] == first.id
    session.rollback()


def test_the_database_allows_one_open_attempt_per_member_even_without_the_service(session, factory):
    from sqlalchemy.exc import IntegrityError

    agent = trainee(factory)
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    with pytest.raises(IntegrityError):
        session.add(Attempt(agent_id=agent.id, course_version_id=attempt.course_version_id, course_slug="onboarding",
                            is_renewal=False, questions=attempt.questions, pass_mark=80, started_at=clock.now(),
                            deadline_at=attempt.deadline_at, status="active", question_count=10))
        session.flush()
    session.rollback()


def test_a_failed_attempt_starts_a_cooldown_and_the_daily_cap_stops_the_fourth(session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    take(session, agent, "onboarding", right=False)
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    assert exc.value.code == "cooldown" and exc.value.status == 429
    session.rollback()
    for _ in range(course.max_attempts_per_day - 1):
        clock.freeze(clock.now() + timedelta(minutes=course.cooldown_minutes + 1))
        take(session, agent, "onboarding", right=False)
    clock.freeze(clock.now() + timedelta(minutes=course.cooldown_minutes + 1))
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    assert exc.value.code == "daily_limit" and exc.value.detail["limit"] == course.max_attempts_per_day
    session.rollback()
    clock.freeze(exc.value.detail["resets_at"] + timedelta(minutes=1))  # the next Shanghai day
    assert take(session, agent, "onboarding").attempt.status == AttemptStatus.PASSED
    assert count(session, Attempt, Attempt.agent_id == agent.id) == course.max_attempts_per_day + 1


def test_a_late_submission_is_recorded_as_expired_and_earns_nothing(session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    late = clock.now() + timedelta(minutes=course.time_limit_minutes, seconds=30)
    outcome = services.submit_attempt(session, agent_id=agent.id, attempt_id=attempt.id,
                                      answers=services.correct_answers(course, attempt), now=late)
    session.commit()
    assert outcome.late and outcome.attempt.status == AttemptStatus.EXPIRED and outcome.attempt.score_percent == 0
    assert count(session, Certification) == 0 and count(session, XpEvent) == 0
    # An expired attempt counts as a fail for the cooldown, from its deadline.
    with pytest.raises(StartRefused) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=late)
    assert exc.value.code == "cooldown"
    session.rollback()


def test_an_abandoned_attempt_is_closed_after_its_deadline_so_the_member_can_go_on(session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    clock.freeze(clock.now() + timedelta(minutes=course.time_limit_minutes + 1))
    services.start_attempt(session, agent_id=agent.id, slug="privacy-security", now=clock.now())
    session.commit()
    statuses = dict(session.execute(select(Attempt.course_slug, Attempt.status)).all())
    assert statuses == {"onboarding": AttemptStatus.EXPIRED, "privacy-security": AttemptStatus.ACTIVE}


def test_a_second_submission_is_a_conflict_and_changes_nothing(session, factory):
    agent = trainee(factory)
    outcome = take(session, agent, "onboarding")
    course = catalogue().course("onboarding")
    with pytest.raises(Conflict):
        services.submit_attempt(session, agent_id=agent.id, attempt_id=outcome.attempt.id,
                                answers=wrong_answers(course, outcome.attempt), now=clock.now())
    session.rollback()
    assert session.get(Attempt, outcome.attempt.id).score_percent == 100
    assert count(session, XpEvent) == 1


def test_two_simultaneous_submissions_are_graded_exactly_once(app, session, factory):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    answers = services.correct_answers(course, attempt)
    attempt_id, agent_id, now = attempt.id, agent.id, clock.now()
    db.session.rollback()
    barrier = threading.Barrier(4)
    outcomes, errors = [], []

    def submit():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                for _ in range(5):
                    try:
                        services.submit_attempt(db.session, agent_id=agent_id, attempt_id=attempt_id, answers=answers,
                                                now=now)
                        db.session.commit()
                        outcomes.append("graded")
                        return
                    except DomainError as exc:
                        db.session.rollback()
                        outcomes.append(exc.code)
                        return
                    except Exception as exc:
                        db.session.rollback()
                        from app.core.db import is_retryable

                        if not is_retryable(exc):
                            raise
                outcomes.append("gave_up")
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(outcomes) == ["already_submitted"] * 3 + ["graded"]
    session.expire_all()
    assert count(session, AttemptAnswer) == course.questions_per_attempt
    assert count(session, Certification) == 1 and count(session, XpEvent) == 1


def test_another_members_attempt_is_not_found(session, factory):
    owner, other = trainee(factory), trainee(factory)
    attempt = services.start_attempt(session, agent_id=owner.id, slug="onboarding", now=clock.now())
    session.commit()
    with pytest.raises(NotFound):
        services.submit_attempt(session, agent_id=other.id, attempt_id=attempt.id, answers={}, now=clock.now())
    session.rollback()
    assert session.get(Attempt, attempt.id).is_open


@pytest.mark.parametrize("bad", ["not-an-option", "two-on-single", "foreign-question"])
def test_answers_that_are_not_options_are_refused_and_the_attempt_stays_open(session, factory, bad):
    agent = trainee(factory)
    course = catalogue().course("onboarding")
    attempt = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    answers = services.correct_answers(course, attempt)
    single = next(d for d in attempt.questions if course.question(d["question_id"]).kind == "single")
    if bad == "not-an-option":
        answers[single["question_id"]] = ["zz"]
    elif bad == "two-on-single":
        answers[single["question_id"]] = single["option_order"][:2]
    else:
        drawn = {d["question_id"] for d in attempt.questions}
        answers[next(q.id for q in course.questions if q.id not in drawn)] = ["a"]
    with pytest.raises(Invalid) as exc:
        services.submit_attempt(session, agent_id=agent.id, attempt_id=attempt.id, answers=answers, now=clock.now())
    assert exc.value.status == 422
    session.rollback()
    assert session.get(Attempt, attempt.id).is_open and count(session, AgentTag, AgentTag.source == "academy") == 0


# --- certification ---------------------------------------------------------------------------


def test_passing_both_required_courses_certifies_a_verified_trainee_with_an_audited_reason(session, factory):
    agent = trainee(factory)
    take(session, agent, "onboarding")
    session.refresh(agent)
    assert agent.tier == Tier.TRAINEE
    take(session, agent, "privacy-security")
    session.refresh(agent)
    assert agent.tier == Tier.CERTIFIED
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "agent.tier", AuditLog.target_id == agent.id)
                           .order_by(AuditLog.id.desc()))
    assert entry.actor_id is None and "onboarding" in entry.detail["reason"]
    assert count(session, Notification, Notification.user_id == agent.id, Notification.kind == "academy.certified") == 1
    assert set(queries.badge_codes(session, agent.id)) == {"first_course", "all_required"}


def test_a_trainee_who_passed_before_verification_is_certified_by_the_verification(session, factory):
    from app.members.services import verify_agent

    agent = trainee(factory, status=Status.PENDING)
    pass_required(session, agent)
    session.refresh(agent)
    assert (agent.status, agent.tier) == (Status.PENDING, Tier.TRAINEE)
    verify_agent(session, admin=factory.admin(), agent_id=agent.id, now=clock.now())
    assert services.certify_if_ready(session, agent.id, clock.now()) is True
    session.commit()
    session.refresh(agent)
    assert agent.tier == Tier.CERTIFIED
    assert services.certify_if_ready(session, agent.id, clock.now()) is False  # once


def test_passing_a_course_grants_its_tags_with_the_validity_period(session, factory):
    agent = trainee(factory)
    pass_required(session, agent)
    outcome = take(session, agent, "ecommerce-peak")
    course = catalogue().course("ecommerce-peak")
    assert outcome.certification.status == CertificationStatus.GRANTED
    assert outcome.certification.expires_at == clock.now() + timedelta(days=course.validity_days)
    assert set(course.grants_tags) <= held_tag_codes(session, agent.id, clock.now())
    grants = session.scalars(select(AgentTag).where(AgentTag.agent_id == agent.id, AgentTag.source == "academy"))
    assert {g.expires_at for g in grants} == {outcome.certification.expires_at}


def test_a_passed_course_cannot_be_taken_again_until_its_renewal_window(session, factory):
    agent = trainee(factory)
    take(session, agent, "onboarding")
    with pytest.raises(Conflict) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    assert exc.value.code == "already_passed"
    session.rollback()


def test_replaying_a_passing_attempt_awards_nothing_more(session, factory):
    agent = trainee(factory)
    pass_required(session, agent)
    outcome = take(session, agent, "ecommerce-peak")
    before = (count(session, XpEvent), count(session, BadgeAward), count(session, AgentTag),
              count(session, Certification), queries.xp_total(session, agent.id))
    for _ in range(2):
        again = services.record_pass(session, attempt_id=outcome.attempt.id, now=clock.now())
        session.commit()
        assert again.id == outcome.certification.id
    services.award_badges(session, agent.id, clock.now())
    session.commit()
    after = (count(session, XpEvent), count(session, BadgeAward), count(session, AgentTag),
             count(session, Certification), queries.xp_total(session, agent.id))
    assert after == before
    assert before[-1] == sum(catalogue().course(s).xp for s in ("onboarding", "privacy-security", "ecommerce-peak"))


def test_the_mock_call_course_waits_for_review_and_an_approval_grants_the_tag(session, factory, tmp_path):
    agent = trainee(factory)
    pass_required(session, agent)
    services.submit_assessment(session, agent_id=agent.id, slug="psych", now=clock.now(),
                               responses={i.id: (1 if i.reverse else 5) for i in catalogue().psych.items})
    outcome = take(session, agent, "complaint-handling")
    cert = outcome.certification
    assert cert.status == CertificationStatus.AWAITING_UPLOAD
    assert "skill.complaint_handling" not in held_tag_codes(session, agent.id, clock.now())
    with pytest.raises(Conflict):  # no retake while the certification is open
        services.start_attempt(session, agent_id=agent.id, slug="complaint-handling", now=clock.now())
    session.rollback()
    import io

    services.upload_recording(session, agent_id=agent.id, certification_id=cert.id, filename="call.mp3",
                              stream=io.BytesIO(b"ID3" + b"\x00" * 500), upload_dir=tmp_path, max_bytes=10_000,
                              now=clock.now())
    session.commit()
    assert [c.id for c in queries.review_queue(session)] == [cert.id]
    admin = factory.admin()
    services.approve_certification(session, admin=admin, certification_id=cert.id, now=clock.now())
    session.commit()
    assert "skill.complaint_handling" in held_tag_codes(session, agent.id, clock.now())
    assert queries.review_queue(session) == []
    with pytest.raises(Conflict):
        services.approve_certification(session, admin=admin, certification_id=cert.id, now=clock.now())
    session.rollback()
    assert session.scalar(select(AuditLog.action).where(AuditLog.action == "academy.approve")) == "academy.approve"


def test_a_rejected_mock_call_shows_the_reason_and_may_be_uploaded_again(session, factory, tmp_path):
    import io

    agent = trainee(factory)
    pass_required(session, agent)
    services.submit_assessment(session, agent_id=agent.id, slug="psych", now=clock.now(),
                               responses={i.id: (1 if i.reverse else 5) for i in catalogue().psych.items})
    cert = take(session, agent, "complaint-handling").certification
    upload = dict(agent_id=agent.id, certification_id=cert.id, filename="call.wav", upload_dir=tmp_path,
                  max_bytes=10_000, now=clock.now())
    services.upload_recording(session, stream=io.BytesIO(b"RIFF\x00\x00\x00\x00WAVEfmt "), **upload)
    session.commit()
    with pytest.raises(Invalid):
        services.reject_certification(session, admin=factory.admin(), certification_id=cert.id, reason="  ",
                                      now=clock.now())
    session.rollback()
    services.reject_certification(session, admin=factory.admin(), certification_id=cert.id,
                                  reason="没有核实身份就说明了订单信息", now=clock.now())
    session.commit()
    session.refresh(cert)
    assert cert.status == CertificationStatus.REJECTED and cert.reject_reason == "没有核实身份就说明了订单信息"
    note = session.scalar(select(Notification).where(Notification.kind == "academy.review_rejected"))
    assert note.payload["reason"] == "没有核实身份就说明了订单信息"
    services.upload_recording(session, stream=io.BytesIO(b"OggS" + b"\x00" * 100),
                              **{**upload, "filename": "again.ogg"})
    session.commit()
    assert session.get(Certification, cert.id).status == CertificationStatus.PENDING_REVIEW


@pytest.mark.parametrize("filename, content, status", [
    ("call.exe", b"ID3" + b"\x00" * 50, 415),
    ("call.mp3", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, 415),
    ("call.wav", b"ID3" + b"\x00" * 50, 415),  # a real mp3 named .wav: the extension must match the content
    ("call", b"ID3" + b"\x00" * 50, 415),
    ("call.mp3", b"", 422),
    ("call.mp3", b"ID3" + b"\x00" * 2000, 413),
])
def test_recordings_must_be_audio_by_extension_and_content_and_within_the_size_limit(
        session, factory, tmp_path, filename, content, status):
    import io

    agent = trainee(factory)
    pass_required(session, agent)
    services.submit_assessment(session, agent_id=agent.id, slug="psych", now=clock.now(),
                               responses={i.id: (1 if i.reverse else 5) for i in catalogue().psych.items})
    cert = take(session, agent, "complaint-handling").certification
    with pytest.raises(DomainError) as exc:
        services.upload_recording(session, agent_id=agent.id, certification_id=cert.id, filename=filename,
                                  stream=io.BytesIO(content), upload_dir=tmp_path, max_bytes=1000, now=clock.now())
    assert exc.value.status == status
    session.rollback()
    assert session.get(Certification, cert.id).status == CertificationStatus.AWAITING_UPLOAD
    assert not list(tmp_path.rglob("*.*"))


@pytest.mark.parametrize("head, kind", [
    (b"ID3\x04", "mp3"), (b"\xff\xfb\x90\x00", "mp3"), (b"\x00\x00\x00\x20ftypM4A \x00", "m4a"),
    (b"RIFF\x24\x08\x00\x00WAVE", "wav"), (b"OggS\x00\x02", "ogg"), (b"\x1a\x45\xdf\xa3\x9f", "webm"),
    (b"#!AMR\n", "amr"), (b"%PDF-1.7", None), (b"<html>", None), (b"", None),
])
def test_audio_containers_are_recognised_by_their_magic_bytes(head, kind):
    assert services.sniff_audio(head) == kind


# --- expiry, reminders, renewal --------------------------------------------------------------


def test_a_reminder_goes_out_14_days_before_expiry_once_and_a_renewal_extends_the_tags(session, factory):
    from app.core.jobs import run_job_now

    agent = trainee(factory)
    pass_required(session, agent)
    first = take(session, agent, "ecommerce-peak").certification
    course = catalogue().course("ecommerce-peak")
    clock.freeze(first.expires_at - timedelta(days=15))
    run_job_now("training.expiry_reminders")
    assert count(session, Notification, Notification.kind == "academy.expiring") == 0
    clock.freeze(first.expires_at - timedelta(days=13))
    run_job_now("training.expiry_reminders")
    run_job_now("training.expiry_reminders")
    reminders = list(session.scalars(select(Notification).where(Notification.kind == "academy.expiring")))
    # privacy-security (valid one year too) and ecommerce-peak, each once
    assert sorted(n.payload["course"] for n in reminders) == ["ecommerce-peak", "privacy-security"]
    xp_before = queries.xp_total(session, agent.id)
    renewed = take(session, agent, "ecommerce-peak", renewal=True)
    assert renewed.attempt.question_count == course.renewal.questions and renewed.attempt.is_renewal
    assert renewed.certification.expires_at == clock.now() + timedelta(days=course.validity_days)
    grants = session.scalars(select(AgentTag).join(AgentTag.tag).where(
        AgentTag.agent_id == agent.id, AgentTag.revoked_at.is_(None), AgentTag.source == "academy"))
    assert {g.expires_at for g in grants} == {renewed.certification.expires_at}
    assert queries.xp_total(session, agent.id) - xp_before == (course.xp + 2) // 4  # 25 %, half up
    clock.freeze(first.expires_at + timedelta(days=1))
    assert "ecommerce-peak" in services.passed_slugs(session, agent.id, clock.now())


def test_the_renewal_quiz_is_only_offered_near_or_after_expiry(session, factory):
    agent = trainee(factory)
    pass_required(session, agent)
    with pytest.raises(Conflict) as exc:
        services.start_attempt(session, agent_id=agent.id, slug="privacy-security", now=clock.now(), renewal=True)
    assert exc.value.code == "no_renewal"
    session.rollback()
    with pytest.raises(Conflict):  # onboarding never expires, so it has no renewal
        services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now(), renewal=True)
    session.rollback()


def test_an_expired_tag_no_longer_makes_shifts_eligible(session, factory):
    campaign = factory.campaign(tags=ECOMMERCE, shifts=[(24 * 400, 2, 3), (24, 2, 3)])
    agent = trainee(factory)
    pass_required(session, agent)
    cert = take(session, agent, "ecommerce-peak").certification
    assert count_claimable(session, agent_id=agent.id, now=clock.now()) == 2
    clock.freeze(cert.expires_at + timedelta(hours=1))
    assert count_claimable(session, agent_id=agent.id, now=clock.now()) == 0
    assert "industry.ecommerce" not in held_tag_codes(session, agent.id, clock.now())
    assert "ecommerce-peak" not in services.passed_slugs(session, agent.id, clock.now())
    assert campaign.id


def test_an_academy_pass_never_shortens_a_permanent_admin_grant(session, factory):
    agent = factory.agent(tags=("industry.ecommerce",), tier=Tier.CERTIFIED)
    pass_required(session, agent)
    take(session, agent, "ecommerce-peak")
    live = {g.tag.code: g for g in session.scalars(select(AgentTag).where(AgentTag.agent_id == agent.id,
                                                                          AgentTag.revoked_at.is_(None)))}
    assert live["industry.ecommerce"].source == "admin" and live["industry.ecommerce"].expires_at is None
    assert live["skill.inbound_support"].source == "academy"


# --- sync and versions -------------------------------------------------------------------------


def test_sync_stores_each_course_version_once_and_a_changed_course_never_rewrites_old_attempts(
        session, factory, tmp_path):
    from academy import DEFAULT_ROOT
    from app.members.tags import TAG_CODES

    bundled = catalogue()
    assert services.sync_catalogue(session, bundled, now=clock.now()) == len(bundled.courses)
    assert services.sync_catalogue(session, bundled, now=clock.now()) == 0
    agent = trainee(factory)
    old = services.start_attempt(session, agent_id=agent.id, slug="onboarding", now=clock.now())
    session.commit()
    old_version = old.course_version_id
    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_ROOT, root)
    path = root / "courses" / "onboarding" / "questions.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("最合适的做法是？", "最合适的做法是什么？", 1),
                    encoding="utf-8")
    changed = load_catalogue(root, frozenset(TAG_CODES))
    assert changed.content_hash("onboarding") != bundled.content_hash("onboarding")
    assert services.sync_catalogue(session, changed, now=clock.now()) == 1
    session.commit()
    assert count(session, CourseVersion, CourseVersion.slug == "onboarding") == 2
    # The open attempt was drawn from the old version: submitted against the new one it is void, never regraded.
    outcome = services.submit_attempt(session, agent_id=agent.id, attempt_id=old.id, now=clock.now(),
                                      answers=services.correct_answers(bundled.course("onboarding"), old),
                                      catalogue=changed)
    session.commit()
    assert outcome.void and session.get(Attempt, old.id).course_version_id == old_version
    assert count(session, Certification) == 0


# --- XP, streak, leaderboard, path -----------------------------------------------------------


def test_the_leaderboard_shows_the_top_20_and_my_own_rank_outside_it(session, factory):
    now = clock.now()
    agents = [trainee(factory) for _ in range(23)]
    for points, agent in enumerate(agents, start=1):
        services.award_xp(session, agent_id=agent.id, source_key=f"test:{agent.id}", kind="test", points=points * 10,
                          now=now)
    last_week = now - timedelta(days=8)
    services.award_xp(session, agent_id=agents[0].id, source_key="old", kind="test", points=10_000, now=last_week)
    session.commit()
    me = agents[0]  # 10 XP this week: the lowest
    top, mine = queries.weekly_leaderboard(session, agent_id=me.id, now=now)
    assert len(top) == 20 and [r.rank for r in top] == list(range(1, 21))
    assert top[0].agent_id == agents[-1].id and top[0].xp == 230
    assert mine is not None and mine.rank == 23 and mine.xp == 10
    _, nobody = queries.weekly_leaderboard(session, agent_id=trainee(factory).id, now=now)
    assert nobody is None


def test_ties_share_a_rank_on_the_leaderboard(session, factory):
    a, b, c = trainee(factory), trainee(factory), trainee(factory)
    for agent, points in ((a, 50), (b, 50), (c, 20)):
        services.award_xp(session, agent_id=agent.id, source_key=f"t{agent.id}", kind="test", points=points,
                          now=clock.now())
    session.commit()
    top, mine = queries.weekly_leaderboard(session, agent_id=c.id, now=clock.now())
    assert [r.rank for r in top] == [1, 1, 3] and mine.rank == 3


def test_the_learning_path_counts_the_open_shifts_each_course_would_unlock(session, factory):
    factory.campaign(tags=ECOMMERCE, shifts=[(24, 2, 3), (27, 2, 3), (30, 2, 3), (24 * 9, 2, 3)])
    factory.campaign(tags=("industry.food_delivery", "skill.inbound_support"), shifts=[(26, 2, 3)])
    full = factory.campaign(tags=ECOMMERCE, shifts=[(48, 2, 1)])
    factory.campaign(tags=("industry.ecommerce",), shifts=[(50, 2, 2)], publish=False)  # a draft offers nothing
    session.execute(db.text("UPDATE shifts SET seats_taken = seats WHERE campaign_id = :c"), {"c": full.id})
    session.commit()
    agent = trainee(factory)
    steps = {s.slug: s for s in queries.path_for(session, agent.id, catalogue(), clock.now())}
    assert steps["ecommerce-peak"].unlocks_shifts == 3  # this week, free seats, published
    assert steps["ecommerce-peak"].courses_needed == ["onboarding", "privacy-security", "ecommerce-peak"]
    assert steps["food-delivery"].unlocks_shifts == 1
    pass_required(session, agent)
    path = queries.path_for(session, agent.id, catalogue(), clock.now())
    assert path[0].slug == "ecommerce-peak" and path[0].courses_needed == ["ecommerce-peak"]


def test_a_lesson_day_and_a_quiz_day_make_a_streak_and_seven_days_earn_the_badge(session, factory):
    agent = trainee(factory)
    for day in range(7):
        services.open_lesson(session, agent_id=agent.id, now=clock.now() + timedelta(days=day))
        services.open_lesson(session, agent_id=agent.id, now=clock.now() + timedelta(days=day, hours=1))
    session.commit()
    assert queries.current_streak(session, agent.id, clock.now() + timedelta(days=6)) == 7
    assert queries.current_streak(session, agent.id, clock.now() + timedelta(days=9)) == 0
    assert "streak_7" in queries.badge_codes(session, agent.id)


# --- Q&A and articles --------------------------------------------------------------------------


def test_an_accepted_answer_earns_its_author_xp_once(session, factory):
    asker, helper, expert = trainee(factory), trainee(factory), factory.agent(tier=Tier.SENIOR)
    question = services.ask_question(session, author=asker, title="双11 价保怎么算？", body="买完降价了客户要求退差价",
                                     course_slug="ecommerce-peak", now=clock.now())
    answer = services.answer_question(session, author=helper, question_id=question.id, body="按价保规则……",
                                      now=clock.now())
    other = services.answer_question(session, author=expert, question_id=question.id, body="我的看法", now=clock.now())
    session.commit()
    with pytest.raises(NotAllowed):  # a trainee cannot mark the best answer
        services.accept_answer(session, actor=asker, answer_id=answer.id, now=clock.now())
    with pytest.raises(NotAllowed):  # nor an expert their own
        services.accept_answer(session, actor=expert, answer_id=other.id, now=clock.now())
    services.accept_answer(session, actor=expert, answer_id=answer.id, now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        services.accept_answer(session, actor=expert, answer_id=answer.id, now=clock.now())
    session.rollback()
    with pytest.raises(Conflict):
        services.accept_answer(session, actor=factory.admin(), answer_id=other.id, now=clock.now())
    session.rollback()
    assert queries.xp_total(session, helper.id) == 20 and queries.xp_total(session, expert.id) == 0
    assert count(session, XpEvent) == 1


def test_only_admins_and_experts_publish_articles_and_their_markdown_is_sanitised(session, factory):
    from academy.catalogue import render_markdown

    with pytest.raises(NotAllowed):
        services.publish_article(session, author=trainee(factory), kind="talk", title="t", body_markdown="x",
                                 course_slug=None, now=clock.now())
    article = services.publish_article(
        session, author=factory.agent(tier=Tier.GOLD), kind="case", course_slug="ecommerce-peak", now=clock.now(),
        title="<script>alert(1)</script>一次价保纠纷",
        body_markdown="## 经过\n<script>alert(1)</script>\n[点我](javascript:alert(1)) <img src=x onerror=alert(1)>")
    session.commit()
    html = render_markdown(article.body_markdown)
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html and "<h2>" in html
    with pytest.raises(Invalid):
        services.publish_article(session, author=factory.admin(), kind="poem", title="t", body_markdown="x",
                                 course_slug=None, now=clock.now())


@pytest.mark.parametrize("title", ["", "   ", "\u202e\x00", "x" * 201])
def test_empty_or_oversized_questions_are_refused(session, factory, title):
    with pytest.raises(Invalid):
        services.ask_question(session, author=trainee(factory), title=title, body="body", course_slug=None,
                              now=clock.now())


# --- the CLI -----------------------------------------------------------------------------------


def test_the_academy_check_command_passes_on_the_bundled_catalogue(app):
    result = app.test_cli_runner().invoke(args=["academy", "check"])
    assert result.exit_code == 0, result.output
    assert "catalogue ok: 8 courses, 2 assessments" in result.output


def test_the_academy_check_command_lists_every_problem_and_fails_on_a_broken_catalogue(app, tmp_path):
    from academy import DEFAULT_ROOT

    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_ROOT, root)
    course = root / "courses" / "onboarding" / "course.yaml"
    course.write_text(course.read_text(encoding="utf-8").replace("pass_mark: 80", "pass_mark: 180"),
                      encoding="utf-8")
    (root / "courses" / "food-delivery" / "questions.yaml").write_text("- id: [broken\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["academy", "check", str(root)])
    assert result.exit_code == 1
    assert "pass_mark" in result.output and "food-delivery" in result.output and "problem(s) found" in result.output


def test_the_configured_catalogue_folder_is_checked_and_a_broken_one_keeps_the_academy_closed(
        app, tmp_path, monkeypatch):
    from academy import DEFAULT_ROOT
    from app import training

    root = tmp_path / "catalogue"
    shutil.copytree(DEFAULT_ROOT, root)
    (root / "assessments" / "psych.yaml").unlink()
    monkeypatch.setitem(app.config, "ACADEMY_CATALOGUE_DIR", str(root))
    result = app.test_cli_runner().invoke(args=["academy", "check"])
    assert result.exit_code == 1 and "psych.yaml" in result.output
    state = app.extensions["academy"]
    training.init_app(app)
    try:
        assert app.extensions["academy"].catalogue is None and app.extensions["academy"].problems
    finally:
        app.extensions["academy"] = state


def test_the_academy_sync_command_is_idempotent(app, session):
    runner = app.test_cli_runner()
    assert "8 new" in runner.invoke(args=["academy", "sync"]).output
    assert "0 new" in runner.invoke(args=["academy", "sync"]).output
    assert count(session, CourseVersion) == 8


def test_the_reminder_and_attempt_jobs_are_registered_as_periodic():
    from app.core.jobs import PERIODIC

    periods = {p.name: p.interval_seconds for p in PERIODIC}
    assert periods["training.expiry_reminders"] == 3600 and "training.close_overdue_attempts" in periods


def test_only_agents_take_quizzes(session, factory):
    with pytest.raises(NotFound):
        services.start_attempt(session, agent_id=factory.admin().id, slug="onboarding", now=clock.now())
    assert session.scalar(select(func.count(User.id))) == 1
