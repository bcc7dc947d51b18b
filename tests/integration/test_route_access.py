"""The authorization matrix: every route, every kind of visitor, on real objects.

ROUTES lists every endpoint of the URL map with who may use it (its area) and, for object routes, whose
object it is (its tenant). One small world is built per visitor walk (`world` below): agent A holds
claims on client organisation X's campaign (one worked and settled, one checked in with a call list
in front of it, one in the future), agent B, client organisation Y, an admin and a suspended agent.
Every URL argument is taken from that world, so the walk asks for objects that exist:

  visitor        who                             object routes of their area answer
  anonymous      no session                      302 to /login
  agent          agent A (owns the claims)       the route's success classes
  other_agent    agent B                         404 on A's objects (tenant "agent")
  client         a user of organisation X        the route's success classes
  other_client   a user of organisation Y        404 on X's objects (tenant "client")
  admin          an admin                        the route's success classes
  suspended      an agent suspended mid-session  302 to /login (the session ended)

A wrong role gets 403. "api" routes (token-authenticated JSON under /api/v1) answer 401 JSON to every
visitor here: a browser session is not a token. A route missing from ROUTES fails the test; a URL
argument the world does not know fails it too, saying which one to add.

Success classes: OK is a 2xx or a redirect that is not to the login page. POSTs are sent with an empty
form (plus the CSRF token), so the owner may also get 400 or 422 (the form's own errors); 409 is listed where
the world's state makes the action impossible (e.g. publishing a published campaign) and says so.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.api import services as api
from app.claims import services as claims
from app.contacts import services as contacts
from app.contacts.models import ContactAttempt
from app.core import clock
from app.kb import services as kb
from app.ledger import services as ledger
from app.ledger.models import Settlement
from app.members import services as members
from app.members.models import Status
from app.notifications import services as notifications
from app.notifications.models import Notification
from app.quality.models import QaFlag
from app.training import services as academy
from app.webhooks import services as webhooks
from app.work import services as work
from tests.factories import PASSWORD
from tests.integration.academy_helpers import catalogue, pass_required, take
from tests.integration.contacts_support import csv_bytes, import_directly, phones
from tests.ledger_support import settle, top_up, work_shift

OK = "ok"  # 2xx, or a redirect that is not to the login page
LOGIN = "login"  # 302 to /login
VISITORS = ("anonymous", "agent", "other_agent", "client", "other_client", "admin", "suspended")
ROLE_OF = {"agent": "agent", "other_agent": "agent", "client": "client", "other_client": "client", "admin": "admin"}
GET_OK, POST_OK = frozenset({OK}), frozenset({OK, 400, 422})  # 400/422: the empty form's errors


@dataclass(frozen=True)
class Route:
    area: str  # public | user | agent | client | admin | client+admin | agent+admin | api
    tenant: str | None = None  # "agent" | "client": the object belongs to agent A / organisation X
    at: dict = field(default_factory=dict)  # URL argument -> world object name (default: the argument's name)
    get: frozenset = GET_OK  # what a permitted visitor gets for GET ...
    post: frozenset = POST_OK  # ... and for POST
    cells: dict = field(default_factory=dict)  # visitor -> expected answers, overriding the rules


def r(area: str, tenant: str | None = None, *, at: dict | None = None, get=GET_OK, post=POST_OK, **cells) -> Route:
    return Route(area, tenant, at or {}, frozenset(get), frozenset(post),
                 {who: frozenset(answers) for who, answers in cells.items()})


CONFLICT = (OK, 400, 409, 422)  # the world's state may refuse the action (said per route)
KB, PLATFORM_KB = {"article_id": "kb_article"}, {"article_id": "platform_article"}

# Walked in this order (state-changing routes last within their domain: a check-out ends the console).
ROUTES: dict[str, Route] = {
    # -- public pages (everyone: the page, or the form's errors)
    "main.index": r("public"), "main.healthz": r("public"), "main.readyz": r("public"),
    "main.set_language": r("public"), "auth.login": r("public"), "auth.register_agent": r("public"),
    "auth.register_client": r("public"),
    "auth.accept_invitation": r("public", get={404}, post={404}),  # the world's token does not exist
    "quality.survey": r("public", get={404}, post={404}),  # ditto
    # -- any signed-in member
    "main.notifications_page": r("user"), "main.notification_preferences": r("user"),
    # agent A's notification: every other member gets a 404
    "main.notification_read": r("user", other_agent={404}, client={404}, other_client={404}, admin={404}),
    # -- clients: organisation X's campaign, shifts, call list, settlement
    "auth.team": r("client"),
    "campaigns.index": r("client"), "campaigns.new": r("client"),
    "campaigns.detail": r("client", "client"), "campaigns.edit": r("client", "client"),
    "campaigns.generate": r("client", "client"),
    "campaigns.edit_shift": r("client", "client", at={"shift_id": "free_shift"}),
    "campaigns.publish": r("client", "client", post={409}),  # already published
    "contacts.campaign_contacts": r("client", "client"), "contacts.upload": r("client", "client"),
    "contacts.call_list": r("client", "client"), "contacts.error_file": r("client", "client"),
    "quality.campaign_quality": r("client", "client"),
    "quality.rate_shift": r("client", "client", at={"claim_id": "worked_claim"}),
    "quality.decide_flag": r("client+admin", "client"),
    "ledger.wallet": r("client"), "ledger.top_up": r("client"),
    "ledger.dispute": r("client", "client", at={"settlement_id": "disputed_settlement"}),
    # insight dashboards (X's campaign) and the organisation's settings: API tokens, webhook endpoints
    "insight.campaign_dashboard": r("client", "client"), "insight.campaign_dashboard_csv": r("client", "client"),
    "insight.campaign_dashboard_xlsx": r("client", "client"), "insight.voice": r("client", "client"),
    "api_settings.tokens": r("client"), "api_settings.revoke": r("client", "client"),
    "webhooks.settings": r("client"), "webhooks.send_test": r("client", "client"),
    "webhooks.disable": r("client", "client"), "webhooks.enable": r("client", "client"),
    "webhooks.delete": r("client", "client"),
    "campaigns.remove_shift": r("client", "client", at={"shift_id": "free_shift"}),
    "campaigns.cancel": r("client", "client"),
    # -- agents: the board is everyone's; A's claims are A's
    "claims.board": r("agent"), "claims.my_shifts": r("agent"), "claims.shift_page": r("agent"),
    "contacts.console": r("agent", "agent"), "contacts.next_contact": r("agent", "agent"),
    "contacts.reveal": r("agent", "agent"), "contacts.outcome": r("agent", "agent"),
    "contacts.log_inbound": r("agent", "agent", post=CONFLICT),  # an outbound campaign
    # -- the knowledge base: X's campaign articles are for X's users and the agents holding seats in it
    "kb.campaign_articles": r("client", "client"), "kb.new_campaign_article": r("client", "client"),
    "kb.client_article": r("client", "client", at=KB), "kb.edit_article": r("client", "client", at=KB),
    "kb.archive_article": r("client", "client", at=KB),
    "kb.agent_article": r("agent", "agent", at=KB), "kb.agent_search": r("agent", "agent"),
    "kb.assist": r("agent", "agent"), "kb.feedback": r("agent", "agent", at=KB),
    "kb.admin_articles": r("admin"), "kb.admin_new": r("admin"),
    "kb.admin_article": r("admin", at=PLATFORM_KB), "kb.admin_edit": r("admin", at=PLATFORM_KB),
    "kb.admin_archive": r("admin", at=PLATFORM_KB),
    "work.check_in": r("agent", "agent", at={"claim_id": "future_claim"}, post=CONFLICT),  # not yet open
    "work.check_out": r("agent", "agent"),
    "claims.release": r("agent", "agent", at={"claim_id": "future_claim"}),
    "quality.my_rating": r("agent"), "quality.rate_campaign": r("agent"),
    "ledger.earnings": r("agent"), "ledger.request_payout": r("agent"),
    # after the knowledge base: a seat in X's campaign would let B read X's articles
    "claims.claim": r("agent", at={"shift_id": "free_shift"}),
    "claims.join_waitlist": r("agent", at={"shift_id": "free_shift"}, post=CONFLICT),  # seats are free
    "claims.leave_waitlist": r("agent", at={"shift_id": "free_shift"}, post={OK, 400, 404}),  # not on it: 404
    # -- the Academy: A's attempt and certification are A's; Q&A and articles are shared
    "training.index": r("agent+admin"), "training.course": r("agent+admin"), "training.lesson": r("agent+admin"),
    "training.leaderboard": r("agent+admin"), "training.questions": r("agent+admin"),
    "training.ask": r("agent+admin"), "training.question": r("agent+admin"), "training.answer": r("agent+admin"),
    "training.articles": r("agent+admin"), "training.article": r("agent+admin"),
    "training.new_article": r("agent+admin", agent={403}, other_agent={403}),  # experts and admins write
    "training.accept": r("agent+admin", agent={403}, other_agent={403}),  # ditto
    "training.attempt": r("agent", "agent"), "training.submit": r("agent", "agent", post={409}),  # submitted
    "training.recording": r("agent+admin", "agent"),
    "training.upload_recording": r("agent", "agent", post={400, 409}),  # in review already
    "training.start": r("agent", at={"slug": "required_course"}, post=CONFLICT),  # A passed it already
    "training.assessment": r("agent", at={"slug": "assessment"}),
    # -- the JSON API: a bearer token, never a browser session (its description is public)
    "api.openapi_document": r("public"),
    "api.list_campaigns": r("api"), "api.create_campaign": r("api"), "api.get_campaign": r("api"),
    "api.campaign_stats": r("api"), "api.campaign_contacts": r("api"), "api.add_shifts": r("api"),
    "api.publish_campaign": r("api"), "api.upload_call_list": r("api"), "api.get_call_list": r("api"),
    # -- admins
    "admin.index": r("admin"), "insight.admin_dashboard": r("admin"), "admin.members": r("admin"),
    "admin.verification": r("admin"),
    "admin.member": r("admin"), "admin.campaigns": r("admin"), "admin.audit": r("admin"),
    "admin.verify": r("admin", post=CONFLICT), "admin.grant_tag": r("admin"), "admin.revoke_tag": r("admin"),
    "admin.set_tier": r("admin"), "admin.set_status": r("admin"),
    "ledger.admin_money": r("admin"), "ledger.approve_payout": r("admin"), "ledger.uphold_dispute": r("admin"),
    # decided a moment ago by approve_payout / uphold_dispute
    "ledger.reject_payout": r("admin", post={409}), "ledger.reject_dispute": r("admin", post={409}),
    "quality.admin_flags": r("admin"),
    "training_admin.index": r("admin"), "training_admin.review": r("admin"), "training_admin.approve": r("admin"),
    "training_admin.reject": r("admin"), "training_admin.course_stats": r("admin"),
    # -- last: it ends the session the walk relies on
    "auth.logout": r("user"),
}


# ------------------------------------------------------------------------------------------- the world


def _world(app, session, factory, tmp_path, monkeypatch) -> dict:
    """The objects every URL argument points at, built once per walk through the real services."""
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "ACADEMY_UPLOAD_DIR", str(tmp_path / "academy"))
    t0 = clock.now()
    admin = factory.admin()
    agent_a, agent_b, suspended = factory.agent(), factory.agent(), factory.agent()
    client_x, client_y = factory.client(), factory.client()

    # Organisation X's funded outbound campaign: two shifts A works (settled), one A works now, one A holds,
    # one nobody holds.
    campaign = factory.campaign(client_x, tags=(), kind="outbound_marketing", publish=False, rate_fen=6000,
                                shifts=[(1, 2, 5), (50, 2, 5), (52.9, 4, 5), (100, 2, 5), (120, 2, 5)])
    campaign.budget_fen = 1_000_000
    session.commit()
    top_up(session, client_x.organisation_id, 1_000_000)
    ledger.publish_and_fund(session, campaign, t0)
    session.commit()
    first, second, current, future, free = factory.shifts(campaign)
    worked = work_shift(session, agent_a, first)
    settle(session, now=first.ends_at + timedelta(hours=1))
    work_shift(session, agent_a, second)
    settle(session, now=second.ends_at + timedelta(minutes=30))
    current_claim = claims.claim_shift(session, agent=agent_a, shift_id=current.id, now=t0)
    future_claim = claims.claim_shift(session, agent=agent_a, shift_id=future.id, now=t0)
    session.commit()

    now = t0 + timedelta(hours=53)
    clock.freeze(now)
    work.check_in(session, agent_id=agent_a.id, claim_id=current_claim.id, now=now, opens=timedelta(minutes=15),
                  grace=timedelta(minutes=10))
    session.commit()
    settlements = list(session.scalars(select(Settlement).order_by(Settlement.id)))
    payout = ledger.request_payout(session, agent_id=agent_a.id, amount_fen=10_000, now=now, min_fen=10_000)
    dispute = ledger.contest_settlement(session, organisation_id=client_x.organisation_id, user_id=client_x.id,
                                        settlement_id=settlements[1].id, reason="too long", now=now)
    session.commit()

    rows = [f"客户,{p}," for p in phones(3)] + ["坏号码,12345,"]  # one rejected row: the list has an error file
    call_list = import_directly(session, campaign, client_x, csv_bytes(rows), tmp_path / "uploads")
    called = contacts.next_contact(session, agent_id=agent_a.id, claim_id=current_claim.id, now=now)
    session.commit()
    contacts.record_outcome(session, agent_id=agent_a.id, claim_id=current_claim.id, contact_id=called, now=now,
                            data=contacts.OutcomeInput(outcome="no_answer", duration_seconds=20))
    held = contacts.next_contact(session, agent_id=agent_a.id, claim_id=current_claim.id, now=now)
    session.commit()
    attempt_id = session.scalar(select(ContactAttempt.id).where(ContactAttempt.contact_id == called))
    flag = QaFlag(attempt_id=attempt_id, campaign_id=campaign.id, claim_id=current_claim.id, agent_id=agent_a.id,
                  rule="forbidden_word", detail="保证", created_at=now)
    session.add(flag)
    notifications.notify(session, user_ids=[agent_a.id], kind="member.verified", payload={}, now=now)
    notification_id = session.scalar(select(Notification.id).where(Notification.user_id == agent_a.id)
                                     .order_by(Notification.id.desc()))
    token = api.create_token(session, user=client_x, name="CRM", scope="read", expires_at=None, now=now).token
    endpoint = webhooks.create_endpoint(session, organisation_id=client_x.organisation_id, user_id=client_x.id,
                                        url="https://crm.example.cn/hooks", events=["campaign.filled"],
                                        allow_private=False, now=now)
    kb_article = kb.create_article(session, author=client_x, campaign=campaign, now=now, data=kb.ArticleInput(
        kind="faq", title="退货政策", body="七天无理由退货"))
    platform_article = kb.create_article(session, author=admin, campaign=None, now=now, data=kb.ArticleInput(
        kind="policy", title="隐私", body="不要泄露手机号"))
    session.commit()

    # The Academy: A passes the required courses and the mock-call course, and uploads the recording.
    pass_required(session, agent_a)
    academy.submit_assessment(session, agent_id=agent_a.id, slug="psych", now=now,
                              responses={i.id: (1 if i.reverse else 5) for i in catalogue().psych.items})
    outcome = take(session, agent_a, "complaint-handling")
    academy.upload_recording(session, agent_id=agent_a.id, certification_id=outcome.certification.id,
                             filename="call.mp3", stream=io.BytesIO(b"ID3" + b"\x00" * 500),
                             upload_dir=tmp_path / "academy", max_bytes=10_000, now=now)
    question = academy.ask_question(session, author=agent_a, title="怎么安抚客户?", body="求助", course_slug=None,
                                    now=now)
    answer = academy.answer_question(session, author=agent_b, question_id=question.id, body="先道歉", now=now)
    article = academy.publish_article(session, author=admin, kind="talk", title="双11 经验", body_markdown="**好**",
                                      course_slug=None, now=now)
    session.commit()

    return {
        "users": {"agent": agent_a, "other_agent": agent_b, "client": client_x, "other_client": client_y,
                  "admin": admin, "suspended": suspended},
        "admin_user": admin,
        # URL arguments by name (the default) and the named objects routes pick with `at`
        "campaign_id": campaign.id, "shift_id": current.id, "free_shift": free.id,
        "claim_id": current_claim.id, "worked_claim": worked.id, "future_claim": future_claim.id,
        "contact_id": held, "call_list_id": call_list.id,
        "settlement_id": settlements[1].id, "disputed_settlement": settlements[1].id,
        "payout_id": payout.id, "dispute_id": dispute.id, "flag_id": flag.id, "decision": "confirm",
        "slug": "complaint-handling", "name": catalogue().course("complaint-handling").lessons[0].name,
        "required_course": catalogue().required_slugs[0], "assessment": "psych",
        "attempt_id": outcome.attempt.id, "certification_id": outcome.certification.id,
        "question_id": question.id, "answer_id": answer.id, "article_id": article.id,
        "token_id": token.id, "endpoint_id": endpoint.id, "notification_id": notification_id,
        "kb_article": kb_article.id, "platform_article": platform_article.id,
        "user_id": agent_a.id, "tag_code": "industry.telecom", "status": "suspended",
        "token": "no-such-token",
    }


def _url_arguments(world: dict, endpoint: str, rule) -> dict:
    route = ROUTES[endpoint]
    values = {}
    for arg in rule.arguments:
        name = route.at.get(arg, arg)
        assert name in world, f"{endpoint}: the world has no object for <{arg}>; add one to _world()"
        values[arg] = world[name]
    return values


def _rules(app):
    by_endpoint: dict[str, list] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static":
            by_endpoint.setdefault(rule.endpoint, []).append(rule)
    return by_endpoint


def expected(route: Route, method: str, visitor: str) -> frozenset:
    """The answers the table promises this visitor for this route and method."""
    if visitor in route.cells:
        return route.cells[visitor]
    if route.area == "api":
        return frozenset({401})
    if route.area == "public":
        return route.get if method == "GET" else route.post
    if visitor in ("anonymous", "suspended"):
        return frozenset({LOGIN})
    role = ROLE_OF[visitor]
    if route.area != "user" and role not in route.area.split("+"):
        return frozenset({403})
    if route.tenant and visitor == f"other_{route.tenant}":
        return frozenset({404})
    return route.get if method == "GET" else route.post


def answer_class(response) -> str | int:
    status = response.status_code
    to_login = status in (301, 302, 303, 307, 308) and "/login" in response.headers.get("Location", "")
    if to_login:
        return LOGIN
    if status < 400:
        return OK
    return status


# ------------------------------------------------------------------------------------------- the tests


def test_every_route_is_in_the_access_table(app):
    endpoints = set(_rules(app))
    assert sorted(endpoints - set(ROUTES)) == [], "add new routes to ROUTES with who may use them"
    assert sorted(set(ROUTES) - endpoints) == [], "remove routes that no longer exist from ROUTES"


def test_the_table_only_names_known_areas_and_tenants():
    areas = {"public", "user", "agent", "client", "admin", "client+admin", "agent+admin", "api"}
    for endpoint, route in ROUTES.items():
        assert route.area in areas, endpoint
        assert route.tenant in (None, "agent", "client"), endpoint
        assert route.tenant is None or route.tenant in route.area.split("+"), endpoint
        assert set(route.cells) <= set(VISITORS), endpoint


@pytest.fixture
def world(app, session, factory, tmp_path, monkeypatch):
    return _world(app, session, factory, tmp_path, monkeypatch)


@pytest.mark.parametrize("visitor", VISITORS)
def test_each_visitor_gets_the_answer_the_table_promises(app, session, make_browser, world, visitor):
    browser = make_browser()
    if visitor != "anonymous":
        user = world["users"][visitor]
        browser.login(user.email, PASSWORD)
        if visitor == "suspended":  # suspended while signed in: the live session must end
            members.set_status(session, admin=world["admin_user"], user_id=user.id, status=Status.SUSPENDED,
                               reason="test", now=clock.now())
            session.commit()
    rules = _rules(app)
    wrong = []
    for endpoint, route in ROUTES.items():
        for rule in rules.get(endpoint, []):
            url = rule.build(_url_arguments(world, endpoint, rule))[1]
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = browser.get(url) if method == "GET" else browser.post(url, {})
                got = answer_class(response)
                response.close()
                want = expected(route, method, visitor)
                if got not in want:
                    wrong.append((endpoint, method, url, got, sorted(want, key=str)))
                elif route.area == "api":
                    assert response.is_json, (endpoint, method, url)
                session.rollback()  # see the requests' commits, not this session's stale objects
    assert wrong == [], "\n".join(f"{e} {m} {u}: got {g}, table says {w}" for e, m, u, g, w in wrong)


def test_a_suspended_visitors_public_pages_still_work_and_private_ones_ask_to_log_in(app, session, make_browser,
                                                                                      factory):
    agent = factory.agent()
    browser = make_browser()
    browser.login(agent.email, PASSWORD)
    assert browser.get("/agent/shifts").status_code == 200
    members.set_status(session, admin=factory.admin(), user_id=agent.id, status=Status.SUSPENDED, reason="test",
                       now=clock.now())
    session.commit()
    assert answer_class(browser.get("/agent/shifts")) == LOGIN
    assert browser.get("/").status_code == 200
