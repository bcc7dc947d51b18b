"""The claim's hot path (docs/performance.md, claim_storm): a lean refusal, few statements, a per-agent rate limit."""

import socket

import pytest
from sqlalchemy import event, select

from app.campaigns.models import Shift
from app.claims import services as claims
from app.claims.models import Claim
from app.core import clock
from app.core.db import db
from app.members.models import Tier
from tests.conftest import Browser
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of

ECOM = ("industry.ecommerce",)


@pytest.fixture
def agent(factory):
    return factory.agent(tags=ECOM, tier=Tier.CERTIFIED)


@pytest.fixture
def web(make_browser, agent):
    return logged_in(make_browser, agent)


seen_statements: list[str] = []


def _statements(app, call) -> tuple[int, object]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        result = call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    statements = [s for s in seen if not s.startswith(("BEGIN", "PRAGMA"))]
    seen_statements[:] = statements
    return len(statements), result


def test_a_refused_claim_is_a_small_page_of_three_statements_whatever_the_shift(app, web, factory, session):
    full = factory.shifts(factory.campaign(tags=ECOM, name="Hot shift", shifts=[(24, 2, 2)]))[0]
    for _ in range(2):
        claims.claim_shift(session, agent=factory.agent(tags=ECOM), shift_id=full.id, now=clock.now())
    session.commit()
    web.get("/agent/shifts")  # warm: nothing cached may change the count below
    full_id, full = full.id, None

    count, response = _statements(app, lambda: web.post(f"/agent/shifts/{full_id}/claim"))
    body = text_of(assert_page(response, 409))
    # The member, the claim's UPDATE, one query explaining the refusal: no ORM reload, no layout count.
    assert count == 3, [s[:60] for s in seen_statements]
    assert "This shift is full. You can join the waitlist." in body and "Hot shift" in body
    assert "0 of 2 free" in body and "Join the waitlist" in body
    html = response.get_data(as_text=True)
    assert f'action="/agent/shifts/{full_id}/waitlist"' in html and f'href="/agent/shifts/{full_id}"' in html
    assert "Set-Cookie" not in response.headers  # nothing flashed: the session is left alone

    # More holders, a waitlist and more of the agent's own seats cost the same.
    busy = factory.shifts(factory.campaign(tags=ECOM, shifts=[(48, 2, 5)]))[0]
    for _ in range(5):
        claims.claim_shift(session, agent=factory.agent(tags=ECOM), shift_id=busy.id, now=clock.now())
    session.commit()
    assert redirected_to(web.post(f"/agent/shifts/{full_id}/waitlist"), f"/agent/shifts/{full_id}")
    busy_id = busy.id
    count_again, again = _statements(app, lambda: web.post(f"/agent/shifts/{busy_id}/claim"))
    assert count_again == 3 and again.status_code == 409


def test_the_refusal_page_tells_a_waiting_agent_their_place_and_an_ineligible_one_why(web, factory, session):
    shift = factory.shifts(factory.campaign(tags=ECOM, shifts=[(24, 2, 1)]))[0]
    claims.claim_shift(session, agent=factory.agent(tags=ECOM), shift_id=shift.id, now=clock.now())
    session.commit()
    assert redirected_to(web.post(f"/agent/shifts/{shift.id}/waitlist"), f"/agent/shifts/{shift.id}")
    body = text_of(assert_page(web.post(f"/agent/shifts/{shift.id}/claim"), 409))
    assert "You are number 1 on the waitlist." in body and "Join the waitlist" not in body

    gold = factory.shifts(factory.campaign(tags=("industry.finance",), min_tier=Tier.GOLD, shifts=[(30, 2, 3)]))[0]
    body = text_of(assert_page(web.post(f"/agent/shifts/{gold.id}/claim"), 409))
    assert "You cannot take this shift." in body and "Needs tier Gold or higher" in body
    assert "Missing tags: Banking & finance" in body
    assert "Join the waitlist" not in body
    assert session.scalar(select(Shift.seats_taken).where(Shift.id == gold.id)) == 0


def test_claiming_a_draft_or_missing_shift_is_not_found(web, factory, session):
    draft = factory.shifts(factory.campaign(tags=ECOM, publish=False, shifts=[(24, 2, 3)]))[0]
    assert_page(web.post("/agent/shifts/2000000000/claim"), 404)
    assert "No such shift." in text_of(assert_page(web.post(f"/agent/shifts/{draft.id}/claim"), 404))
    session.refresh(draft)
    assert draft.seats_taken == 0


# --- the per-agent claim rate limit --------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def limited_app(app, database_url, monkeypatch, request):
    """TestConfig turns limiting off; a fresh app on the same database with it on (3 claims a minute).

    The limiter is one object per process: its switches are put back afterwards."""
    from app import create_app
    from app.extensions import limiter
    from config import TestConfig

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    monkeypatch.setattr(limiter, "_storage_dead", False)
    storage = getattr(request, "param", "memory://")
    fresh = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                       CLAIM_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI=storage)
    limiter.reset() if storage == "memory://" else None
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def _claims_of(session, agent_id) -> int:
    session.rollback()
    count = len(session.scalars(select(Claim.id).where(Claim.agent_id == agent_id, Claim.is_active)).all())
    session.rollback()  # SQLite: hold no lock while the other app writes
    return count


def _limited_browser(fresh, email):
    browser = english(Browser(fresh, fresh.test_client()))
    browser.login(email)
    return browser


def _run_limit_checks(fresh, factory, session):
    campaign = factory.campaign(tags=ECOM, shifts=[(24 + 3 * i, 2, 3) for i in range(5)])
    shift_ids = [s.id for s in factory.shifts(campaign)]
    first, second = factory.agent(tags=ECOM), factory.agent(tags=ECOM)
    (first_id, first_email), (second_id, second_email) = (first.id, first.email), (second.id, second.email)
    session.rollback()  # SQLite: hold no lock while the other app writes
    a, b = _limited_browser(fresh, first_email), _limited_browser(fresh, second_email)

    def path(i: int) -> str:
        return f"/agent/shifts/{shift_ids[i]}"

    assert redirected_to(a.post(path(0) + "/claim"), path(0))
    assert a.post(path(0) + "/claim").status_code == 409  # a refusal counts too
    assert redirected_to(a.post(path(1) + "/claim"), path(1))
    limited = assert_page(a.post(path(2) + "/claim"), 429)
    assert "Too many attempts. Wait a minute and try again." in text_of(limited)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and "X-RateLimit-Limit" not in limited.headers
    assert _claims_of(session, first_id) == 2  # the refused request took nothing
    # Per agent, not per address: a colleague behind the same address still grabs.
    assert redirected_to(b.post(path(2) + "/claim"), path(2))
    assert _claims_of(session, second_id) == 1
    return limited


def test_claims_are_rate_limited_per_agent(limited_app, factory, session):
    limited = _run_limit_checks(limited_app, factory, session)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


@pytest.mark.parametrize("limited_app", [f"redis://127.0.0.1:{_free_port()}/0"], indirect=True)
def test_with_the_limit_store_unreachable_claims_go_on_and_limits_hold_in_memory(limited_app, factory, session):
    """Redis (the production limit store) is down: no 500, the limit is kept per process in memory instead."""
    _run_limit_checks(limited_app, factory, session)
