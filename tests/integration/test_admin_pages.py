"""The admin area: access, the verification queue, tags, suspension, member search, campaigns, audit."""

import pytest
from sqlalchemy import select

from app.members.models import AgentTag, AuditLog, Status, Tag, Tier, User
from app.notifications.models import Notification
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of


@pytest.fixture
def admin(factory):
    return factory.admin()


@pytest.fixture
def web(make_browser, admin):
    return logged_in(make_browser, admin)


def live_tags(session, user_id) -> set[str]:
    return set(session.scalars(select(Tag.code).join(AgentTag, AgentTag.tag_id == Tag.id).where(
        AgentTag.agent_id == user_id, AgentTag.revoked_at.is_(None))))


def audit_actions(session, user_id) -> list[str]:
    return list(session.scalars(select(AuditLog.action).where(AuditLog.target_id == user_id).order_by(AuditLog.id)))


def admin_routes(user_id):
    return [
        ("GET", "/admin/", None), ("GET", "/admin/members", None), ("GET", "/admin/verification", None),
        ("GET", f"/admin/members/{user_id}", None), ("GET", "/admin/campaigns", None), ("GET", "/admin/audit", None),
        ("POST", f"/admin/members/{user_id}/verify", {}),
        ("POST", f"/admin/members/{user_id}/tags", {"tag": "industry.finance", "reason": "x"}),
        ("POST", f"/admin/members/{user_id}/tags/lang.mandarin/revoke", {"revoke-reason": "x"}),
        ("POST", f"/admin/members/{user_id}/status/suspended", {"status-reason": "x"}),
        ("POST", f"/admin/members/{user_id}/tier", {"tier-tier": "3", "tier-reason": "x"}),
    ]


def test_non_admins_are_forbidden_on_every_admin_route_and_nothing_changes(factory, make_browser, session):
    target = factory.agent(status="pending")
    for user in (factory.agent(), factory.client(), factory.agent(status="pending")):
        browser = logged_in(make_browser, user)
        for method, url, data in admin_routes(target.id):
            assert_page(browser.get(url) if method == "GET" else browser.post(url, data), 403)
    anonymous = english(make_browser())
    for method, url, data in admin_routes(target.id):
        response = anonymous.get(url) if method == "GET" else anonymous.post(url, data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    session.refresh(target)
    assert (target.status, target.tier) == (Status.PENDING, Tier.TRAINEE)
    assert live_tags(session, target.id) == set()


def test_every_admin_page_renders_for_an_admin(web, factory):
    agent = factory.agent(tags=("industry.ecommerce",))
    factory.campaign()
    for method, url, _ in admin_routes(agent.id):
        if method == "GET":
            assert_page(web.get(url))


# --- verification ---------------------------------------------------------------------------

def test_the_queue_lists_pending_agents_and_verify_activates_grants_languages_and_audits(web, admin, factory,
                                                                                        session):
    waiting = factory.agent(status="pending", languages=("lang.mandarin", "lang.cantonese"), city="广州")
    active = factory.agent()
    queue = text_of(assert_page(web.get("/admin/verification")))
    assert waiting.email in queue and active.email not in queue and "广州" in queue
    assert "Cantonese" in queue
    assert waiting.email in text_of(web.get("/admin/"))

    response = web.post(f"/admin/members/{waiting.id}/verify", {"back": "queue"})
    assert redirected_to(response, "/admin/verification")
    page = text_of(web.get("/admin/verification"))
    assert "Agent verified." in page and waiting.email not in page and "Nobody is waiting." in page
    session.refresh(waiting)
    assert waiting.status == Status.ACTIVE and waiting.verified_at is not None
    assert live_tags(session, waiting.id) == {"lang.mandarin", "lang.cantonese"}
    entry = session.scalar(select(AuditLog).where(AuditLog.action == "agent.verify",
                                                  AuditLog.target_id == waiting.id))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "user", waiting.id)
    assert session.scalar(select(Notification.kind).where(Notification.user_id == waiting.id)) == "member.verified"

    again = assert_page(web.post(f"/admin/members/{waiting.id}/verify"), 409)
    assert "not waiting for verification" in text_of(again)
    assert audit_actions(session, waiting.id).count("agent.verify") == 1


def test_verifying_from_the_member_page_comes_back_to_it(web, factory, session):
    waiting = factory.agent(status="pending")
    page = web.get(f"/admin/members/{waiting.id}").get_data(as_text=True)
    assert f'action="/admin/members/{waiting.id}/verify"' in page
    assert redirected_to(web.post(f"/admin/members/{waiting.id}/verify"), f"/admin/members/{waiting.id}")


def test_only_agents_can_be_verified_and_missing_members_are_not_found(web, factory):
    client = factory.client()
    assert_page(web.post(f"/admin/members/{client.id}/verify"), 404)
    assert_page(web.post("/admin/members/999999/verify"), 404)
    assert_page(web.get("/admin/members/999999"), 404)
    assert_page(web.get("/admin/members/abc"), 404)
    assert_page(web.get("/admin/members/99999999999999999999"), 404)


# --- tags --------------------------------------------------------------------------------------

def test_an_admin_grants_and_revokes_a_tag_with_a_reason(web, admin, factory, session):
    agent = factory.agent()
    response = web.post(f"/admin/members/{agent.id}/tags", {"tag": "industry.finance", "reason": "bank pilot",
                                                            "expires_on": "2027-06-30"})
    assert redirected_to(response, f"/admin/members/{agent.id}")
    page = text_of(web.get(f"/admin/members/{agent.id}"))
    assert "Tag granted." in page and "Banking & finance" in page and "2027-06-30" in page
    assert "industry.finance" in live_tags(session, agent.id)
    grant = session.scalar(select(AuditLog).where(AuditLog.action == "tag.grant"))
    assert grant.detail["tag"] == "industry.finance" and grant.detail["reason"] == "bank pilot"
    assert grant.actor_id == admin.id

    response = web.post(f"/admin/members/{agent.id}/tags/industry.finance/revoke", {"revoke-reason": "complaints"})
    assert redirected_to(response, f"/admin/members/{agent.id}")
    page = text_of(web.get(f"/admin/members/{agent.id}"))
    assert "Tag revoked." in page and "revoked: complaints" in page
    assert "industry.finance" not in live_tags(session, agent.id)
    assert audit_actions(session, agent.id)[-2:] == ["tag.grant", "tag.revoke"]


@pytest.mark.parametrize("data, message", [
    ({"tag": "industry.finance", "reason": ""}, "This field is required."),
    ({"tag": "industry.finance", "reason": "   "}, "This field is required."),
    ({"tag": "industry.finance"}, "This field is required."),
    ({"tag": "industry.finance", "reason": "x" * 501}, None),
    ({"tag": "skill.hacking", "reason": "why not"}, "Not a valid choice"),
    ({"tag": "", "reason": "why not"}, None),
    ({"tag": "industry.finance", "reason": "ok", "expires_on": "2026-10-01"}, "The expiry must be in the future."),
    ({"tag": "industry.finance", "reason": "ok", "expires_on": "2026-02-31"}, None),
])
def test_a_bad_grant_is_a_400_with_a_message_and_grants_nothing(web, factory, session, data, message):
    agent = factory.agent()
    before = audit_actions(session, agent.id)
    response = assert_page(web.post(f"/admin/members/{agent.id}/tags", data), 400)
    if message:
        assert message in text_of(response)
    assert live_tags(session, agent.id) == {"lang.mandarin"}
    assert audit_actions(session, agent.id) == before


def test_revoking_needs_a_reason_and_a_held_known_tag(web, factory, session):
    agent = factory.agent(tags=("industry.ecommerce",))
    assert_page(web.post(f"/admin/members/{agent.id}/tags/industry.ecommerce/revoke", {"revoke-reason": ""}), 400)
    response = assert_page(web.post(f"/admin/members/{agent.id}/tags/industry.finance/revoke",
                                    {"revoke-reason": "quality"}), 409)
    assert "The agent does not hold this tag." in text_of(response)
    response = assert_page(web.post(f"/admin/members/{agent.id}/tags/skill.hacking/revoke",
                                    {"revoke-reason": "quality"}), 400)
    assert "Unknown tag." in text_of(response)
    assert live_tags(session, agent.id) == {"lang.mandarin", "industry.ecommerce"}
    assert "tag.revoke" not in audit_actions(session, agent.id)


def test_tags_are_for_agents_only(web, factory, session):
    client = factory.client()
    assert_page(web.post(f"/admin/members/{client.id}/tags", {"tag": "industry.finance", "reason": "x"}), 404)
    assert session.scalars(select(AgentTag).where(AgentTag.agent_id == client.id)).all() == []


def test_markup_in_a_reason_is_shown_escaped(web, factory):
    agent = factory.agent()
    web.post(f"/admin/members/{agent.id}/tags", {"tag": "industry.finance", "reason": "<script>alert(1)</script>"})
    page = web.get(f"/admin/members/{agent.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


# --- tier, suspension and reinstatement ----------------------------------------------------------

def test_an_admin_changes_a_tier_with_a_reason(web, factory, session):
    agent = factory.agent()
    response = web.post(f"/admin/members/{agent.id}/tier", {"tier-tier": "3", "tier-reason": "top ratings"})
    assert redirected_to(response, f"/admin/members/{agent.id}")
    session.refresh(agent)
    assert agent.tier == Tier.GOLD
    assert_page(web.post(f"/admin/members/{agent.id}/tier", {"tier-tier": "9", "tier-reason": "x"}), 400)
    assert_page(web.post(f"/admin/members/{agent.id}/tier", {"tier-tier": "2", "tier-reason": ""}), 400)
    session.refresh(agent)
    assert agent.tier == Tier.GOLD


def test_suspend_and_reinstate_need_a_reason_and_are_audited(web, admin, factory, session):
    agent = factory.agent()
    assert_page(web.post(f"/admin/members/{agent.id}/status/suspended", {"status-reason": " "}), 400)
    session.refresh(agent)
    assert agent.status == Status.ACTIVE

    response = web.post(f"/admin/members/{agent.id}/status/suspended", {"status-reason": "three no-shows"})
    assert redirected_to(response, f"/admin/members/{agent.id}")
    page = text_of(web.get(f"/admin/members/{agent.id}"))
    assert "Status changed." in page and "Suspended" in page and "Reinstate member" in page
    session.refresh(agent)
    assert agent.status == Status.SUSPENDED

    twice = assert_page(web.post(f"/admin/members/{agent.id}/status/suspended", {"status-reason": "again"}), 409)
    assert "already has this status" in text_of(twice)

    assert redirected_to(web.post(f"/admin/members/{agent.id}/status/active", {"status-reason": "appeal upheld"}),
                         f"/admin/members/{agent.id}")
    session.refresh(agent)
    assert agent.status == Status.ACTIVE
    assert audit_actions(session, agent.id)[-2:] == ["member.suspend", "member.reinstate"]
    detail = session.scalar(select(AuditLog.detail).where(AuditLog.action == "member.suspend"))
    assert detail == {"reason": "three no-shows", "previous": "active"}


def test_an_admin_cannot_suspend_themselves_or_set_an_unknown_status(web, admin, factory, session):
    response = assert_page(web.post(f"/admin/members/{admin.id}/status/suspended", {"status-reason": "oops"}), 403)
    assert "You cannot change your own status." in text_of(response)
    session.refresh(admin)
    assert admin.status == Status.ACTIVE
    assert_page(web.get("/admin/"))  # still logged in

    agent = factory.agent()
    assert_page(web.post(f"/admin/members/{agent.id}/status/admin", {"status-reason": "promote"}), 400)
    assert_page(web.post(f"/admin/members/{agent.id}/status/pending", {"status-reason": "again"}), 400)
    session.refresh(agent)
    assert agent.status == Status.ACTIVE


def test_another_admin_can_be_suspended_and_loses_access_at_once(web, factory, make_browser, session):
    colleague = factory.admin()
    theirs = logged_in(make_browser, colleague)
    assert_page(theirs.get("/admin/"))
    web.post(f"/admin/members/{colleague.id}/status/suspended", {"status-reason": "left the company"})
    assert theirs.get("/admin/").status_code == 302


# --- search, campaigns and the audit log -------------------------------------------------------

def test_member_search_filters_by_text_role_status_tier_tag_and_city(web, factory, session):
    chengdu = factory.agent("cd@example.cn", city="成都", tier=Tier.SENIOR, tags=("industry.finance",))
    chongqing = factory.agent("cq@example.cn", city="重庆", tier=Tier.CERTIFIED)
    pending = factory.agent("new@example.cn", status="pending", city="成都")
    client = factory.client("shop@example.cn")

    def emails(query):
        page = text_of(assert_page(web.get(f"/admin/members?{query}")))
        return {e for e in ("cd@", "cq@", "new@", "shop@") if e in page}

    assert emails("") == {"cd@", "cq@", "new@", "shop@"}
    assert emails("q=CQ@EXAMPLE") == {"cq@"}
    assert emails(f"q={chengdu.phone[-6:]}") == {"cd@"}
    assert emails(f"q={chengdu.name}") == {"cd@"}
    assert emails("role=client") == {"shop@"}
    assert emails("role=agent&status=pending") == {"new@"}
    assert emails("tier=2") == {"cd@"}
    assert emails("tag=industry.finance") == {"cd@"}
    assert emails("city=成都") == {"cd@", "new@"}
    assert emails("city=成都&status=active") == {"cd@"}
    assert emails("q=%25") == {"cd@", "cq@", "new@", "shop@"}  # a wildcard typed in is not a wildcard
    assert emails("q=nobody") == set()
    assert chongqing and pending and client


@pytest.mark.parametrize("query", ["role=superuser", "status=deleted", "tier=9", "tier=-1", "tier=²", "tier=１",
                                   "tier=99999999999999999999", "tag=lang.klingon", "page=0", "page=abc",
                                   "page=99999999999", "q=%00", "city=%00", "q=" + "x" * 5000,
                                   "q=%27%20OR%201%3D1--"])
def test_odd_search_parameters_are_ignored_or_match_nothing_never_an_error(web, factory, query):
    factory.agent()
    assert_page(web.get(f"/admin/members?{query}"))


def test_the_campaigns_list_shows_every_organisations_campaigns_with_fill(web, factory, session):
    first = factory.campaign(name="Shop peak", shifts=[(24, 2, 3), (26, 2, 3)])
    factory.campaign(name="Bank draft", publish=False)
    page = text_of(assert_page(web.get("/admin/campaigns")))
    assert "Shop peak" in page and "Bank draft" in page and "2 shifts" in page and "seats 0 / 6" in page
    assert first.organisation.name in page
    published = text_of(assert_page(web.get("/admin/campaigns?status=published")))
    assert "Shop peak" in published and "Bank draft" not in published
    assert_page(web.get("/admin/campaigns?status=bogus"))
    assert_page(web.get("/admin/campaigns?status=%00"))
    assert_page(web.get("/admin/campaigns?page=abc"))


def test_the_audit_log_page_lists_admin_actions_newest_first(web, admin, factory, session):
    agent = factory.agent(status="pending")
    web.post(f"/admin/members/{agent.id}/verify")
    web.post(f"/admin/members/{agent.id}/tags", {"tag": "industry.travel", "reason": "travel pilot"})
    page = text_of(assert_page(web.get("/admin/audit")))
    assert page.index("tag.grant") < page.index("agent.verify")
    assert "travel pilot" in page and admin.name in page
    assert_page(web.get("/admin/audit?page=2"))
    member_page = text_of(web.get(f"/admin/members/{agent.id}"))
    assert "tag.grant" in member_page and "agent.verify" in member_page


def test_admin_actions_need_post_and_a_csrf_token(web, factory, session):
    agent = factory.agent(status="pending")
    assert_page(web.get(f"/admin/members/{agent.id}/verify"), 405)
    assert_page(web.post(f"/admin/members/{agent.id}/verify", csrf=False), 400)
    session.refresh(agent)
    assert agent.status == Status.PENDING
    assert session.scalar(select(User.status).where(User.id == agent.id)) == Status.PENDING
