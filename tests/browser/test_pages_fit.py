"""Every page of each role's menus, filled with data, fits a 375 px phone in Chinese and English.

The journeys walk one path; this tour opens the other pages each role can reach (lists, details, forms), after a
shift has been worked and settled so tables and histories have rows. Pages of areas the app does not have
(yet) are left out by endpoint name.
"""

from __future__ import annotations

from datetime import timedelta

from app.campaigns.models import Shift
from app.core import clock
from tests.browser.data import outbound_campaign
from tests.factories import PASSWORD
from tests.integration.academy_helpers import pass_required
from tests.ledger_support import settle, work_shift

PUBLIC = [
    ("main.index", "/"),
    ("auth.login", "/login"),
    ("auth.register_agent", "/register/agent"),
    ("auth.register_client", "/register/business"),
]
AGENT = [
    ("claims.board", "/agent/shifts"),
    ("claims.shift_page", "/agent/shifts/{shift_id}"),
    ("claims.my_shifts", "/agent/my-shifts"),
    ("quality.my_rating", "/agent/rating"),
    ("quality.rate_campaign", "/agent/campaigns/{campaign_id}/rate"),
    ("ledger.earnings", "/agent/earnings"),
    ("training.index", "/academy/"),
    ("training.course", "/academy/courses/outbound-reactivation"),
    ("training.lesson", "/academy/courses/onboarding/lessons/{lesson}"),
    ("training.leaderboard", "/academy/leaderboard"),
    ("training.questions", "/academy/questions"),
    ("training.ask", "/academy/questions/new"),
    ("training.articles", "/academy/articles"),
    ("main.notifications_page", "/notifications"),
]
CLIENT = [
    ("campaigns.index", "/client/"),
    ("campaigns.detail", "/client/campaigns/{campaign_id}"),
    ("campaigns.edit", "/client/campaigns/{campaign_id}/edit"),
    ("contacts.campaign_contacts", "/client/campaigns/{campaign_id}/contacts"),
    ("contacts.call_list", "/client/call-lists/{call_list_id}"),
    ("quality.campaign_quality", "/client/campaigns/{campaign_id}/quality"),
    ("insight.campaign_dashboard", "/client/campaigns/{campaign_id}/dashboard"),
    ("insight.voice", "/client/campaigns/{campaign_id}/voice"),
    ("kb.campaign_articles", "/client/campaigns/{campaign_id}/kb"),
    ("campaigns.new", "/client/campaigns/new"),
    ("ledger.wallet", "/client/wallet"),
    ("auth.team", "/team"),
    ("webhooks.settings", "/client/settings/webhooks"),
    ("main.notifications_page", "/notifications"),
]
ADMIN = [
    ("admin.index", "/admin/"),
    ("admin.verification", "/admin/verification"),
    ("admin.members", "/admin/members"),
    ("admin.member", "/admin/members/{agent_id}"),
    ("admin.campaigns", "/admin/campaigns"),
    ("ledger.admin_money", "/admin/money"),
    ("quality.admin_flags", "/admin/quality/flags"),
    ("admin.audit", "/admin/audit"),
    ("training_admin.index", "/admin/academy/"),
    ("training_admin.course_stats", "/admin/academy/courses/onboarding"),
    ("insight.admin_dashboard", "/admin/dashboard"),
    ("kb.admin_articles", "/admin/kb"),
]


def _tour(device, app, pages, ids) -> int:
    seen = 0
    for endpoint, path in pages:
        if endpoint not in app.view_functions:
            continue
        seen += 1
        if device.path() == path.format(**ids):
            continue  # the home page the login led to, already checked
        response = device.goto(path.format(**ids), endpoint)
        assert response.status == 200, (path, response.status)
    return seen


def test_every_menu_page_fits_the_phone(phone, lang, app, session, factory, tmp_path):
    admin = factory.admin()
    agent = factory.agent()
    factory.agent(status="pending")  # someone in the verification queue
    pass_required(session, agent)
    outbound = outbound_campaign(factory, session, tmp_path, lang)
    work_shift(session, agent, session.get(Shift, outbound.shift_id))
    clock.freeze(outbound.ends_at + timedelta(minutes=5))
    settle(session)
    ids = {"campaign_id": outbound.campaign_id, "shift_id": outbound.shift_id, "agent_id": agent.id,
           "call_list_id": outbound.call_list_id, "lesson": "01-shifts-claims-and-check-in"}
    emails = {"agent": agent.email, "client": outbound.owner_email, "admin": admin.email}
    session.commit()

    guest = phone("guest")
    seen = _tour(guest, app, PUBLIC, ids)
    for who, pages in (("agent", AGENT), ("client", CLIENT), ("admin", ADMIN)):
        device = phone(who)
        device.login(emails[who], PASSWORD)
        seen += _tour(device, app, pages, ids)
    assert seen >= len(PUBLIC) + 35
