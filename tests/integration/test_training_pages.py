"""The Academy through its pages: quiz, results, hostile submissions, uploads, reviews, assessments, Q&A, admin."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Shift
from app.claims.models import Claim
from app.core import clock
from app.members.models import Status, Tier, User
from app.training import services
from app.training.models import (
    Attempt,
    AttemptStatus,
    Certification,
    CertificationStatus,
    KnowledgeAnswer,
    KnowledgeQuestion,
    XpEvent,
)
from tests.integration.academy_helpers import catalogue, pass_required, take, wrong_answers
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of

OPTION = re.compile(r'name="q-([a-z0-9_]+)" value="([a-z0-9_]+)"')


def trainee(factory, status=Status.ACTIVE):
    return factory.agent(tier=Tier.TRAINEE, status=status)


def start(web, slug="onboarding", **data):
    response = web.post(f"/academy/courses/{slug}/start", data)
    assert response.status_code == 302, text_of(response)[:600]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def shown_order(page) -> list[tuple[str, list[str]]]:
    order: dict[str, list[str]] = {}
    for qid, oid in OPTION.findall(page.get_data(as_text=True)):
        order.setdefault(qid, []).append(oid)
    return list(order.items())


def form_for(answers: dict[str, list[str]], **extra) -> dict:
    data = {f"q-{qid}": chosen for qid, chosen in answers.items()}
    data.update(extra)
    return data


def no_inline_script(response):
    body = response.get_data(as_text=True)
    assert "<script" not in body and "onclick" not in body and 'style="' not in body
    return response


# --- the member's pages --------------------------------------------------------------------------


def test_the_academy_is_in_the_agent_nav_and_lists_every_course_with_the_level_bar(make_browser, factory):
    web = logged_in(make_browser, trainee(factory))
    page = no_inline_script(assert_page(web.get("/academy/")))
    body = text_of(page)
    assert 'href="/academy/"' in page.get_data(as_text=True)
    for course in catalogue().courses.values():
        assert course.title.en in body
    assert "Level 1" in body and "<progress" in page.get_data(as_text=True)


def test_the_academy_speaks_chinese_to_a_chinese_browser(make_browser, factory):
    web = make_browser()
    web.login(trainee(factory).email)
    body = text_of(assert_page(web.get("/academy/courses/onboarding")))
    assert "平台入门与服务礼仪" in body and "Platform onboarding" not in body


def test_a_lesson_page_renders_and_counts_for_the_streak(make_browser, factory, session):
    agent = trainee(factory)
    web = logged_in(make_browser, agent)
    course = catalogue().course("onboarding")
    page = no_inline_script(assert_page(web.get(f"/academy/courses/onboarding/lessons/{course.lessons[0].name}")))
    assert course.lessons[0].title.en in text_of(page)
    assert_page(web.get("/academy/courses/onboarding/lessons/../etc"), 404)
    assert_page(web.get("/academy/courses/onboarding/lessons/nope"), 404)
    from app.training import queries

    assert queries.current_streak(session, agent.id, clock.now()) == 1


def test_the_quiz_page_shows_the_stored_shuffle_and_never_the_answers(make_browser, factory, session):
    agent = trainee(factory)
    web = logged_in(make_browser, agent)
    attempt_id = start(web)
    page = no_inline_script(assert_page(web.get(f"/academy/attempts/{attempt_id}")))
    stored = session.get(Attempt, attempt_id).questions
    assert shown_order(page) == [(d["question_id"], d["option_order"]) for d in stored]
    assert shown_order(web.get(f"/academy/attempts/{attempt_id}")) == shown_order(page)  # same on reload
    body = page.get_data(as_text=True)
    course = catalogue().course("onboarding")
    for drawn in stored:
        question = course.question(drawn["question_id"])
        assert question.prompt.en in text_of(page)
        assert question.explanation.en not in text_of(page)
    # Every option is the same bare input: nothing in the markup tells the right one apart.
    inputs = re.findall(r"<input[^>]*name=\"q-[^>]*>", body)
    assert inputs and all(re.fullmatch(r'<input type="(radio|checkbox)" name="q-[a-z0-9_]+" value="[a-z0-9_]+" >', i)
                          for i in inputs), inputs[:3]


def test_the_result_page_shows_what_was_wrong_the_right_answer_and_the_explanation(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    attempt = session.get(Attempt, attempt_id)
    course = catalogue().course("onboarding")
    response = web.post(f"/academy/attempts/{attempt_id}", form_for(wrong_answers(course, attempt)))
    assert redirected_to(response, f"/academy/attempts/{attempt_id}")
    page = no_inline_script(assert_page(web.get(f"/academy/attempts/{attempt_id}")))
    body = text_of(page)
    assert "0%" in body and "Not passed" in body and "right answer" in body and "your answer" in body
    for drawn in attempt.questions:
        assert course.question(drawn["question_id"]).explanation.en in body


def test_a_client_supplied_score_or_pass_flag_is_ignored(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    attempt = session.get(Attempt, attempt_id)
    course = catalogue().course("onboarding")
    web.post(f"/academy/attempts/{attempt_id}", form_for(wrong_answers(course, attempt), score_percent="100",
                                                         passed="1", status="passed"))
    session.expire_all()
    assert session.get(Attempt, attempt_id).status == AttemptStatus.FAILED
    assert session.scalar(select(func.count(Certification.id))) == 0


def test_a_second_submission_through_the_page_is_a_409(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    answers = services.correct_answers(catalogue().course("onboarding"), session.get(Attempt, attempt_id))
    assert web.post(f"/academy/attempts/{attempt_id}", form_for(answers)).status_code == 302
    again = assert_page(web.post(f"/academy/attempts/{attempt_id}", form_for(answers)), 409)
    assert "already submitted" in text_of(again)
    assert session.scalar(select(func.count(XpEvent.id))) == 1


def test_another_members_attempt_is_a_404_to_read_and_to_submit(make_browser, factory):
    owner = logged_in(make_browser, trainee(factory))
    attempt_id = start(owner)
    other = logged_in(make_browser, trainee(factory))
    assert_page(other.get(f"/academy/attempts/{attempt_id}"), 404)
    assert_page(other.post(f"/academy/attempts/{attempt_id}", {"q-q01": "a"}), 404)
    assert_page(other.get("/academy/attempts/999999"), 404)
    assert_page(owner.get(f"/academy/attempts/{attempt_id}"))


@pytest.mark.parametrize("case", ["unknown option", "two on single", "foreign question", "markup"])
def test_invalid_answers_get_a_422_with_a_message_and_the_attempt_stays_open(make_browser, factory, session, case):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    attempt = session.get(Attempt, attempt_id)
    course = catalogue().course("onboarding")
    answers = services.correct_answers(course, attempt)
    number, single = next((i, d) for i, d in enumerate(attempt.questions, 1)
                          if course.question(d["question_id"]).kind == "single")
    qid = single["question_id"]
    if case == "unknown option":
        answers[qid] = ["zz"]
    elif case == "two on single":
        answers[qid] = single["option_order"][:2]
    elif case == "foreign question":
        answers["q99"] = ["a"]
    else:
        answers[qid] = ['"><script>alert(1)</script>']
    page = assert_page(web.post(f"/academy/attempts/{attempt_id}", form_for(answers)), 422)
    body = text_of(page)
    if case in ("unknown option", "markup"):
        assert f"Question {number}: that answer is not one of its options." in body
    elif case == "two on single":
        assert f"Question {number} takes exactly one answer." in body
    else:
        assert "not part of this quiz" in body
    assert "<script>alert" not in page.get_data(as_text=True)
    session.expire_all()
    assert session.get(Attempt, attempt_id).is_open


def test_unknown_courses_and_lessons_are_404(make_browser, factory):
    web = logged_in(make_browser, trainee(factory))
    assert_page(web.get("/academy/courses/no-such-course"), 404)
    assert_page(web.post("/academy/courses/no-such-course/start"), 404)
    assert_page(web.get("/academy/assessments/horoscope"), 404)


def test_starting_before_the_prerequisites_is_a_403_naming_them(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    page = assert_page(web.post("/academy/courses/ecommerce-peak/start"), 403)
    assert "Pass these courses first: Platform onboarding and service etiquette, Information security" in text_of(page)
    assert session.scalar(select(func.count(Attempt.id))) == 0


def test_during_the_cooldown_the_start_button_answers_429_with_the_time(make_browser, factory, session):
    agent = trainee(factory)
    take(session, agent, "onboarding", right=False)
    web = logged_in(make_browser, agent)
    page = assert_page(web.post("/academy/courses/onboarding/start"), 429)
    assert "you can try again at 10:30 (in 30 min)" in text_of(page)


def test_starting_while_a_quiz_is_open_leads_back_to_it(make_browser, factory):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    response = web.post("/academy/courses/privacy-security/start")
    assert redirected_to(response, f"/academy/attempts/{attempt_id}")


def test_a_late_submission_through_the_page_is_recorded_as_expired_with_a_message(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    answers = services.correct_answers(catalogue().course("onboarding"), session.get(Attempt, attempt_id))
    clock.freeze(clock.now() + timedelta(minutes=16))
    response = web.post(f"/academy/attempts/{attempt_id}", form_for(answers))
    assert redirected_to(response, f"/academy/attempts/{attempt_id}")
    body = text_of(assert_page(web.get(f"/academy/attempts/{attempt_id}")))
    assert "submitted after the time limit and is recorded as failed" in body
    session.expire_all()
    assert session.get(Attempt, attempt_id).status == AttemptStatus.EXPIRED


def test_opening_an_overdue_quiz_closes_it_as_expired(make_browser, factory, session):
    web = logged_in(make_browser, trainee(factory))
    attempt_id = start(web)
    clock.freeze(clock.now() + timedelta(hours=1))
    assert redirected_to(web.get(f"/academy/attempts/{attempt_id}"), f"/academy/attempts/{attempt_id}")
    session.expire_all()
    assert session.get(Attempt, attempt_id).status == AttemptStatus.EXPIRED


def test_clients_cannot_enter_the_academy(make_browser, factory):
    web = logged_in(make_browser, factory.client())
    assert_page(web.get("/academy/"), 403)
    assert_page(web.post("/academy/courses/onboarding/start"), 403)


# --- certification through the pages ---------------------------------------------------------------


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "ACADEMY_UPLOAD_DIR", str(tmp_path))
    return tmp_path


def awaiting_review(session, agent):
    pass_required(session, agent)
    services.submit_assessment(session, agent_id=agent.id, slug="psych", now=clock.now(),
                               responses={i.id: (1 if i.reverse else 5) for i in catalogue().psych.items})
    return take(session, agent, "complaint-handling").certification


def upload(web, cert_id, content, name):
    return web.client.post(f"/academy/certifications/{cert_id}/recording",
                           data={"recording": (io.BytesIO(content), name), "csrf_token": _csrf(web)},
                           content_type="multipart/form-data")


def _csrf(web):
    from tests.conftest import csrf_token

    return csrf_token(web.client, web.app)


def test_uploads_are_checked_and_served_only_to_the_owner_and_admins(app, make_browser, factory, session, uploads,
                                                                     monkeypatch):
    agent = trainee(factory)
    cert = awaiting_review(session, agent)
    web = logged_in(make_browser, agent)
    assert "Upload for review" in text_of(assert_page(web.get("/academy/courses/complaint-handling")))
    assert_page(upload(web, cert.id, b"MZ\x90\x00", "call.exe"), 415)
    assert "not a mp3 audio recording" in text_of(assert_page(upload(web, cert.id, b"<?php ?>", "call.mp3"), 415))
    monkeypatch.setitem(app.config, "ACADEMY_UPLOAD_MAX_BYTES", 1000)
    assert "larger than" in text_of(assert_page(upload(web, cert.id, b"ID3" + b"\0" * 2000, "call.mp3"), 413))
    assert_page(upload(web, cert.id, b"", "call.mp3"), 422)
    assert not list(uploads.rglob("*.*"))
    stranger = logged_in(make_browser, trainee(factory))
    assert_page(upload(stranger, cert.id, b"ID3" + b"\0" * 10, "call.mp3"), 404)
    response = upload(web, cert.id, b"ID3" + b"\0" * 100, "我的 录音.MP3")
    assert redirected_to(response, "/academy/courses/complaint-handling")
    stored = list((uploads / "academy").iterdir())
    assert len(stored) == 1 and re.fullmatch(r"[0-9a-f]{32}\.mp3", stored[0].name)
    served = web.get(f"/academy/certifications/{cert.id}/recording")
    assert served.status_code == 200 and served.mimetype == "audio/mpeg" and served.data.startswith(b"ID3")
    assert "no-store" in served.headers["Cache-Control"]
    served.close()
    assert_page(stranger.get(f"/academy/certifications/{cert.id}/recording"), 404)
    admin = logged_in(make_browser, factory.admin())
    by_admin = admin.get(f"/academy/certifications/{cert.id}/recording")
    assert by_admin.status_code == 200
    by_admin.close()
    anonymous = english(make_browser())
    assert anonymous.get(f"/academy/certifications/{cert.id}/recording").status_code == 302


def test_the_admin_review_queue_shows_the_age_and_approving_grants_the_tag(make_browser, factory, session, uploads):
    agent = trainee(factory)
    cert = awaiting_review(session, agent)
    web = logged_in(make_browser, agent)
    upload(web, cert.id, b"OggS" + b"\0" * 100, "call.ogg")
    clock.freeze(clock.now() + timedelta(hours=5))
    admin = logged_in(make_browser, factory.admin())
    queue = text_of(assert_page(admin.get("/admin/academy/")))
    assert agent.name in queue and "waiting 5 h" in queue
    assert "Approve" in text_of(assert_page(admin.get(f"/admin/academy/reviews/{cert.id}")))
    assert redirected_to(admin.post(f"/admin/academy/reviews/{cert.id}/approve"), "/admin/academy/")
    session.expire_all()
    assert session.get(Certification, cert.id).status == CertificationStatus.GRANTED
    assert_page(admin.post(f"/admin/academy/reviews/{cert.id}/approve"), 409)
    assert_page(web.get("/admin/academy/"), 403)
    assert_page(web.post(f"/admin/academy/reviews/{cert.id}/approve"), 403)


def test_a_rejection_needs_a_reason_which_the_member_then_sees(make_browser, factory, session, uploads):
    agent = trainee(factory)
    cert = awaiting_review(session, agent)
    web = logged_in(make_browser, agent)
    upload(web, cert.id, b"#!AMR\n" + b"\0" * 100, "call.amr")
    admin = logged_in(make_browser, factory.admin())
    assert_page(admin.post(f"/admin/academy/reviews/{cert.id}/reject", {"reason": ""}), 400)
    reason = "<b>开场没有报工号</b>"
    assert redirected_to(admin.post(f"/admin/academy/reviews/{cert.id}/reject", {"reason": reason}),
                         "/admin/academy/")
    page = assert_page(web.get("/academy/courses/complaint-handling"))
    assert reason in text_of(page) and "<b>开场" not in page.get_data(as_text=True)
    assert "Upload for review" in text_of(page)


def test_course_statistics_show_attempts_pass_rate_and_the_hardest_questions(make_browser, factory, session):
    for right in (True, False, False):
        take(session, trainee(factory), "onboarding", right=right)
    admin = logged_in(make_browser, factory.admin())
    overview = text_of(assert_page(admin.get("/admin/academy/")))
    assert "33%" in overview
    page = text_of(assert_page(admin.get("/admin/academy/courses/onboarding")))
    assert "Hardest questions" in page and "33% right of 3 answers" in page
    assert_page(admin.get("/admin/academy/courses/nope"), 404)


# --- assessments, leaderboard, Q&A, articles -------------------------------------------------------


def test_the_psych_assessment_is_scored_kept_and_shown_to_the_member_and_admins(make_browser, factory, session):
    agent = trainee(factory)
    web = logged_in(make_browser, agent)
    psych = catalogue().psych
    page = assert_page(web.get("/academy/assessments/psych"))
    assert page.get_data(as_text=True).count('type="radio"') == 5 * len(psych.items)
    partial = {f"i-{psych.items[0].id}": "5"}
    assert_page(web.post("/academy/assessments/psych", partial), 422)
    bad = {f"i-{i.id}": "3" for i in psych.items} | {f"i-{psych.items[1].id}": "６"}
    assert_page(web.post("/academy/assessments/psych", bad), 422)
    for value in ("3", "5"):
        data = {f"i-{i.id}": value for i in psych.items} | {"scores": "100"}
        assert redirected_to(web.post("/academy/assessments/psych", data), "/academy/assessments/psych")
    body = text_of(assert_page(web.get("/academy/assessments/psych")))
    assert "Earlier results" in body and "Empathy" in body
    admin = logged_in(make_browser, factory.admin())
    member = text_of(assert_page(admin.get(f"/admin/members/{agent.id}")))
    assert "Assessment results" in member and "Work-style assessment" in member and "Empathy" in member


def test_the_career_assessment_recommends_courses(make_browser, factory):
    web = logged_in(make_browser, trainee(factory))
    career = catalogue().career
    data = {f"i-{i.id}": ("5" if (i.dimension == career.dimensions[0].code) != i.reverse else "1")
            for i in career.items}
    web.post("/academy/assessments/career", data)
    body = text_of(assert_page(web.get("/academy/assessments/career")))
    assert "Courses that suit you" in body
    first = career.dimensions[0].tracks[0]
    assert catalogue().course(first).title.en in body


def test_the_leaderboard_page_shows_my_rank_and_masks_other_names(make_browser, factory, session):
    me, other = trainee(factory), trainee(factory)
    services.award_xp(session, agent_id=other.id, source_key="a", kind="test", points=300, now=clock.now())
    services.award_xp(session, agent_id=me.id, source_key="b", kind="test", points=100, now=clock.now())
    session.commit()
    body = text_of(assert_page(logged_in(make_browser, me).get("/academy/leaderboard")))
    assert "<b>2</b> You" in body and other.name not in body and other.name[0] + "**" in body


def test_questions_and_answers_are_shown_escaped_and_an_expert_marks_the_best(make_browser, factory, session):
    asker, expert = trainee(factory), factory.agent(tier=Tier.SENIOR)
    web = logged_in(make_browser, asker)
    title = '<script>alert("x")</script> 价保怎么退？'
    response = web.post("/academy/questions/new",
                        {"title": title, "body": "客户说\n降价了", "course": "ecommerce-peak"})
    question = session.scalar(select(KnowledgeQuestion))
    assert redirected_to(response, f"/academy/questions/{question.id}")
    page = assert_page(web.get(f"/academy/questions/{question.id}"))
    assert title in text_of(page) and "<script>alert" not in page.get_data(as_text=True)
    assert_page(web.post("/academy/questions/new", {"title": "   ", "body": "x"}), 400)
    assert_page(web.post("/academy/questions/new", {"title": "ok", "body": "x", "course": "nope"}), 400)
    helper = logged_in(make_browser, trainee(factory))
    helper.post(f"/academy/questions/{question.id}/answers", {"body": "按价保规则退差价"})
    answer = session.scalar(select(KnowledgeAnswer))
    assert "Mark as best" not in text_of(web.get(f"/academy/questions/{question.id}"))
    assert_page(web.post(f"/academy/answers/{answer.id}/accept"), 403)
    pro = logged_in(make_browser, expert)
    assert redirected_to(pro.post(f"/academy/answers/{answer.id}/accept"), f"/academy/questions/{question.id}")
    assert_page(pro.post(f"/academy/answers/{answer.id}/accept"), 409)
    assert "Best answer" in text_of(assert_page(web.get(f"/academy/questions/{question.id}")))
    assert session.scalar(select(func.sum(XpEvent.points)).where(XpEvent.agent_id == answer.author_id)) == 20
    assert_page(web.get("/academy/questions/424242"), 404)
    assert_page(web.post("/academy/answers/424242/accept"), 404)


def test_experts_write_articles_members_read_them_sanitised(make_browser, factory):
    writer = logged_in(make_browser, factory.agent(tier=Tier.GOLD))
    response = writer.post("/academy/articles/new", {
        "kind": "case", "title": "一次价保纠纷", "course": "",
        "body": "## 经过\n\n- 先核实订单\n\n<script>alert(1)</script>[x](javascript:alert(1))"})
    assert response.status_code == 302
    reader = logged_in(make_browser, trainee(factory))
    assert "一次价保纠纷" in text_of(assert_page(reader.get("/academy/articles")))
    page = assert_page(reader.get(response.headers["Location"]))
    body = page.get_data(as_text=True)
    assert "<h2>经过</h2>" in body and "<script>alert" not in body and "javascript:" not in body
    assert_page(reader.get("/academy/articles/new"), 403)
    assert_page(reader.post("/academy/articles/new", {"kind": "talk", "title": "t", "body": "b"}), 403)


# --- the whole way: sign-up to a first shift through the Academy ------------------------------------


def test_a_new_agent_reaches_a_claimable_shift_through_the_academy_alone(make_browser, factory, session):
    campaign = factory.campaign(tags=("industry.ecommerce", "skill.inbound_support"), min_tier=Tier.CERTIFIED)
    web = english(make_browser())
    signup = {"name": "王新新", "email": "newbie@example.cn", "phone": "13800138000", "city": "长沙",
              "languages": ["lang.mandarin"], "password": "long enough pw", "confirm": "long enough pw"}
    assert web.post("/register/agent", signup).status_code == 302
    agent = session.scalar(select(User).where(User.email == "newbie@example.cn"))
    assert_page(web.get("/academy/"))
    for slug in ("onboarding", "privacy-security", "ecommerce-peak"):
        attempt_id = start(web, slug)
        answers = services.correct_answers(catalogue().course(slug), session.get(Attempt, attempt_id))
        assert redirected_to(web.post(f"/academy/attempts/{attempt_id}", form_for(answers)),
                             f"/academy/attempts/{attempt_id}")
        assert "Certification granted" in text_of(assert_page(web.get(f"/academy/attempts/{attempt_id}")))
    session.refresh(agent)
    assert (agent.status, agent.tier) == (Status.PENDING, Tier.TRAINEE)
    shift = factory.shifts(campaign)[0]
    assert web.post(f"/agent/shifts/{shift.id}/claim").status_code in (400, 403, 409, 422)
    admin = logged_in(make_browser, factory.admin())
    assert admin.post(f"/admin/members/{agent.id}/verify").status_code == 302
    session.refresh(agent)
    assert (agent.status, agent.tier) == (Status.ACTIVE, Tier.CERTIFIED)
    assert f"/agent/shifts/{shift.id}" in web.get("/agent/shifts").get_data(as_text=True)
    assert web.post(f"/agent/shifts/{shift.id}/claim").status_code == 302
    assert session.scalar(select(func.count(Claim.id)).where(Claim.agent_id == agent.id, Claim.shift_id == shift.id))
    assert session.get(Shift, shift.id)


def test_the_demo_agent_has_passed_the_required_courses_and_the_academy_has_content(make_browser, session):
    from app.demo import DEMO_PASSWORD, seed

    assert seed(session, agents=12, now=clock.now()) is True
    agent = session.scalar(select(User).where(User.email == "agent@demo.local"))
    assert {"onboarding", "privacy-security"} <= services.passed_slugs(session, agent.id, clock.now())
    from app.training import queries

    assert queries.xp_total(session, agent.id) > 0
    assert session.scalar(select(func.count(KnowledgeQuestion.id))) == 2
    web = english(make_browser())
    web.login("agent@demo.local", DEMO_PASSWORD)
    body = text_of(assert_page(web.get("/academy/")))
    assert "Passed" in body
    assert "Expert articles" in body and len(text_of(assert_page(web.get("/academy/articles")))) > 0
    newbie = session.scalar(select(User).where(User.email == "newbie@demo.local"))
    assert newbie.status == Status.PENDING
