"""The agent's pages: the shift board, a shift's page, grabbing and releasing seats, the waitlist."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.campaigns.models import Campaign
from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus, WaitlistEntry
from app.core import clock
from app.members import services as members
from app.members.models import Tier
from tests.integration.web import assert_page, count_statements, logged_in, redirected_to, shift_ids_on, text_of

ECOM = ("industry.ecommerce",)


@pytest.fixture
def agent(factory):
    return factory.agent(tags=ECOM, tier=Tier.CERTIFIED)


@pytest.fixture
def web(make_browser, agent):
    return logged_in(make_browser, agent)


def names_on(response) -> list[str]:
    return re.findall(r"<strong>([^<]*)</strong>", response.get_data(as_text=True))


# --- what the board shows ------------------------------------------------------------------

def test_the_board_shows_only_shifts_the_agent_can_take_and_show_all_says_why(web, agent, factory, session):
    factory.campaign(tags=ECOM, name="Open to me", shifts=[(24, 2, 3)])
    factory.campaign(tags=("industry.finance",), name="Needs finance", shifts=[(24, 2, 3)])
    factory.campaign(tags=(), min_tier=Tier.SENIOR, name="Needs senior", shifts=[(24, 2, 3)])
    held = factory.campaign(tags=(), name="Held by me", shifts=[(48, 2, 3)])
    factory.campaign(tags=(), name="Clashes with mine", shifts=[(49, 2, 3)])
    factory.campaign(tags=(), name="Draft", shifts=[(30, 2, 3)], publish=False)
    factory.campaign(tags=(), name="Starts in an hour", shifts=[(1, 2, 3)])
    factory.campaign(tags=("skill.after_sales",), name="Needs after-sales", shifts=[(72, 2, 3)])
    admin = factory.admin()
    members.grant_tag(session, admin=admin, agent_id=agent.id, tag_code="skill.after_sales", reason="trial",
                      expires_at=clock.now() + timedelta(hours=1), now=clock.now())
    claims.claim_shift(session, agent=agent, shift_id=factory.shifts(held)[0].id, now=clock.now())
    session.commit()

    board = assert_page(web.get("/agent/shifts"))
    assert names_on(board) == ["Starts in an hour", "Open to me", "Needs after-sales"]

    clock.freeze(clock.now() + timedelta(hours=2))  # the after-sales tag has expired, a shift has started
    board = assert_page(web.get("/agent/shifts"))
    assert names_on(board) == ["Open to me"]

    everything = assert_page(web.get("/agent/shifts?show=all"))
    assert sorted(names_on(everything)) == sorted(["Open to me", "Needs finance", "Needs senior", "Held by me",
                                                   "Clashes with mine", "Needs after-sales"])
    page = text_of(everything)
    assert "Missing tags: Banking & finance" in page
    assert "Missing tags: After-sales" in page
    assert "Needs tier Senior or higher" in page
    assert "You hold another shift at this time." in page
    assert "You already hold a seat on this shift." in page
    assert 'name="show" value="all" checked' in everything.get_data(as_text=True)


def test_a_pending_agent_sees_the_board_but_cannot_take_anything(factory, make_browser):
    factory.campaign(tags=(), name="Anyone", shifts=[(24, 2, 3)])
    pending = factory.agent(status="pending")
    web = logged_in(make_browser, pending)
    board = assert_page(web.get("/agent/shifts"))
    assert "waiting for an admin's verification" in text_of(board) and names_on(board) == []
    page = text_of(assert_page(web.get("/agent/shifts?show=all")))
    assert "Anyone" in page and "Your account is not active yet" in page


def test_the_board_filters_by_kind_industry_and_local_day(web, factory, session):
    factory.campaign(tags=(), kind="inbound", name="Inbound", shifts=[(24, 2, 3)])
    factory.campaign(tags=(), kind="outbound_callback", name="Callbacks", shifts=[(26, 2, 3)])
    bank = factory.campaign(tags=(), kind="outbound_callback", name="Bank", shifts=[(48, 2, 3)])
    bank.industry = "industry.finance"
    # 16:30 UTC on 2 Nov is 00:30 on 3 Nov in Shanghai.
    factory.campaign(tags=(), name="After midnight", shifts=[(38.5, 2, 3)])
    session.commit()

    assert names_on(web.get("/agent/shifts?kind=inbound")) == ["Inbound", "After midnight"]
    assert names_on(web.get("/agent/shifts?kind=outbound_callback")) == ["Callbacks", "Bank"]
    assert names_on(web.get("/agent/shifts?industry=industry.finance")) == ["Bank"]
    assert names_on(web.get("/agent/shifts?kind=outbound_callback&industry=industry.ecommerce")) == ["Callbacks"]
    assert names_on(web.get("/agent/shifts?day=2026-11-02")) == ["Inbound", "Callbacks"]
    assert names_on(web.get("/agent/shifts?day=2026-11-03")) == ["After midnight", "Bank"]
    assert names_on(web.get("/agent/shifts?day=2026-12-25")) == []


@pytest.mark.parametrize("query", ["kind=phishing", "industry=<script>", "day=2026-02-31", "day=yesterday",
                                   "day=9999-12-31", "day=0001-01-01",
                                   "after=garbage", "after=2026-11-02T00:00:00_abc", "after=_1",
                                   "after=2026-11-02T00:00:00+00:00_99999999999999999999999",
                                   "after=2026-11-02_1", "after=9999-12-31T23:59:59-23:59_1", "show=%00",
                                   "kind=%00&industry=%00&day=%00&after=%00"])
def test_unknown_filters_and_tampered_cursors_are_ignored_not_errors(web, factory, query):
    factory.campaign(tags=(), name="Visible", shifts=[(24, 2, 3)])
    response = assert_page(web.get(f"/agent/shifts?{query}"))
    assert "<script>" not in response.get_data(as_text=True)


def next_link(response) -> str | None:
    match = re.search(r'<a class="btn secondary wide" href="([^"]+)"', response.get_data(as_text=True))
    return html.unescape(match.group(1)) if match else None


def test_more_shifts_walks_every_shift_once_in_order_even_with_equal_start_times(web, factory, app):
    # Three campaigns with shifts at the same 15 start times: ties broken by id.
    campaigns = [factory.campaign(tags=(), kind="inbound", name=f"C{i}", shifts=[(24 + h, 1, 2) for h in range(15)])
                 for i in range(3)]
    factory.campaign(tags=(), kind="outbound_callback", name="Other kind", shifts=[(24, 1, 2)])
    expected = [s.id for c in campaigns for s in factory.shifts(c)]
    seen, url, pages = [], "/agent/shifts?kind=inbound", 0
    while url:
        response = assert_page(web.get(url))
        seen += shift_ids_on(response)
        url = next_link(response)
        pages += 1
        assert pages < 10
    assert pages == 3  # 45 shifts, 20 a page
    assert len(seen) == len(set(seen)) == 45 and set(seen) == set(expected)
    assert "Other kind" not in "".join(names_on(web.get("/agent/shifts?kind=inbound")))


def test_a_board_page_costs_the_same_number_of_queries_for_20_or_200_shifts(web, factory, agent, session):
    def board_cost(query=""):
        def fetch():
            response = web.get(f"/agent/shifts{query}")
            assert response.status_code == 200 and len(shift_ids_on(response)) >= 19
        fetch()  # warm-up: nothing cached may change the count below
        return count_statements(fetch)

    small = [factory.campaign(tags=ECOM if i % 2 else (), name=f"S{i}",
                              shifts=[(24 + 5 * h + i, 1, 2) for h in range(5)]) for i in range(4)]
    claims.claim_shift(session, agent=agent, shift_id=factory.shifts(small[0])[0].id, now=clock.now())
    session.commit()
    few = board_cost(), board_cost("?show=all")

    for i in range(10):  # 180 more shifts in 10 more campaigns, many of them before the first ones
        factory.campaign(tags=("industry.finance",) if i % 3 else ECOM, name=f"L{i}",
                         shifts=[(23 + 0.5 * h + 0.01 * i, 0.5, 2) for h in range(18)])
    many = board_cost(), board_cost("?show=all")
    assert few == many, (few, many)
    assert few[0] <= 12


# --- grabbing a seat -----------------------------------------------------------------------

def test_grabbing_a_seat_redirects_and_takes_it_once(web, agent, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 3)]))[0]
    response = web.post(f"/agent/shifts/{shift.id}/claim")
    assert redirected_to(response, f"/agent/shifts/{shift.id}")
    page = text_of(assert_page(web.get(f"/agent/shifts/{shift.id}")))
    assert "Seat grabbed! It is in My shifts." in page and "You hold a seat on this shift." in page
    session.refresh(shift)
    assert shift.seats_taken == 1

    again = assert_page(web.post(f"/agent/shifts/{shift.id}/claim"), 409)
    assert "You already hold a seat on this shift." in text_of(again)
    session.refresh(shift)
    assert shift.seats_taken == 1
    assert len(session.scalars(select(Claim)).all()) == 1
    assert "2 of 3 free" in text_of(again)


def test_grabbing_needs_a_post_with_a_csrf_token(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 3)]))[0]
    assert_page(web.get(f"/agent/shifts/{shift.id}/claim"), 405)
    assert_page(web.post(f"/agent/shifts/{shift.id}/claim", csrf=False), 400)
    session.refresh(shift)
    assert shift.seats_taken == 0


def test_a_shift_the_agent_cannot_take_says_why(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=("industry.finance",), min_tier=Tier.GOLD, shifts=[(24, 2, 3)]))[0]
    page = text_of(assert_page(web.get(f"/agent/shifts/{shift.id}")))
    assert "Why you cannot take this shift" in page and "Grab a seat" not in page
    response = assert_page(web.post(f"/agent/shifts/{shift.id}/claim"), 409)
    body = text_of(response)
    assert "You cannot take this shift." in body
    assert "Missing tags: Banking & finance" in body and "Needs tier Gold or higher" in body
    session.refresh(shift)
    assert shift.seats_taken == 0


def test_a_full_shift_is_a_conflict_and_the_page_offers_the_waitlist(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 1)]))[0]
    claims.claim_shift(session, agent=factory.agent(tags=ECOM), shift_id=shift.id, now=clock.now())
    session.commit()
    response = assert_page(web.post(f"/agent/shifts/{shift.id}/claim"), 409)
    body = text_of(response)
    assert "This shift is full. You can join the waitlist." in body
    assert f'action="/agent/shifts/{shift.id}/waitlist"' in response.get_data(as_text=True)
    assert "Join the waitlist" in body

    joined = web.post(f"/agent/shifts/{shift.id}/waitlist")
    assert redirected_to(joined, f"/agent/shifts/{shift.id}")
    page = text_of(web.get(f"/agent/shifts/{shift.id}"))
    assert "You are on the waitlist." in page and "You are number 1 on the waitlist." in page
    assert "Leave the waitlist" in page
    my = text_of(web.get("/agent/my-shifts"))
    assert "Waitlists" in my

    twice = assert_page(web.post(f"/agent/shifts/{shift.id}/waitlist"), 409)
    assert "You are already on the waitlist." in text_of(twice)

    left = web.post(f"/agent/shifts/{shift.id}/waitlist/leave")
    assert redirected_to(left, f"/agent/shifts/{shift.id}")
    assert "You left the waitlist." in text_of(web.get(f"/agent/shifts/{shift.id}"))
    gone = assert_page(web.post(f"/agent/shifts/{shift.id}/waitlist/leave"), 404)
    assert "You are not on this waitlist." in text_of(gone)
    assert [e.status for e in session.scalars(select(WaitlistEntry))] == ["left"]


def test_the_waitlist_of_a_shift_with_free_seats_is_refused(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 3)]))[0]
    response = assert_page(web.post(f"/agent/shifts/{shift.id}/waitlist"), 409)
    assert "Seats are free: grab one instead." in text_of(response)
    assert session.scalars(select(WaitlistEntry)).all() == []


# --- my shifts and releasing -----------------------------------------------------------------

def test_releasing_well_ahead_is_free(web, agent, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, name="Tomorrow", shifts=[(24, 2, 3)]))[0]
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    my = assert_page(web.get("/agent/my-shifts"))
    assert "Tomorrow" in text_of(my) and f'action="/agent/claims/{claim.id}/release"' in my.get_data(as_text=True)
    assert "Within the cut-off" not in text_of(my)

    response = web.post(f"/agent/claims/{claim.id}/release")
    assert redirected_to(response, "/agent/my-shifts")
    page = text_of(web.get("/agent/my-shifts"))
    assert "Seat released." in page and "This was a late cancellation" not in page and "Released" in page
    session.refresh(claim)
    session.refresh(shift)
    assert (claim.status, shift.seats_taken) == (ClaimStatus.RELEASED, 0)

    again = assert_page(web.post(f"/agent/claims/{claim.id}/release"), 409)
    assert "This seat can no longer be released." in text_of(again)


def test_releasing_inside_the_cutoff_warns_and_counts_as_a_late_cancellation(web, agent, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(3, 2, 3)]))[0]
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(clock.now() + timedelta(hours=1, minutes=30))
    assert "Within the cut-off: releasing now is a late cancellation." in text_of(web.get("/agent/my-shifts"))
    response = web.post(f"/agent/claims/{claim.id}/release")
    assert redirected_to(response, "/agent/my-shifts")
    page = text_of(web.get("/agent/my-shifts"))
    assert "This was a late cancellation and counts against your reliability." in page
    session.refresh(claim)
    assert claim.status == ClaimStatus.LATE_CANCELLED


def test_a_started_shift_cannot_be_released(web, agent, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(3, 2, 3)]))[0]
    claim = claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    clock.freeze(clock.now() + timedelta(hours=4))
    assert f"/agent/claims/{claim.id}/release" not in web.get("/agent/my-shifts").get_data(as_text=True)
    response = assert_page(web.post(f"/agent/claims/{claim.id}/release"), 409)
    assert "The shift has started" in text_of(response)


# --- tampered ids --------------------------------------------------------------------------

def test_another_agents_claim_cannot_be_released(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 3)]))[0]
    other = factory.agent(tags=ECOM)
    claim = claims.claim_shift(session, agent=other, shift_id=shift.id, now=clock.now())
    session.commit()
    assert_page(web.post(f"/agent/claims/{claim.id}/release"), 404)
    session.refresh(claim)
    assert claim.status == ClaimStatus.CLAIMED


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "0x10", "99999999999999999999", "%00", "1%20OR%201=1"])
def test_non_numeric_and_missing_ids_are_not_found(web, bad):
    assert_page(web.get(f"/agent/shifts/{bad}"), 404)
    assert_page(web.post(f"/agent/shifts/{bad}/claim"), 404)
    assert_page(web.post(f"/agent/shifts/{bad}/waitlist"), 404)
    assert_page(web.post(f"/agent/shifts/{bad}/waitlist/leave"), 404)
    assert_page(web.post(f"/agent/claims/{bad}/release"), 404)
    assert_page(web.get("/agent/shifts/987654"), 404)
    assert_page(web.post("/agent/claims/987654/release"), 404)


def test_a_draft_campaigns_shift_is_invisible_to_agents(web, factory, session):
    draft = factory.campaign(tags=(), publish=False, shifts=[(24, 2, 3)])
    shift = factory.shifts(draft)[0]
    assert_page(web.get(f"/agent/shifts/{shift.id}"), 404)
    assert_page(web.post(f"/agent/shifts/{shift.id}/claim"), 404)
    assert_page(web.post(f"/agent/shifts/{shift.id}/waitlist"), 404)
    session.refresh(shift)
    assert shift.seats_taken == 0
    assert session.scalar(select(Campaign.status)) == "draft"


def test_clients_and_admins_are_forbidden_and_anonymous_users_go_to_log_in(factory, make_browser):
    shift = factory.shifts(factory.campaign(tags=(), shifts=[(24, 2, 3)]))[0]
    routes = [("GET", "/agent/shifts"), ("GET", "/agent/my-shifts"), ("GET", f"/agent/shifts/{shift.id}"),
              ("POST", f"/agent/shifts/{shift.id}/claim"), ("POST", f"/agent/shifts/{shift.id}/waitlist"),
              ("POST", f"/agent/shifts/{shift.id}/waitlist/leave"), ("POST", "/agent/claims/1/release")]
    for user in (factory.client(), factory.admin()):
        browser = logged_in(make_browser, user)
        for method, url in routes:
            assert_page(browser.get(url) if method == "GET" else browser.post(url), 403)
    anonymous = make_browser()
    for method, url in routes:
        response = anonymous.get(url) if method == "GET" else anonymous.post(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
