"""The admins' platform dashboard: members, activity, fill, money, queues, the no-show trend."""

from __future__ import annotations

from datetime import timedelta

from app.core import clock
from app.insight.platform import platform_figures, week_start
from app.members.models import Status, Tier
from tests.integration.insight_support import inbound_scenario
from tests.integration.web import assert_page, count_statements, logged_in, text_of


def test_platform_figures_on_a_known_history(session, factory):
    t0 = clock.now()
    for hours_ago in (48, 24, 0):  # three agents waiting for verification, registered at different times
        clock.freeze(t0 - timedelta(hours=hours_ago))
        factory.agent(status=Status.PENDING)
    clock.freeze(t0)
    factory.agent(city="上海", tags=("industry.ecommerce",), tier=Tier.SENIOR)
    factory.agent(city="上海", status=Status.SUSPENDED)
    s = inbound_scenario(session, factory)  # three certified agents in 成都, one shift worked, one no-show
    f = platform_figures(session, now=s.now)
    assert f["agents_by_tier"] == {0: 0, 1: 3, 2: 1, 3: 0}
    assert f["agents_by_status"] == {"pending": 3, "active": 4, "suspended": 1}
    assert f["agents_by_city"] == [("成都", 3), ("上海", 1)]
    assert ("industry.ecommerce", "industry", 1) in f["agents_by_tag"]
    assert f["active_agents_this_week"] == 1
    # Shift 1 (started): 2 of 2 seats held (one no-show); shift 2 (upcoming): 1 of 2.
    assert (f["fill_past_claimed"], f["fill_past_offered"], f["fill_past_rate"]) == (2, 2, 1.0)
    assert (f["fill_upcoming_claimed"], f["fill_upcoming_offered"], f["fill_upcoming_rate"]) == (1, 2, 0.5)
    assert f["escrow_fen"] == 1_000_000 - 8176 and f["platform_revenue_fen"] == 743
    assert f["earnings_owed_fen"] == 7433 and f["paid_out_fen"] == 0 and f["paid_in_fen"] == 1_000_000
    hours = (s.now - t0).total_seconds() / 3600
    queue = f["verification_queue"]
    assert queue["waiting"] == 3
    assert queue["oldest_hours"] == round(48 + hours, 1) and queue["median_hours"] == round(24 + hours, 1)
    assert f["review_queue"] == {"waiting": 0, "oldest_hours": None, "median_hours": None}
    trend = f["no_show_trend"]
    assert len(trend) == 8 and trend[-1]["week"] == week_start(s.now).date().isoformat()
    assert (trend[-1]["claims_due"], trend[-1]["no_shows"], trend[-1]["no_show_rate"]) == (2, 1, 0.5)
    assert all(w["no_show_rate"] is None for w in trend[:-1])


def test_an_empty_platform_shows_dashes(session, factory, make_browser):
    admin = factory.admin()
    page = text_of(assert_page(logged_in(make_browser, admin).get("/admin/dashboard")))
    assert "Platform dashboard" in page and "—" in page


def test_only_admins_see_the_platform_dashboard(session, factory, make_browser):
    assert logged_in(make_browser, factory.client()).get("/admin/dashboard").status_code == 403
    assert logged_in(make_browser, factory.agent()).get("/admin/dashboard").status_code == 403
    assert make_browser().get("/admin/dashboard").status_code == 302  # to the login page


def test_the_dashboard_renders_in_both_languages_with_its_chart(session, factory, make_browser):
    s = inbound_scenario(session, factory)
    admin = factory.admin()
    page = logged_in(make_browser, admin).get("/admin/dashboard")
    text = text_of(assert_page(page))
    for expected in ("Active agents this week", "In escrow", "¥9,918.24", "Earned by the platform", "¥7.43",
                     "No-show trend", "50.0%", "成都"):
        assert expected in text, expected
    raw = page.get_data(as_text=True)
    assert 'data-chart="chart-no-shows"' in raw and "<script>" not in raw and "style=" not in raw
    zh = make_browser()
    zh.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    zh.login(admin.email)
    page = assert_page(zh.get("/admin/dashboard")).get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "¥9,918.24" in page
    assert s.campaign.id  # the scenario's data is what the page showed


def test_statements_do_not_grow_with_the_number_of_members(session, factory):
    def count():
        return count_statements(lambda: platform_figures(session, now=clock.now()))

    factory.agent(status=Status.PENDING)
    small = count()
    for _ in range(5):
        factory.agent(status=Status.PENDING)
        factory.agent(city="北京")
    inbound_scenario(session, factory)
    assert count() == small
