"""The client's campaign dashboard: metrics with known answers, tenancy, exports, bounded statements."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import update

from app.contacts import services as contacts
from app.core import clock
from app.insight.metrics import campaign_metrics, fen_per, ratio
from app.members.models import User
from tests.factories import PASSWORD
from tests.integration.contacts_support import (
    checked_in_claims,
    csv_bytes,
    import_directly,
    outbound_campaign,
    phones,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.insight_support import inbound_scenario
from tests.integration.web import assert_page, count_statements, logged_in, text_of


def test_ratio_is_none_for_a_zero_denominator_and_rounds_to_four_places():
    assert ratio(1, 0) is None
    assert ratio(0, 0) is None
    assert ratio(2, 3) == 0.6667
    assert fen_per(8176, 3) == 2725
    assert fen_per(5, 2) == 3  # half-up
    assert fen_per(100, 0) is None


def test_metrics_of_a_hand_built_inbound_campaign(session, factory):
    s = inbound_scenario(session, factory)
    m = campaign_metrics(session, campaign_id=s.campaign.id, now=s.now)
    json.dumps(m)  # serialisable as it is
    assert (m["shifts"], m["seats_offered"], m["seats_claimed"], m["fill_rate"]) == (2, 4, 3, 0.75)
    # The second shift has not started: only the first shift's two claims were due.
    assert (m["claims_due"], m["claims_showed_up"], m["no_shows"]) == (2, 1, 1)
    assert (m["show_up_rate"], m["no_show_rate"]) == (0.5, 0.5)
    assert m["worked_minutes"] == 115
    assert (m["contacts_handled"], m["inbound_contacts"], m["inbound_resolved"]) == (3, 3, 2)
    assert m["first_contact_resolution"] == 0.6667
    # No customer references were given: each conversation counts on its result alone, none is a repeat.
    assert (m["inbound_first_contact_resolved"], m["inbound_repeat_contacts"], m["repeat_contact_rate"]) == (2, 0, 0.0)
    assert (m["complaints"], m["complaint_rate"]) == (1, 0.3333)
    assert m["aht_seconds"] == 200.0
    # Outbound rates are undefined on an inbound campaign: None, never a division by zero.
    assert m["contact_rate"] is None and m["success_rate"] is None and m["outbound_attempts"] == 0
    assert (m["surveys_sent"], m["surveys_answered"], m["survey_response_rate"]) == (3, 2, 0.6667)
    assert m["csat_distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert m["csat"] == 0.5
    assert (m["qa_inspected"], m["qa_flags_confirmed"], m["qa_pass_rate"]) == (3, 1, 0.6667)
    # 115 min at ¥38/h = 7283 fen + 3 contacts × 50 = 7433; commission 10 % = 743.
    assert (m["settled_pay_fen"], m["settled_commission_fen"], m["settled_fen"]) == (7433, 743, 8176)
    assert m["cost_per_contact_fen"] == 2725 and m["cost_per_success_fen"] is None
    # The later seat is committed: 120 min × ¥38/h = 7600 + 760 commission.
    assert (m["escrowed_fen"], m["committed_fen"]) == (1_000_000, 8360)
    assert m["budget_burn"] == 0.0165
    assert m["is_final"] is False
    rows = {a["agent_id"]: a for a in m["agents"]}
    worker = rows[s.worker.id]
    assert (worker["shifts"], worker["contacts"], worker["aht_seconds"], worker["csat"], worker["flags_confirmed"],
            worker["pay_fen"]) == (1, 3, 200.0, 0.5, 1, 7433)
    assert rows[s.no_show.id]["shifts"] == 0 and rows[s.no_show.id]["csat"] is None
    assert m["agents"][0]["agent_id"] == s.worker.id  # busiest first
    day = next(d for d in m["days"] if d["seats_offered"])
    assert day["contacts"] == 3 and day["fill_rate"] == 0.75
    assert sum(h["contacts"] for h in m["hours"]) == 3


def test_an_empty_campaign_has_undefined_ratios_not_errors(session, factory):
    campaign = factory.campaign(kind="inbound", tags=(), shifts=[], publish=False)
    m = campaign_metrics(session, campaign_id=campaign.id, now=clock.now())
    for key in ("fill_rate", "show_up_rate", "no_show_rate", "contact_rate", "success_rate",
                "first_contact_resolution", "aht_seconds", "complaint_rate", "csat", "survey_response_rate",
                "qa_pass_rate", "cost_per_contact_fen", "cost_per_success_fen"):
        assert m[key] is None, key
    assert m["csat_distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
    assert m["agents"] == []


def test_the_dashboard_shows_every_figure_with_its_definition(session, factory, make_browser):
    s = inbound_scenario(session, factory)
    page = text_of(assert_page(logged_in(make_browser, s.owner).get(
        f"/client/campaigns/{s.campaign.id}/dashboard")))
    for text in ("Fill rate", "75.0%", "Seats claimed ÷ seats offered", "No-show rate", "50.0%",
                 "First-contact resolution", "66.7%", "CSAT", "Average handle time", "3:20", "Complaint rate",
                 "Cost per contact", "¥27.25", "Budget burn", "¥74.33", s.worker.name, "—"):
        assert text in page, text
    raw = logged_in(make_browser, s.owner).get(f"/client/campaigns/{s.campaign.id}/dashboard").get_data(as_text=True)
    assert 'type="application/json"' in raw and "charts.js" in raw and "chart-4.6.1.umd.min.js" in raw
    assert "<script>" not in raw and "style=" not in raw


def test_the_dashboard_renders_in_chinese(session, factory, make_browser):
    s = inbound_scenario(session, factory)
    browser = make_browser()
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    browser.login(s.owner.email)
    page = assert_page(browser.get(f"/client/campaigns/{s.campaign.id}/dashboard")).get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "75.0%" in page and s.worker.name in page


def test_another_organisation_gets_404_and_agents_403(session, factory, make_browser):
    s = inbound_scenario(session, factory)
    other = factory.client()
    for suffix in ("dashboard", "dashboard.csv", "dashboard.xlsx"):
        assert_page(logged_in(make_browser, other).get(f"/client/campaigns/{s.campaign.id}/{suffix}"), 404)
        assert logged_in(make_browser, s.worker).get(f"/client/campaigns/{s.campaign.id}/{suffix}").status_code == 403
    assert_page(logged_in(make_browser, s.owner).get("/client/campaigns/999999/dashboard"), 404)


@pytest.fixture
def hostile(session, factory):
    s = inbound_scenario(session, factory)
    session.execute(update(User).where(User.id == s.worker.id).values(name="=cmd|' /C calc'!A0"))
    session.execute(update(User).where(User.id == s.later.id).values(name="@SUM(1+1)"))
    session.commit()
    return s


def test_csv_export_defuses_formulas(hostile, make_browser):
    response = logged_in(make_browser, hostile.owner).get(f"/client/campaigns/{hostile.campaign.id}/dashboard.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    assert "'=cmd|" in text and "'@SUM(1+1)" in text
    assert "\n=cmd" not in text and ",=cmd" not in text
    assert "fill_rate" in text and "0.75" in text


def test_xlsx_export_opens_and_defuses_formulas(hostile, make_browser):
    response = logged_in(make_browser, hostile.owner).get(f"/client/campaigns/{hostile.campaign.id}/dashboard.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames[:2] == ["Metrics", "Agents"]
    metrics = {row[0]: row[2] for row in book["Metrics"].iter_rows(min_row=2, values_only=True)}
    assert metrics["fill_rate"] == 0.75 and metrics["contacts_handled"] == 3 and metrics["csat"] == 0.5
    assert metrics["contact_rate"] in (None, "")
    names = [row[0] for row in book["Agents"].iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in names and "'@SUM(1+1)" in names
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate


def test_exports_are_in_the_readers_language(hostile, make_browser):
    browser = make_browser()
    browser.login(hostile.owner.email, PASSWORD)  # no Accept-Language: the default, Chinese
    book = openpyxl.load_workbook(io.BytesIO(browser.get(f"/client/campaigns/{hostile.campaign.id}/dashboard.xlsx")
                                             .get_data()))
    assert book.sheetnames == ["指标", "坐席", "按日"]
    labels = {row[0]: row[1] for row in book["指标"].iter_rows(min_row=2, values_only=True)}
    assert labels["seats_offered"] == "提供座席" or "座席" in labels["seats_offered"]
    assert book["按日"]["A1"].value == "日期"
    text = browser.get(f"/client/campaigns/{hostile.campaign.id}/dashboard.csv").get_data().decode("utf-8-sig")
    assert "已发送问卷" in text and "surveys sent" not in text


def test_statements_per_dashboard_do_not_grow_with_the_data(session, factory, make_browser, app):
    small = inbound_scenario(session, factory)
    big = inbound_scenario(session, factory, extra_contacts=25)
    for extra in range(6):  # more agents and shifts on the big campaign
        factory.add_shifts(big.campaign, [(30 + extra * 3, 2, 4)])
    counts = []
    for s in (small, big):
        browser = logged_in(make_browser, s.owner)
        browser.get(f"/client/campaigns/{s.campaign.id}/dashboard")  # warm caches (session user, babel)
        counts.append(count_statements(lambda s=s, b=browser: assert_page(
            b.get(f"/client/campaigns/{s.campaign.id}/dashboard"))))
        counts.append(count_statements(lambda s=s: campaign_metrics(session, campaign_id=s.campaign.id,
                                                                          now=s.now)))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
    assert counts[1] <= 20 and counts[0] <= 30, counts


def test_outbound_contact_and_success_rates_count_customers(session, factory, make_browser, uploads):
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    import_directly(session, campaign, owner, csv_bytes([f"客户{i},{p},老客" for i, p in enumerate(phones(3))]),
                    uploads)
    agent = factory.agent()
    [claim_id] = checked_in_claims(session, factory, campaign, [agent])
    for outcome, seconds in (("converted", 100), ("refused", 50), ("no_answer", 30)):
        contact_id = contacts.next_contact(session, agent_id=agent.id, claim_id=claim_id, now=clock.now())
        contacts.record_outcome(session, agent_id=agent.id, claim_id=claim_id, contact_id=contact_id,
                                now=clock.now(), data=contacts.OutcomeInput(outcome=outcome, duration_seconds=seconds))
        session.commit()
    m = campaign_metrics(session, campaign_id=campaign.id, now=clock.now())
    assert (m["outbound_attempts"], m["outbound_contacts_attempted"], m["outbound_contacts_reached"],
            m["outbound_contacts_succeeded"]) == (3, 3, 2, 1)
    assert (m["contact_rate"], m["success_rate"], m["aht_seconds"]) == (0.6667, 0.5, 60.0)
    assert m["first_contact_resolution"] is None and m["agents"][0]["successes"] == 1
    page = text_of(assert_page(logged_in(make_browser, owner).get(f"/client/campaigns/{campaign.id}/dashboard")))
    assert "Contact rate (outbound)" in page and "66.7%" in page and "Success rate (outbound)" in page
    assert "First-contact resolution" not in page  # an inbound metric, not shown on an outbound campaign


def test_the_campaign_page_links_to_its_dashboard(session, factory, make_browser):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), kind="inbound")
    page = logged_in(make_browser, owner).get(f"/client/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'href="/client/campaigns/{campaign.id}/dashboard"' in page


def test_quiet_days_between_shifts_are_listed_as_zeros(session, factory):
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), kind="inbound", shifts=[(1, 2, 2), (49, 2, 2)], publish=False)
    m = campaign_metrics(session, campaign_id=campaign.id, now=clock.now())
    dates = [date.fromisoformat(d["date"]) for d in m["days"]]
    assert dates == [dates[0] + timedelta(days=i) for i in range(3)]
    middle = m["days"][1]
    assert (middle["seats_offered"], middle["contacts"], middle["fill_rate"]) == (0, 0, None)
