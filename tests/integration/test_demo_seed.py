"""The demo seed: three businesses, fixed logins that work locally and are refused in production."""

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Campaign
from app.core import clock
from app.demo import DEMO_PASSWORD, seed
from app.members.models import Organisation, Role, Status, User
from tests.integration.web import assert_page, english, redirected_to, text_of

LOGINS = {"agent@demo.local": "/agent/shifts", "client@demo.local": "/client/", "admin@demo.local": "/admin/"}


@pytest.fixture
def seeded(session):
    assert seed(session, agents=12, now=clock.now()) is True
    return session


def test_the_seed_creates_three_businesses_and_the_fixed_logins(seeded):
    orgs = set(seeded.scalars(select(Organisation.name)))
    assert orgs == {"鲸选优品商城", "饱了么外卖", "华信银行信用卡中心"}
    roles = dict(seeded.execute(select(User.email, User.role).where(User.email.in_(list(LOGINS)))).all())
    assert roles == {"agent@demo.local": Role.AGENT, "client@demo.local": Role.CLIENT,
                     "admin@demo.local": Role.ADMIN}
    assert seeded.scalar(select(func.count(User.id)).where(User.role == Role.AGENT)) == 12
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


def test_the_cli_seeds_once(app, session):
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
