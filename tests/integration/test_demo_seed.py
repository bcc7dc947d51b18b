"""The demo seed: three businesses, fixed logins that work locally and are refused in production."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.campaigns.services import plan_shifts
from app.claims.models import Claim, ClaimStatus
from app.contacts import services as contacts
from app.contacts.models import CallList, CallListStatus, Contact, ContactAttempt, ContactStatus
from app.core import clock
from app.core.timefmt import display_tz
from app.demo import DEMO_PASSWORD, seed, workable_shift_pattern
from app.members.models import Organisation, Role, Status, User
from app.work import services as work
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of

LOGINS = {"agent@demo.local": "/agent/shifts", "client@demo.local": "/client/", "admin@demo.local": "/admin/"}


@pytest.fixture
def seeded(session, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    assert seed(session, agents=12, now=clock.now()) is True
    return session


def test_the_seed_creates_three_businesses_and_the_fixed_logins(seeded):
    orgs = set(seeded.scalars(select(Organisation.name)))
    assert orgs == {"鲸选优品商城", "饱了么外卖", "华信银行信用卡中心"}
    roles = dict(seeded.execute(select(User.email, User.role).where(User.email.in_(list(LOGINS)))).all())
    assert roles == {"agent@demo.local": Role.AGENT, "client@demo.local": Role.CLIENT,
                     "admin@demo.local": Role.ADMIN}
    assert seeded.scalar(select(func.count(User.id)).where(User.role == Role.AGENT)) == 12 + 1  # + peak@demo.local
    assert seeded.scalar(select(User.status).where(User.email == "newbie@demo.local")) == Status.PENDING
    assert seeded.scalar(select(func.count(Campaign.id)).where(Campaign.status == "published")) >= 4


def test_the_fixed_logins_log_in_and_land_home(seeded, make_browser):
    for email, home in LOGINS.items():
        web = english(make_browser())
        response = web.post("/login", {"email": email, "password": DEMO_PASSWORD})
        assert redirected_to(response, home)
        assert_page(web.get(home))


def test_the_demo_story_is_visible_to_its_logins(seeded, make_browser):
    agent = english(make_browser())
    agent.login("agent@demo.local", DEMO_PASSWORD)
    assert "双11" in text_of(assert_page(agent.get("/agent/shifts")))
    admin = english(make_browser())
    admin.login("admin@demo.local", DEMO_PASSWORD)
    assert "newbie@demo.local" in text_of(assert_page(admin.get("/admin/verification")))
    client = english(make_browser())
    client.login("client@demo.local", DEMO_PASSWORD)
    assert "双11" in text_of(assert_page(client.get("/client/")))


def test_seeding_twice_does_nothing_the_second_time(seeded):
    users = seeded.scalar(select(func.count(User.id)))
    assert seed(seeded, agents=12, now=clock.now()) is False
    assert seeded.scalar(select(func.count(User.id))) == users


def test_the_outbound_campaign_is_workable_right_after_seeding(seeded, app):
    seeded_at = clock.now()
    wake = seeded.scalar(select(Campaign).where(Campaign.kind == "outbound_marketing", Campaign.name.contains("沉睡")))
    assert wake.status == "published"
    call_list = seeded.scalar(select(CallList).where(CallList.campaign_id == wake.id))
    assert call_list.status == CallListStatus.DONE
    assert call_list.rows_accepted >= 30 and call_list.rows_accepted == call_list.rows_processed
    assert seeded.scalar(select(func.count(Contact.id)).where(Contact.campaign_id == wake.id,
                                                              Contact.status == ContactStatus.NEW)) >= 30

    star = seeded.scalar(select(User).where(User.email == "agent@demo.local"))
    claim = seeded.scalar(select(Claim).where(Claim.agent_id == star.id, Claim.campaign_id == wake.id,
                                              Claim.status == ClaimStatus.CLAIMED))
    assert claim.starts_at - seeded_at == timedelta(minutes=10)  # the test clock sits on a whole minute
    assert claim.ends_at - claim.starts_at == timedelta(hours=3)
    held = seeded.scalars(select(Claim).where(Claim.agent_id == star.id, Claim.is_active.is_(True))).all()
    assert not [c for c in held if c.id != claim.id and c.starts_at < claim.ends_at and c.ends_at > claim.starts_at]

    at = seeded_at + timedelta(minutes=1)
    work.check_in(seeded, agent_id=star.id, claim_id=claim.id, now=at,
                  opens=timedelta(minutes=app.config["CHECKIN_OPENS_MINUTES"]),
                  grace=timedelta(minutes=app.config["NO_SHOW_GRACE_MINUTES"]))
    seeded.commit()
    contact_id = contacts.next_contact(seeded, agent_id=star.id, claim_id=claim.id, now=at)
    assert contact_id is not None
    contacts.record_outcome(seeded, agent_id=star.id, claim_id=claim.id, contact_id=contact_id, now=at,
                            data=contacts.OutcomeInput("reached", 95, notes="客户说双12 再看看，已发券"))
    seeded.commit()
    assert seeded.get(Contact, contact_id).status == ContactStatus.DONE
    attempt = seeded.scalar(select(ContactAttempt).where(ContactAttempt.contact_id == contact_id))
    assert attempt.outcome == "reached" and attempt.notes == "客户说双12 再看看，已发券"


@pytest.mark.parametrize(("utc", "local_start", "local_end"), [
    (datetime(2026, 11, 1, 2, 0, 30, tzinfo=UTC), datetime(2026, 11, 1, 10, 11), datetime(2026, 11, 1, 13, 11)),
    (datetime(2026, 11, 1, 14, 30, tzinfo=UTC), datetime(2026, 11, 1, 22, 40), datetime(2026, 11, 2, 1, 40)),
    (datetime(2026, 11, 1, 15, 55, tzinfo=UTC), datetime(2026, 11, 2, 0, 5), datetime(2026, 11, 2, 3, 5)),
])
def test_the_workable_shift_starts_soon_and_lasts_three_hours_even_across_midnight(app, utc, local_start, local_end):
    tz = display_tz()
    [(start, end)] = plan_shifts(workable_shift_pattern(utc), tz)
    assert (start.astimezone(tz).replace(tzinfo=None), end.astimezone(tz).replace(tzinfo=None)) == (
        local_start, local_end)
    assert timedelta(minutes=10) <= start - utc < timedelta(minutes=11)


def test_the_cli_seeds_once(app, session, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--agents", "5"])
    assert first.exit_code == 0 and "demo seeded" in first.output
    second = runner.invoke(args=["seed-demo", "--agents", "5"])
    assert second.exit_code == 0 and "demo already present" in second.output


def test_a_demo_login_is_refused_in_production(seeded, app, make_browser, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    for email in LOGINS:
        web = english(make_browser())
        response = assert_page(web.post("/login", {"email": email, "password": DEMO_PASSWORD}), 400)
        assert "Demo accounts are disabled on this server." in text_of(response)
        assert web.get(LOGINS[email]).status_code == 302


def test_a_demo_looking_address_in_other_case_is_refused_in_production_too(seeded, app, make_browser, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    web = english(make_browser())
    response = assert_page(web.post("/login", {"email": " ADMIN@Demo.Local ", "password": DEMO_PASSWORD}), 400)
    assert "Demo accounts are disabled" in text_of(response)


def test_the_double_11_peak_has_a_live_dashboard(seeded, make_browser):
    from app.insight.metrics import campaign_metrics

    peak = seeded.scalar(select(Campaign).where(Campaign.name.contains("双11")))
    m = campaign_metrics(seeded, campaign_id=peak.id, now=clock.now())
    assert m["contacts_handled"] > 0 and m["csat"] is not None and m["surveys_answered"] > 0
    assert m["fill_rate"] and m["fill_rate"] > 0 and m["settled_fen"] > 0 and not m["is_final"]
    assert any(d["contacts"] for d in m["days"])
    client = english(make_browser())
    client.login("client@demo.local", DEMO_PASSWORD)
    assert "CSAT" in text_of(assert_page(client.get(f"/client/campaigns/{peak.id}/dashboard")))
    assert "退款" in text_of(assert_page(client.get(f"/client/campaigns/{peak.id}/voice?period=7")))


def test_the_live_double_11_seat_is_workable_and_the_assistant_answers_in_chinese(seeded, app, make_browser):
    peak = seeded.scalar(select(Campaign).where(Campaign.name.contains("双11 售后")))
    agent = seeded.scalar(select(User).where(User.email == "peak@demo.local"))
    claim = seeded.scalar(select(Claim).where(Claim.agent_id == agent.id, Claim.campaign_id == peak.id))
    assert claim.status == ClaimStatus.CLAIMED and claim.starts_at - clock.now() == timedelta(minutes=10)
    browser = logged_in(make_browser, agent, DEMO_PASSWORD)
    assert browser.post(f"/agent/claims/{claim.id}/check-in", {}).status_code == 302
    answer = browser.get(f"/agent/claims/{claim.id}/assist?q=客户问退款多久到账")
    titles = [s["title"] for s in answer.get_json()["suggestions"]]
    assert titles and "退款" in titles[0], titles
