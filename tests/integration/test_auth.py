"""Registration, login, lock-out, logout, invitations and the admin CLI, through the pages."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core import clock
from app.members.models import Invitation, Organisation, Role, Status, User
from tests.factories import PASSWORD
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of


def agent_form(**changes):
    data = {"name": "张小凡", "email": "xiaofan@example.cn", "phone": "13800138000", "city": "成都",
            "languages": ["lang.mandarin"], "password": "long enough pw", "confirm": "long enough pw"}
    data.update(changes)
    if "password" in changes and "confirm" not in changes:
        data["confirm"] = changes["password"]
    return data


def client_form(**changes):
    data = {"organisation": "鲸选优品", "industry": "industry.ecommerce", "name": "周婷", "email": "ops@shop.cn",
            "phone": "021 6888 8888", "password": "long enough pw", "confirm": "long enough pw"}
    data.update(changes)
    return data


def users(session):
    return session.scalar(select(func.count(User.id)))


@pytest.fixture
def web(browser):
    return english(browser)


# --- agent registration ------------------------------------------------------------------------

def test_an_agent_registers_and_is_logged_in_as_a_pending_trainee(web, session):
    response = web.post("/register/agent", agent_form())
    assert redirected_to(response, "/agent/shifts")
    agent = session.scalar(select(User).where(User.email == "xiaofan@example.cn"))
    assert (agent.role, agent.status, agent.tier) == (Role.AGENT, Status.PENDING, 0)
    assert agent.phone == "+8613800138000" and agent.language_codes == ["lang.mandarin"]
    assert agent.password_hash != "long enough pw"
    board = assert_page(web.get("/agent/shifts"))
    assert "waiting for an admin's verification" in text_of(board)


@pytest.mark.parametrize("email", ["XiaoFan@Example.CN", "  xiaofan@example.cn  ", " XIAOFAN@EXAMPLE.CN"])
def test_an_email_differing_only_in_case_or_spaces_is_the_same_account(web, make_browser, session, email):
    web.post("/register/agent", agent_form())
    other = english(make_browser())
    response = assert_page(other.post("/register/agent", agent_form(email=email, phone="13900139000")), 409)
    assert "An account with this email already exists." in text_of(response)
    assert users(session) == 1


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "x@@example.cn", "<script>@x.cn", "a" * 300 + "@x.cn",
                                   "zero\u200bwidth@example.cn"])
def test_a_malformed_email_is_refused_with_a_message(web, session, email):
    response = assert_page(web.post("/register/agent", agent_form(email=email)), 400)
    body = text_of(response)
    assert "Enter a valid email address." in body or "Field cannot be longer" in body
    assert users(session) == 0


@pytest.mark.parametrize("phone", ["12345", "138-0013-800a", "abcdefghijk", "+1 202 555 01", "0" * 40, "１２３"])
def test_a_malformed_phone_is_refused_with_a_message(web, session, phone):
    response = assert_page(web.post("/register/agent", agent_form(phone=phone)), 400)
    body = text_of(response)
    assert "Enter a valid phone number." in body or "Field cannot be longer" in body
    assert users(session) == 0


@pytest.mark.parametrize("phone", ["+86 138 0013 8000", "0086 138-0013-8000", " 138 0013 8000 ",
                                   "１３８００１３８０００", "+８６ １３８ ００１３ ８０００"])
def test_phone_numbers_with_prefixes_spaces_or_full_width_digits_are_normalised(web, session, phone):
    response = web.post("/register/agent", agent_form(phone=phone))
    assert response.status_code == 302, text_of(response)[:500]
    assert session.scalar(select(User.phone)) == "+8613800138000"


@pytest.mark.parametrize("password", ["short", "1234567", "x" * 257, "长" * 300, "p" * 1_000_000])
def test_a_password_too_short_or_too_long_is_refused(web, session, password):
    response = assert_page(web.post("/register/agent", agent_form(password=password)), 400)
    assert "Use 8 to 256 characters." in text_of(response)
    assert users(session) == 0


def test_a_long_passphrase_within_the_limit_works(web, make_browser, session):
    phrase = "correct horse battery staple 长城 " * 7  # 231 characters
    assert web.post("/register/agent", agent_form(password=phrase)).status_code == 302
    web.logout()
    english(make_browser()).login("xiaofan@example.cn", phrase)


def test_registration_refuses_an_unknown_language_and_markup_stays_text(web, session, factory, make_browser):
    response = assert_page(web.post("/register/agent", agent_form(languages=["lang.klingon"])), 400)
    assert users(session) == 0
    response = web.post("/register/agent", agent_form(name='<script>alert(1)</script>" onfocus="x'))
    assert response.status_code == 302
    agent = session.scalar(select(User).where(User.email == "xiaofan@example.cn"))
    assert agent.name == '<script>alert(1)</script>" onfocus="x'
    admin = english(make_browser())
    admin.login(factory.admin().email)
    queue = admin.get("/admin/verification").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in queue and "&lt;script&gt;alert(1)&lt;/script&gt;" in queue


def test_a_missing_or_foreign_csrf_token_is_refused(web, session):
    response = assert_page(web.post("/register/agent", agent_form(), csrf=False), 400)
    assert "The form expired" in text_of(response)
    response = assert_page(web.post("/register/agent", agent_form(csrf_token="forged")), 400)
    assert users(session) == 0


def test_registration_is_not_possible_with_get(web, session):
    response = web.get("/register/agent", query_string=agent_form())
    assert_page(response, 200)
    assert users(session) == 0


# --- client registration and invitations ----------------------------------------------------

def test_a_business_registers_its_organisation_with_its_first_user(web, session):
    response = web.post("/register/business", client_form())
    assert redirected_to(response, "/client/")
    user = session.scalar(select(User).where(User.email == "ops@shop.cn"))
    assert (user.role, user.status) == (Role.CLIENT, Status.ACTIVE)
    assert user.organisation.name == "鲸选优品" and user.organisation.industry == "industry.ecommerce"
    assert user.phone == "+862168888888"
    assert_page(web.get("/client/"))


def test_a_business_with_an_unknown_industry_or_empty_name_saves_nothing(web, session):
    assert_page(web.post("/register/business", client_form(industry="industry.weapons")), 400)
    assert_page(web.post("/register/business", client_form(organisation="   ")), 400)
    assert_page(web.post("/register/business", client_form(organisation="x" * 10_000)), 400)
    assert session.scalar(select(func.count(Organisation.id))) == 0
    assert users(session) == 0


def invite(browser, email="colleague@shop.cn") -> str:
    response = assert_page(browser.post("/team", {"email": email}))
    match = re.search(r"/invitation/([A-Za-z0-9_-]+)", response.get_data(as_text=True))
    assert match, text_of(response)[:800]
    return match.group(1)


def accept_form(**changes):
    data = {"name": "小李", "phone": "13700137000", "password": "colleague pw", "confirm": "colleague pw"}
    data.update(changes)
    return data


def test_an_invitation_link_works_once_and_joins_the_organisation(factory, make_browser, session):
    owner = factory.client()
    token = invite(logged_in(make_browser, owner))
    guest = english(make_browser())
    page = assert_page(guest.get(f"/invitation/{token}"))
    assert "colleague@shop.cn" in text_of(page)
    response = guest.post(f"/invitation/{token}", accept_form())
    assert redirected_to(response, "/client/")
    joined = session.scalar(select(User).where(User.email == "colleague@shop.cn"))
    assert joined.organisation_id == owner.organisation_id and joined.role == Role.CLIENT
    assert_page(guest.get("/client/"))

    again = english(make_browser())
    assert_page(again.get(f"/invitation/{token}"), 404)
    assert_page(again.post(f"/invitation/{token}", accept_form()), 404)
    assert users(session) == 2


def test_an_expired_or_unknown_invitation_is_not_found(factory, make_browser, session):
    owner = factory.client()
    token = invite(logged_in(make_browser, owner))
    guest = english(make_browser())
    assert_page(guest.get("/invitation/not-a-token"), 404)
    clock.freeze(clock.now() + timedelta(days=7, seconds=1))
    response = assert_page(guest.get(f"/invitation/{token}"), 404)
    assert "invalid or has expired" in text_of(response)
    assert_page(guest.post(f"/invitation/{token}", accept_form()), 404)
    assert session.scalar(select(Invitation.accepted_at)) is None


def test_an_invitation_cannot_be_accepted_with_bad_input_and_stays_usable(factory, make_browser, session):
    owner = factory.client()
    token = invite(logged_in(make_browser, owner))
    guest = english(make_browser())
    assert_page(guest.post(f"/invitation/{token}", accept_form(phone="12")), 400)
    assert_page(guest.post(f"/invitation/{token}", accept_form(password="short", confirm="short")), 400)
    assert session.scalar(select(Invitation.accepted_at)) is None
    assert guest.post(f"/invitation/{token}", accept_form()).status_code == 302


def test_inviting_an_existing_members_email_is_refused(factory, make_browser, session):
    owner = factory.client()
    agent = factory.agent()
    browser = logged_in(make_browser, owner)
    response = assert_page(browser.post("/team", {"email": agent.email.upper()}), 409)
    assert "already exists" in text_of(response)
    assert session.scalar(select(func.count(Invitation.id))) == 0


def test_only_client_users_can_invite(factory, make_browser, client):
    for user in (factory.agent(), factory.admin()):
        browser = logged_in(make_browser, user)
        assert_page(browser.get("/team"), 403)
        assert_page(browser.post("/team", {"email": "x@example.cn"}), 403)
    anonymous = client.get("/team")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login?next=")


# --- login, lock-out and logout -----------------------------------------------------------------

def test_login_sends_each_role_home(factory, make_browser):
    for user, home in ((factory.agent(), "/agent/shifts"), (factory.client(), "/client/"),
                       (factory.admin(), "/admin/")):
        browser = english(make_browser())
        response = browser.post("/login", {"email": f"  {user.email.upper()} ", "password": PASSWORD})
        assert redirected_to(response, home)
        assert_page(browser.get(home))


def test_a_wrong_password_or_unknown_email_gets_the_same_message(factory, web):
    agent = factory.agent()
    for email in (agent.email, "nobody@example.cn", "not an email"):
        response = assert_page(web.post("/login", {"email": email, "password": "wrong password"}), 400)
        assert "Wrong email or password." in text_of(response)
    assert_page(web.post("/login", {"email": agent.email, "password": "x" * 300}), 400)
    assert web.get("/agent/shifts").status_code == 302


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one_until_the_lock_ends(factory, web, app,
                                                                                          session):
    agent = factory.agent()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert_page(web.post("/login", {"email": agent.email, "password": "wrong password"}), 400)
    response = assert_page(web.post("/login", {"email": agent.email, "password": PASSWORD}), 400)
    assert "Too many failed attempts" in text_of(response)
    assert web.get("/agent/shifts").status_code == 302

    clock.freeze(clock.now() + timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"] - 1))
    assert "Too many failed attempts" in text_of(
        web.post("/login", {"email": agent.email, "password": PASSWORD}))
    clock.freeze(clock.now() + timedelta(minutes=1, seconds=1))
    assert redirected_to(web.post("/login", {"email": agent.email, "password": PASSWORD}), "/agent/shifts")
    session.refresh(agent)
    assert agent.failed_logins == 0 and agent.locked_until is None


def test_a_success_resets_the_failure_count(factory, web, make_browser, session):
    agent = factory.agent()
    for _ in range(4):
        web.post("/login", {"email": agent.email, "password": "wrong password"})
    web.login(agent.email)
    web.logout()
    for _ in range(4):
        web.post("/login", {"email": agent.email, "password": "wrong password"})
    english(make_browser()).login(agent.email)


def test_logout_ends_the_session_on_the_server(factory, web, make_browser):
    agent = factory.agent()
    web.login(agent.email)
    cookie = web.client.get_cookie("session").value
    assert_page(web.get("/agent/shifts"))
    assert redirected_to(web.logout(), "/")
    assert web.get("/agent/shifts").status_code == 302

    replay = english(make_browser())
    replay.client.set_cookie("session", cookie)
    response = replay.get("/agent/shifts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_copied_remember_me_cookie_dies_with_logout_too(factory, web, make_browser):
    agent = factory.agent()
    response = web.post("/login", {"email": agent.email, "password": PASSWORD, "remember": "y"})
    assert response.status_code == 302
    remember = web.client.get_cookie("remember_token")
    assert remember is not None
    replay = english(make_browser())
    replay.client.set_cookie("remember_token", remember.value)
    assert_page(replay.get("/agent/shifts"))  # the cookie alone logs in...
    web.logout()
    stale = english(make_browser())
    stale.client.set_cookie("remember_token", remember.value)
    assert stale.get("/agent/shifts").status_code == 302  # ...until the member logs out


def test_logout_needs_a_post_with_a_csrf_token(factory, web):
    agent = factory.agent()
    web.login(agent.email)
    assert_page(web.get("/logout"), 405)
    assert_page(web.post("/logout", csrf=False), 400)
    assert_page(web.get("/agent/shifts"))


def test_suspension_ends_a_live_session_at_once(factory, make_browser):
    agent = factory.agent()
    admin = factory.admin()
    agent_browser = logged_in(make_browser, agent)
    assert_page(agent_browser.get("/agent/shifts"))
    admin_browser = logged_in(make_browser, admin)
    response = admin_browser.post(f"/admin/members/{agent.id}/status/suspended", {"status-reason": "no-shows"})
    assert redirected_to(response, f"/admin/members/{agent.id}")
    response = agent_browser.get("/agent/shifts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    response = assert_page(agent_browser.post("/login", {"email": agent.email, "password": PASSWORD}), 400)
    assert "suspended" in text_of(response)


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com", "/\\evil.com", "\\\\evil.com",
                                    "http:/evil.com", "javascript:alert(1)", "//evil.com/%2F..", "/\t/evil.com",
                                    " //evil.com"])
def test_an_off_site_next_is_ignored_after_login(factory, web, target):
    agent = factory.agent()
    response = web.client.post("/login", query_string={"next": target},
                               data={"email": agent.email, "password": PASSWORD,
                                     "csrf_token": _token(web)})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil.com" not in location and "javascript" not in location
    assert location.startswith("/") and not location.startswith("//")


def test_a_same_site_next_is_followed(factory, web):
    agent = factory.agent()
    response = web.client.post("/login?next=/agent/my-shifts",
                               data={"email": agent.email, "password": PASSWORD, "csrf_token": _token(web)})
    assert redirected_to(response, "/agent/my-shifts")


def _token(browser):
    from tests.conftest import csrf_token

    return csrf_token(browser.client, browser.app)


# --- the admin CLI --------------------------------------------------------------------------

def test_flask_create_admin_makes_an_admin_who_can_log_in(app, make_browser, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", " Ops@Example.CN ", "--name", "运维",
                                 "--password", "admin password 1"])
    assert result.exit_code == 0, result.output
    admin = session.scalar(select(User).where(User.email == "ops@example.cn"))
    assert (admin.role, admin.status) == (Role.ADMIN, Status.ACTIVE)
    browser = english(make_browser())
    browser.login("ops@example.cn", "admin password 1")
    assert_page(browser.get("/admin/"))

    for args in (["--email", "ops@example.cn", "--password", "admin password 2"],  # taken
                 ["--email", "x@example.cn", "--password", "short"],  # too short
                 ["--email", "nope", "--password", "long enough"]):  # not an email
        refused = runner.invoke(args=["create-admin", *args])
        assert refused.exit_code == 1 and isinstance(refused.exception, SystemExit), refused.output
        assert refused.output.startswith("Error: ") and "Traceback" not in refused.output
    assert users(session) == 1
