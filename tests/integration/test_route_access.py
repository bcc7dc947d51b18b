"""Every route, every kind of visitor: who gets in, who is refused, and nobody gets a 500.

A first authorization matrix at the level of roles (objects that do not exist answer 404 to the right
role, 403 to a wrong one, and anonymous visitors go to the login page). Object-level tenancy (another
client's campaign, another agent's claim) is tested per domain. A route missing from AREAS fails the test.
"""

import pytest

from tests.factories import PASSWORD

# endpoint -> who may use it: public | user | agent | client | admin | client+admin
AREAS = {
    "main.index": "public", "main.set_language": "public", "main.healthz": "public", "main.readyz": "public",
    "auth.login": "public", "auth.register_agent": "public", "auth.register_client": "public",
    "auth.accept_invitation": "public", "quality.survey": "public",
    "main.notifications_page": "user", "auth.logout": "user",
    "auth.team": "client",
    "campaigns.index": "client", "campaigns.new": "client", "campaigns.detail": "client", "campaigns.edit": "client",
    "campaigns.generate": "client", "campaigns.edit_shift": "client", "campaigns.remove_shift": "client",
    "campaigns.publish": "client", "campaigns.cancel": "client",
    "claims.board": "agent", "claims.shift_page": "agent", "claims.claim": "agent", "claims.join_waitlist": "agent",
    "claims.leave_waitlist": "agent", "claims.release": "agent", "claims.my_shifts": "agent",
    "admin.index": "admin", "admin.members": "admin", "admin.verification": "admin", "admin.member": "admin",
    "admin.verify": "admin", "admin.grant_tag": "admin", "admin.revoke_tag": "admin", "admin.set_status": "admin",
    "admin.set_tier": "admin", "admin.campaigns": "admin", "admin.audit": "admin",
    "work.check_in": "agent", "work.check_out": "agent",
    "ledger.wallet": "client", "ledger.top_up": "client", "ledger.dispute": "client", "ledger.earnings": "agent",
    "ledger.request_payout": "agent", "ledger.admin_money": "admin", "ledger.approve_payout": "admin",
    "ledger.reject_payout": "admin", "ledger.uphold_dispute": "admin", "ledger.reject_dispute": "admin",
    "training.index": "agent+admin", "training.course": "agent+admin", "training.lesson": "agent+admin",
    "training.start": "agent", "training.attempt": "agent", "training.submit": "agent",
    "training.upload_recording": "agent", "training.recording": "agent+admin", "training.assessment": "agent",
    "training.leaderboard": "agent+admin", "training.questions": "agent+admin", "training.ask": "agent+admin",
    "training.question": "agent+admin", "training.answer": "agent+admin", "training.accept": "agent+admin",
    "training.articles": "agent+admin", "training.new_article": "agent+admin", "training.article": "agent+admin",
    "training_admin.index": "admin", "training_admin.review": "admin", "training_admin.approve": "admin",
    "training_admin.reject": "admin", "training_admin.course_stats": "admin",
    "contacts.campaign_contacts": "client", "contacts.upload": "client", "contacts.call_list": "client",
    "contacts.error_file": "client", "contacts.console": "agent", "contacts.next_contact": "agent",
    "contacts.reveal": "agent", "contacts.outcome": "agent", "contacts.log_inbound": "agent",
    "quality.campaign_quality": "client", "quality.rate_shift": "client", "quality.decide_flag": "client+admin",
    "quality.admin_flags": "admin", "quality.my_rating": "agent", "quality.rate_campaign": "agent",
}

# Values for URL arguments: objects that do not exist, so a permitted role must answer 404 (never 500).
ARGS = {"slug": "no-such-course", "name": "no-such-lesson", "token": "no-such-token", "tag_code": "industry.telecom",
        "status": "suspended", "decision": "confirm"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = rule.build({arg: ARGS.get(arg, 987654321) for arg in rule.arguments})[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url, bool(rule.arguments)


def test_every_route_is_in_the_access_table(app):
    endpoints = {endpoint for endpoint, *_ in _routes(app)}
    assert sorted(endpoints - set(AREAS)) == [], "add new routes to AREAS with who may use them"
    assert sorted(set(AREAS) - endpoints) == []


@pytest.mark.parametrize("who", ["anonymous", "agent", "client", "admin", "suspended"])
def test_each_visitor_gets_the_answer_the_table_promises(app, factory, make_browser, who):
    browser = make_browser()
    if who != "anonymous":
        user = {"agent": lambda: factory.agent(), "client": lambda: factory.client(), "admin": lambda: factory.admin(),
                "suspended": lambda: factory.agent()}[who]()
        browser.login(user.email, PASSWORD)
        if who == "suspended":
            from app.core import clock
            from app.core.db import db
            from app.members import services

            services.set_status(db.session, admin=factory.admin(), user_id=user.id, status="suspended",
                                reason="test", now=clock.now())
            db.session.commit()
    role = "anonymous" if who in ("anonymous", "suspended") else who
    wrong = []
    for endpoint, method, url, has_object in _routes(app):
        if endpoint in ("auth.logout", "main.set_language"):
            continue  # they end or change the session the walk relies on
        area = AREAS[endpoint]
        response = browser.get(url) if method == "GET" else browser.post(url, {})
        status = response.status_code
        if status >= 500:
            wrong.append((method, url, status))
            continue
        if area == "public":
            continue
        allowed = area == "user" or role in area.split("+")
        if role == "anonymous":
            ok = status == 302 and "/login" in response.headers.get("Location", "")
        elif not allowed:
            ok = status == 403
        elif has_object:
            ok = status in (400, 404)  # the object does not exist (400: a form refused before the lookup)
        else:
            ok = status < 500
        if not ok:
            wrong.append((method, url, status))
    assert wrong == []
