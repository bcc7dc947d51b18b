"""Surveys, client/agent ratings, quality inspection and the rating recompute, end to end through services."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.claims import services as claims
from app.contacts import services as contacts
from app.core import clock
from app.core.errors import Conflict, Invalid, NotFound
from app.members.models import AgentTag, AuditLog, Tag, User
from app.notifications.models import Notification
from app.quality import services as quality
from app.quality.models import Inspection, QaFlag, Survey
from app.ratings import services as ratings
from app.work import services as work

SECRET = b"test-secret"
TAGS = ("industry.ecommerce",)


def worked_shift(session, factory, agent=None, *, notes="您好，核实身份后已处理，感谢来电", duration=120, contacts_n=1,
                 campaign=None, at_hours=1, transcript=""):
    """An agent checks in to an inbound shift, logs contacts and checks out; returns (campaign, claim)."""
    campaign = campaign or factory.campaign(tags=TAGS, shifts=[(at_hours, 2, 5)])
    shift = factory.shifts(campaign)[-1]
    agent = agent or factory.agent(tags=TAGS)
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    start = clock.now()
    clock.freeze(shift.starts_at + timedelta(minutes=1))
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(), opens=timedelta(minutes=15),
                  grace=timedelta(minutes=10))
    for _ in range(contacts_n):
        contacts.log_inbound_contact(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(),
                                     data=contacts.InboundInput("phone", "order", "resolved", duration, notes,
                                                                transcript))
    clock.freeze(shift.ends_at)
    work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=clock.now())
    session.commit()
    clock.freeze(start)
    return campaign, claim


def answer_all(session, *, score: int) -> None:
    """Create the surveys of every handled contact and answer each with `score`."""
    quality.create_surveys(session, now=clock.now())
    session.commit()
    for survey in session.scalars(select(Survey)).all():
        quality.answer_survey(session, secret=SECRET, token=quality.survey_token(SECRET, survey.id), score=score,
                              comment="", now=clock.now())
    session.commit()


def test_each_handled_contact_gets_one_survey_and_the_job_is_idempotent(session, factory):
    worked_shift(session, factory, contacts_n=3)
    assert quality.create_surveys(session, now=clock.now()) == 3
    assert quality.create_surveys(session, now=clock.now()) == 0
    session.commit()
    assert session.scalar(select(func.count(Survey.id))) == 3


def test_a_survey_is_answered_once_and_forged_expired_or_bad_ratings_are_refused(session, factory):
    worked_shift(session, factory)
    quality.create_surveys(session, now=clock.now())
    session.commit()
    survey = session.scalar(select(Survey))
    token = quality.survey_token(SECRET, survey.id)
    for bad in (0, 6, 4.5, "five", None, True):
        with pytest.raises(Invalid):
            quality.answer_survey(session, secret=SECRET, token=token, score=bad, comment="", now=clock.now())
    with pytest.raises(NotFound):
        quality.answer_survey(session, secret=SECRET, token=f"{survey.id}-forged", score=5, comment="",
                              now=clock.now())
    with pytest.raises(NotFound):
        quality.answer_survey(session, secret=b"other", token=quality.survey_token(b"other", survey.id + 1),
                              score=5, comment="", now=clock.now())
    quality.answer_survey(session, secret=SECRET, token=token, score=5, comment="很满意", now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        quality.answer_survey(session, secret=SECRET, token=token, score=1, comment="", now=clock.now())
    session.rollback()
    assert session.get(Survey, survey.id).score == 5

    worked_shift(session, factory)
    quality.create_surveys(session, now=clock.now())
    session.commit()
    late = session.scalar(select(Survey).where(Survey.answered_at.is_(None)))
    with pytest.raises(Conflict) as exc:
        quality.answer_survey(session, secret=SECRET, token=quality.survey_token(SECRET, late.id), score=4,
                              comment="", now=clock.now() + timedelta(days=8))
    assert exc.value.code == "expired"


def test_the_public_survey_page_answers_in_4xx_for_reuse_and_forgery(client, session, factory, browser):
    worked_shift(session, factory)
    quality.create_surveys(session, now=clock.now())
    session.commit()
    survey = session.scalar(select(Survey))
    secret = client.application.config["SECRET_KEY"].encode()
    url = f"/s/{quality.survey_token(secret, survey.id)}"
    assert browser.get(url).status_code == 200
    assert browser.post(url, {"score": "9"}).status_code == 400
    assert browser.post(url, {"score": "4", "comment": "<script>x</script>"}).status_code == 200
    assert browser.post(url, {"score": "1"}).status_code == 409
    assert browser.get(f"/s/{survey.id}-AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert browser.get("/s/not-a-token").status_code == 404
    assert session.get(Survey, survey.id).comment == "<script>x</script>"


def test_clients_rate_worked_shifts_once_and_only_their_own(session, factory):
    campaign, claim = worked_shift(session, factory)
    owner = session.get(User, campaign.created_by_id)
    stranger = factory.client()
    with pytest.raises(NotFound):
        quality.rate_shift(session, client=stranger, claim_id=claim.id, score=5, comment="", now=clock.now())
    quality.rate_shift(session, client=owner, claim_id=claim.id, score=4, comment="好", now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        quality.rate_shift(session, client=owner, claim_id=claim.id, score=4, comment="", now=clock.now())


def test_agents_rate_campaigns_they_worked_once(session, factory):
    campaign, claim = worked_shift(session, factory)
    agent = session.get(User, claim.agent_id)
    outsider = factory.agent(tags=TAGS)
    with pytest.raises(NotFound):
        quality.rate_campaign(session, agent=outsider, campaign_id=campaign.id, script_quality=5, list_quality=5,
                              comment="", now=clock.now())
    with pytest.raises(Invalid):
        quality.rate_campaign(session, agent=agent, campaign_id=campaign.id, script_quality=7, list_quality=5,
                              comment="", now=clock.now())
    quality.rate_campaign(session, agent=agent, campaign_id=campaign.id, script_quality=4, list_quality=3,
                          comment="", now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        quality.rate_campaign(session, agent=agent, campaign_id=campaign.id, script_quality=4, list_quality=3,
                              comment="", now=clock.now())


def test_inspection_flags_missing_and_forbidden_phrases_and_long_contacts_once(session, factory):
    campaign = factory.campaign(tags=TAGS, shifts=[(1, 2, 5)])
    quality.set_qa_rules(session, campaign=campaign, now=clock.now(), known_courses={"complaint-handling"},
                         data=quality.RulesInput("您好\n感谢来电", "保证退款", 5, "complaint-handling"))
    session.commit()
    worked_shift(session, factory, campaign=campaign, notes="您好，我保证退款", duration=900)
    assert quality.inspect_contacts(session, now=clock.now()) == 1
    assert quality.inspect_contacts(session, now=clock.now()) == 0
    session.commit()
    flags = {(f.rule, f.detail) for f in session.scalars(select(QaFlag))}
    assert flags == {("missing_phrase", "感谢来电"), ("forbidden_word", "保证退款"), ("too_long", "300")}
    assert session.scalar(select(Inspection.flags)) == 3


def test_a_confirmed_flag_lowers_qa_and_tells_the_agent_with_the_course(session, factory):
    campaign = factory.campaign(tags=TAGS, shifts=[(1, 2, 5)])
    quality.set_qa_rules(session, campaign=campaign, now=clock.now(), known_courses={"complaint-handling"},
                         data=quality.RulesInput("", "保证退款", None, "complaint-handling"))
    session.commit()
    _, claim = worked_shift(session, factory, campaign=campaign, notes="我保证退款")
    quality.inspect_contacts(session, now=clock.now())
    session.commit()
    flag = session.scalar(select(QaFlag))
    ratings.recompute_ratings(session, now=clock.now())
    session.commit()
    before = ratings.rating_of(session, claim.agent_id).qa
    owner = session.get(User, campaign.created_by_id)
    with pytest.raises(NotFound):
        quality.decide_flag(session, user=factory.client(), flag_id=flag.id, confirm=True, now=clock.now())
    quality.decide_flag(session, user=owner, flag_id=flag.id, confirm=True, now=clock.now())
    session.commit()
    with pytest.raises(Conflict):
        quality.decide_flag(session, user=owner, flag_id=flag.id, confirm=False, now=clock.now())
    session.rollback()
    ratings.recompute_ratings(session, now=clock.now())
    session.commit()
    assert ratings.rating_of(session, claim.agent_id).qa < before
    note = session.scalar(select(Notification).where(Notification.kind == "qa.flag_confirmed"))
    assert note.user_id == claim.agent_id and note.payload["course"] == "complaint-handling"


def test_ratings_are_recomputed_not_incremented_so_a_replay_changes_nothing(session, factory):
    worked_shift(session, factory, contacts_n=2)
    answer_all(session, score=5)
    first = ratings.recompute_ratings(session, now=clock.now())
    session.commit()
    agent_id = session.scalar(select(Survey.agent_id))
    rating = ratings.rating_of(session, agent_id)
    values = (rating.satisfaction, rating.qa, rating.reliability, rating.composite, rating.surveys)
    second = ratings.recompute_ratings(session, now=clock.now())
    session.commit()
    session.expire_all()
    rating = ratings.rating_of(session, agent_id)
    assert (rating.satisfaction, rating.qa, rating.reliability, rating.composite, rating.surveys) == values
    assert first["agents"] == second["agents"] == 1
    assert second["changes"] == 0  # nothing new: no change recorded
    assert values[4] == 2 and values[0] > 80  # two 5-star surveys lift satisfaction above the prior


def test_no_shows_lower_reliability_and_strong_work_moves_tiers_by_the_rules(session, factory):
    from app.claims.models import Claim

    strong = factory.agent(tags=TAGS)
    for i in range(12):
        worked_shift(session, factory, agent=strong, contacts_n=3, at_hours=1 + 3 * i)
    answer_all(session, score=5)
    result = ratings.recompute_ratings(session, now=clock.now() + timedelta(days=3))
    session.commit()
    session.expire_all()
    assert session.get(User, strong.id).tier == 2  # certified → senior
    assert result["tier_moves"] == 1
    assert session.scalar(select(AuditLog).where(AuditLog.action == "agent.tier", AuditLog.actor_id.is_(None)))
    assert session.scalar(select(Notification).where(Notification.kind == "rating.tier_changed",
                                                     Notification.user_id == strong.id))

    flaky = factory.agent(tags=TAGS)
    campaign = factory.campaign(tags=TAGS, shifts=[(1, 2, 5)])
    claim = claims.claim_shift(session, agent=flaky, shift_id=factory.shifts(campaign)[0].id, now=clock.now())
    session.commit()
    session.execute(Claim.__table__.update().where(Claim.id == claim.id).values(status="no_show", is_active=False))
    session.commit()
    ratings.recompute_ratings(session, now=clock.now() + timedelta(hours=4))
    session.commit()
    assert ratings.rating_of(session, flaky.id).reliability < 95.0
    assert ratings.rating_of(session, flaky.id).no_shows == 1


def test_industry_tag_levels_follow_volume_and_satisfaction(session, factory, monkeypatch):
    from app.ratings import rules

    monkeypatch.setattr(rules, "TAG_LEVEL_RULES", ((3, 6, 0.9), (2, 3, 0.85)))
    monkeypatch.setattr(ratings, "tag_level", rules.tag_level)
    _, claim = worked_shift(session, factory, contacts_n=4)
    answer_all(session, score=5)
    ratings.recompute_ratings(session, now=clock.now())
    session.commit()
    level = session.scalar(select(AgentTag.level).join(Tag, Tag.id == AgentTag.tag_id).where(
        AgentTag.agent_id == claim.agent_id, Tag.code == "industry.ecommerce", AgentTag.revoked_at.is_(None)))
    assert level == 2


def test_quality_pages_answer_their_owners_and_refuse_others(session, factory, make_browser):
    campaign, claim = worked_shift(session, factory)
    owner = session.get(User, campaign.created_by_id)
    quality.create_surveys(session, now=clock.now())
    session.commit()
    client = make_browser()
    client.login(owner.email)
    page = client.get(f"/client/campaigns/{campaign.id}/quality")
    assert page.status_code == 200 and "/s/" in page.text  # the survey link is shown to the client
    bad = client.post(f"/client/campaigns/{campaign.id}/quality", {"max_duration_minutes": "999"})
    assert bad.status_code == 400
    good = client.post(f"/client/campaigns/{campaign.id}/quality",
                       {"required_phrases": "您好", "forbidden_words": "", "max_duration_minutes": "10"})
    assert good.status_code == 302
    assert client.post(f"/client/claims/{claim.id}/rate", {"score": "0"}).status_code == 400
    assert client.post(f"/client/claims/{claim.id}/rate", {"score": "5"}).status_code == 302

    other = make_browser()
    other.login(factory.client().email)
    assert other.get(f"/client/campaigns/{campaign.id}/quality").status_code == 404
    assert other.post(f"/client/claims/{claim.id}/rate", {"score": "5"}).status_code == 404

    agent = make_browser()
    agent.login(session.get(User, claim.agent_id).email)
    assert agent.get("/agent/rating").status_code == 200
    assert agent.get(f"/client/campaigns/{campaign.id}/quality").status_code == 403
    assert agent.post(f"/agent/campaigns/{campaign.id}/rate", {"script_quality": "4"}).status_code == 400
    assert agent.post(f"/agent/campaigns/{campaign.id}/rate",
                      {"script_quality": "4", "list_quality": "5"}).status_code == 302
    assert agent.get("/admin/quality/flags").status_code == 403

    admin = make_browser()
    admin.login(factory.admin().email)
    assert admin.get("/admin/quality/flags?status=bogus").status_code == 200
    assert admin.post("/flags/999999/confirm").status_code == 404
    assert admin.post("/flags/1/maybe").status_code == 404


def test_work_badges_are_awarded_once_from_handled_contacts_and_satisfied_months(session, factory, monkeypatch):
    from app.training.models import BadgeAward

    monkeypatch.setattr(ratings, "HIGH_SATISFACTION_MIN_SURVEYS", 3)
    _, claim = worked_shift(session, factory, contacts_n=4)
    answer_all(session, score=5)
    assert ratings.award_work_badges(session, now=clock.now()) == 1  # a satisfied month, not yet 100 contacts
    assert ratings.award_work_badges(session, now=clock.now()) == 0
    session.commit()
    codes = set(session.scalars(select(BadgeAward.code).where(BadgeAward.agent_id == claim.agent_id)))
    assert "satisfaction_month" in codes and "contacts_100" not in codes


def test_last_months_leaderboard_is_frozen_once_and_shown_to_agents(session, factory, make_browser):
    from app.quality.models import MonthlyLeader

    _, claim = worked_shift(session, factory, contacts_n=6)
    answer_all(session, score=5)
    # 1 Nov 10:00 Shanghai (the frozen clock) → October is empty; a month later November is ranked.
    assert ratings.freeze_monthly_leaderboard(session, now=clock.now()) == 0
    next_month = clock.now() + timedelta(days=31)
    assert ratings.freeze_monthly_leaderboard(session, now=next_month) == 1
    assert ratings.freeze_monthly_leaderboard(session, now=next_month) == 0  # once per month
    session.commit()
    leader = session.scalar(select(MonthlyLeader))
    assert (leader.month, leader.rank, leader.agent_id, leader.contacts, leader.csat_percent) == (
        "2026-11", 1, claim.agent_id, 6, 100)
    agent = make_browser()
    agent.login(session.get(User, claim.agent_id).email)
    page = agent.get("/agent/rating")
    assert page.status_code == 200 and "2026-11" in page.text


def test_inspection_reads_the_transcript_as_well_as_the_notes(session, factory):
    campaign = factory.campaign(tags=TAGS, shifts=[(1, 2, 5)])
    quality.set_qa_rules(session, campaign=campaign, now=clock.now(), known_courses=set(),
                         data=quality.RulesInput("", "保证退款", None, None))
    session.commit()
    worked_shift(session, factory, campaign=campaign, notes="已处理", transcript="坐席：我保证退款，您放心。")
    quality.inspect_contacts(session, now=clock.now())
    session.commit()
    assert {(f.rule, f.detail) for f in session.scalars(select(QaFlag))} == {("forbidden_word", "保证退款")}


def test_a_transcript_with_a_nul_or_over_the_limit_is_refused(session, factory):
    campaign = factory.campaign(tags=TAGS, shifts=[(1, 2, 5)])
    shift = factory.shifts(campaign)[0]
    agent = factory.agent(tags=TAGS)
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(shift.starts_at)
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(), opens=timedelta(minutes=15),
                  grace=timedelta(minutes=10))
    session.commit()
    for bad in ("a\x00b", "长" * 20_001):
        with pytest.raises(Invalid):
            contacts.log_inbound_contact(session, agent_id=agent.id, claim_id=claim.id, now=clock.now(),
                                         data=contacts.InboundInput("phone", "order", "resolved", 60, "", bad))
        session.rollback()
