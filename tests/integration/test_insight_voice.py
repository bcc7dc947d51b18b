"""Voice of the customer: keywords and phrases per period, the comparison, the drill-down, tenancy."""

from __future__ import annotations

from datetime import timedelta

from app.claims import services as claims
from app.contacts import services as contacts
from app.core import clock
from app.insight import voice
from app.work import services as work
from tests.integration.contacts_support import (
    checked_in_claims,
    csv_bytes,
    import_directly,
    outbound_campaign,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.insight_support import GRACE, OPENS, inbound_scenario
from tests.integration.web import assert_page, logged_in, text_of


def work_inbound(session, factory, campaign, agent, *, hours_from_now: float, notes: list[str]):
    """A new two-hour shift; the agent claims it now, checks in at its start and logs one conversation per note."""
    shift = factory.add_shifts(campaign, [(hours_from_now, 2, 1)])[-1]
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    work.check_in(session, agent_id=agent.id, claim_id=claim.id, now=shift.starts_at, opens=OPENS, grace=GRACE)
    for i, note in enumerate(notes):
        contacts.log_inbound_contact(session, agent_id=agent.id, claim_id=claim.id, data=contacts.InboundInput(
            channel="chat", category="delivery", resolution="resolved", duration_seconds=60, notes=note),
            now=shift.starts_at + timedelta(minutes=1 + i))
    work.check_out(session, agent_id=agent.id, claim_id=claim.id, now=shift.ends_at)
    session.commit()
    return shift


def two_weeks(session, factory):
    """Week one: the inbound scenario (3 notes, 2 survey comments). Eight days later: 3 more notes."""
    s = inbound_scenario(session, factory)
    shift = work_inbound(session, factory, s.campaign, s.worker, hours_from_now=8 * 24,
                         notes=["物流又延迟了", "退款到账慢", "物流延迟，投诉"])
    now = shift.ends_at + timedelta(hours=1)
    clock.freeze(now)
    return s, now


def test_keywords_count_texts_and_compare_with_the_previous_period(session, factory):
    s, now = two_weeks(session, factory)
    report = voice.keyword_report(session, campaign=s.campaign, period="7", now=now)
    assert (report.texts, report.previous_texts, report.capped) == (3, 5, False)
    terms = {t.term: t for t in report.keywords}
    assert (terms["物流"].count, terms["物流"].previous, terms["物流"].change) == (2, 2, 0)
    assert (terms["延迟"].count, terms["延迟"].previous, terms["延迟"].change) == (2, 0, 2)
    assert (terms["退款"].count, terms["退款"].previous, terms["退款"].change) == (1, 3, -2)
    assert report.keywords[0].term in ("物流", "延迟")  # the most mentioned first
    assert [p.term for p in report.phrases] == ["物流 延迟"]
    # The whole campaign: everything, nothing to compare with.
    whole = voice.keyword_report(session, campaign=s.campaign, period="all", now=now)
    assert whole.texts == 8 and whole.previous_texts is None
    assert {t.term: t.count for t in whole.keywords}["退款"] == 4
    assert all(t.change is None for t in whole.keywords)


def test_a_text_repeating_a_word_counts_once_and_fillers_are_dropped(session, factory):
    s = inbound_scenario(session, factory)
    work_inbound(session, factory, s.campaign, s.worker, hours_from_now=10, notes=["退款 退款 退款 一直 没有 到账"])
    report = voice.keyword_report(session, campaign=s.campaign, period="all", now=clock.now() + timedelta(days=1))
    terms = {t.term: t.count for t in report.keywords}
    assert terms["退款"] == 4  # three texts of the scenario + this one, however often it repeats the word
    assert "一直" not in terms and "没有" not in terms


def test_the_texts_read_per_period_are_capped(session, factory, monkeypatch):
    monkeypatch.setattr(voice, "MAX_TEXTS_PER_SOURCE", 2)
    s = inbound_scenario(session, factory)
    report = voice.keyword_report(session, campaign=s.campaign, period="all", now=clock.now())
    assert report.capped and report.texts == 4  # 2 inbound notes + 2 survey comments


def test_the_page_lists_keywords_with_their_change_and_drills_down(session, factory, make_browser):
    s, _now = two_weeks(session, factory)
    browser = logged_in(make_browser, s.owner)
    page = text_of(assert_page(browser.get(f"/client/campaigns/{s.campaign.id}/voice?period=7")))
    assert "延迟" in page and "+2" in page and "-2" in page and "物流 延迟" in page
    drill = text_of(assert_page(browser.get(f"/client/campaigns/{s.campaign.id}/voice?period=7&keyword=延迟")))
    assert "物流又延迟了" in drill and "物流延迟，投诉" in drill and "退款到账慢" not in drill.split("Top keywords")[0]
    phrase = text_of(assert_page(browser.get(f"/client/campaigns/{s.campaign.id}/voice",
                                             query_string={"period": "7", "keyword": "物流 延迟"})))
    assert "物流又延迟了" in phrase
    # Unknown period: the default; odd keywords: an empty drill-down, never an error.
    assert_page(browser.get(f"/client/campaigns/{s.campaign.id}/voice?period=bogus&keyword=%00%3Cscript%3E"))
    raw = browser.get(f"/client/campaigns/{s.campaign.id}/voice?keyword=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in raw


def test_the_drill_down_masks_the_customers_phone_and_stays_in_the_tenant(session, factory, make_browser, uploads):
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    import_directly(session, campaign, owner, csv_bytes(["王先生,13912345678,老客"]), uploads)
    agent = factory.agent()
    [claim_id] = checked_in_claims(session, factory, campaign, [agent])
    contact_id = contacts.next_contact(session, agent_id=agent.id, claim_id=claim_id, now=clock.now())
    contacts.record_outcome(session, agent_id=agent.id, claim_id=claim_id, contact_id=contact_id, now=clock.now(),
                            data=contacts.OutcomeInput(outcome="converted", duration_seconds=90,
                                                       notes="客户想要优惠券"))
    session.commit()
    other = inbound_scenario(session, factory)  # another organisation's campaign mentions 退款
    browser = logged_in(make_browser, owner)
    page = text_of(assert_page(browser.get(f"/client/campaigns/{campaign.id}/voice?period=all&keyword=优惠券")))
    assert "客户想要优惠券" in page and "139****5678" in page and "13912345678" not in page
    page = text_of(assert_page(browser.get(f"/client/campaigns/{campaign.id}/voice?period=all&keyword=退款")))
    assert "要求退款" not in page
    assert_page(browser.get(f"/client/campaigns/{other.campaign.id}/voice?keyword=退款"), 404)
    assert logged_in(make_browser, agent).get(f"/client/campaigns/{campaign.id}/voice").status_code == 403


def test_the_voice_page_renders_in_chinese_when_empty(session, factory, make_browser):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), kind="inbound")
    browser = make_browser()
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    browser.login(owner.email)
    for period in ("7", "30", "all"):
        assert_page(browser.get(f"/client/campaigns/{campaign.id}/voice?period={period}"))
