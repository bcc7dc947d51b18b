"""The client's campaign pages: the form, hostile inputs, shift patterns, shift edits, publishing, tenancy."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.campaigns.models import Campaign, CampaignStatus, Shift, ShiftStatus
from app.claims import services as claims
from app.claims.models import Claim, ClaimStatus
from app.core import clock
from app.notifications.models import Notification
from tests.integration.web import assert_page, english, logged_in, redirected_to, text_of


def campaign_form(**changes):
    data = {"name": "双11 售后高峰", "kind": "inbound", "industry": "industry.ecommerce",
            "description": "退换货咨询", "script": "您好……", "required_tags": ["industry.ecommerce", "lang.mandarin"],
            "min_tier": "1", "rate": "38.50", "bonus": "0.50", "budget": "50,000", "starts_on": "2026-11-10",
            "ends_on": "2026-11-12"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def pattern_form(**changes):
    data = {"first_day": "2026-11-11", "last_day": "2026-11-11", "day_start": "08:00", "day_end": "00:00",
            "block_minutes": "120", "seats": "50"}
    data.update(changes)
    return data


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def owner(factory):
    return factory.client()


@pytest.fixture
def web(make_browser, owner):
    return logged_in(make_browser, owner)


@pytest.fixture
def draft(factory, owner):
    """A draft campaign of `owner` running 1–30 Nov, without shifts."""
    return factory.campaign(owner, publish=False, shifts=[])


# --- creating a campaign --------------------------------------------------------------------

def test_a_client_creates_a_campaign_and_yuan_become_fen(web, owner, session):
    response = web.post("/client/campaigns/new", campaign_form())
    campaign = session.scalar(select(Campaign))
    assert redirected_to(response, f"/client/campaigns/{campaign.id}")
    assert (campaign.rate_fen_per_hour, campaign.bonus_fen_per_contact, campaign.budget_fen) == (3850, 50, 5_000_000)
    assert campaign.status == CampaignStatus.DRAFT and campaign.organisation_id == owner.organisation_id
    assert [t.code for t in campaign.required_tags] == ["industry.ecommerce", "lang.mandarin"]
    page = text_of(assert_page(web.get(f"/client/campaigns/{campaign.id}")))
    assert "¥38.50" in page and "¥50,000.00" in page and "Draft" in page
    assert "双11 售后高峰" in text_of(assert_page(web.get("/client/")))


def test_a_success_bonus_is_stored_in_fen_and_a_negative_one_is_refused(web, owner, session):
    assert web.post("/client/campaigns/new", campaign_form(success_bonus="-1")).status_code == 400
    assert web.post("/client/campaigns/new", campaign_form(success_bonus="0.001")).status_code == 400
    assert count(session, Campaign) == 0
    web.post("/client/campaigns/new", campaign_form(success_bonus="5"))
    campaign = session.scalar(select(Campaign))
    assert campaign.bonus_fen_per_success == 500
    assert "¥5.00" in text_of(assert_page(web.get(f"/client/campaigns/{campaign.id}")))


def test_markup_in_a_campaign_is_stored_as_text_and_shown_escaped(web, session):
    web.post("/client/campaigns/new", campaign_form(name='<img src=x onerror="alert(1)">',
                                                    script="<script>alert(1)</script>"))
    campaign = session.scalar(select(Campaign))
    assert campaign.script == "<script>alert(1)</script>"
    page = web.get(f"/client/campaigns/{campaign.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<img src=x onerror' not in page


HOSTILE = [
    ("empty name", {"name": ""}, None),
    ("blank name", {"name": "   \t "}, None),
    ("10,000-char name", {"name": "长" * 10_000}, None),
    ("NUL-only name", {"name": "\x00"}, None),
    ("negative pay", {"rate": "-38.50"}, "The amount must be more than zero."),
    ("zero pay", {"rate": "0"}, "The amount must be more than zero."),
    ("sub-fen pay", {"rate": "100.005"}, "Amounts have at most two decimals (fen)."),
    ("NaN pay", {"rate": "NaN"}, "Enter an amount in yuan, like 35.50."),
    ("infinite pay", {"rate": "Infinity"}, "Enter an amount in yuan, like 35.50."),
    ("1e309 pay", {"rate": "1e309"}, "That amount is too large."),
    ("text pay", {"rate": "thirty"}, "Enter an amount in yuan, like 35.50."),
    ("absurd pay", {"rate": "100000"}, "Pay per seat-hour must be between 0.01 and 1,000 yuan."),
    ("20-digit budget", {"budget": "12345678901234567890"}, "That amount is too large."),
    ("NaN budget", {"budget": "NaN"}, "Enter an amount in yuan, like 35.50."),
    ("negative bonus", {"bonus": "-1"}, "The amount must be more than zero."),
    ("end before start", {"starts_on": "2026-11-12", "ends_on": "2026-11-10"},
     "The end date must not be before the start date."),
    ("ends in the past", {"starts_on": "2026-10-01", "ends_on": "2026-10-31"}, "The campaign cannot end in the past."),
    ("31 February", {"ends_on": "2027-02-31"}, "Enter a valid date."),
    ("over a year", {"ends_on": "2028-01-01"}, "A campaign can last at most a year."),
    ("year 9999", {"starts_on": "9999-12-31", "ends_on": "9999-12-31"}, "Enter a date between"),
    ("year 1", {"starts_on": "0001-01-01"}, "Enter a date between"),
    ("three years ahead", {"starts_on": "2029-11-10", "ends_on": "2029-11-12"},
     "A campaign must start within two years."),
    ("unknown tag code", {"required_tags": ["industry.ecommerce", "skill.hacking"]}, None),
    ("tier 9", {"min_tier": "9"}, None),
    ("tier text", {"min_tier": "gold"}, None),
    ("unknown kind", {"kind": "phishing"}, None),
    ("unknown industry", {"industry": "industry.weapons"}, None),
    ("huge script", {"script": "x" * 20_001}, None),
]


@pytest.mark.parametrize("label, changes, message", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_campaign_form_is_refused_with_a_message_and_saves_nothing(web, session, label, changes,
                                                                              message):
    response = assert_page(web.post("/client/campaigns/new", campaign_form(**changes)), 400)
    body = text_of(response)
    assert 'class="error"' in response.get_data(as_text=True)
    if message:
        assert message in body
    assert count(session, Campaign) == 0


def test_nul_bytes_are_dropped_from_a_campaign_name(web, session):
    response = web.post("/client/campaigns/new", campaign_form(name="双11\x00售后", description="a\x00b"))
    assert response.status_code == 302
    campaign = session.scalar(select(Campaign))
    assert campaign.name == "双11售后" and campaign.description == "ab"


def test_extra_fields_cannot_set_the_status_or_the_organisation(web, owner, factory, session):
    other = factory.client()
    web.post("/client/campaigns/new", campaign_form(status="published", organisation_id=str(other.organisation_id),
                                                    created_by_id=str(other.id)))
    campaign = session.scalar(select(Campaign))
    assert campaign.status == CampaignStatus.DRAFT and campaign.organisation_id == owner.organisation_id


def test_a_draft_is_edited_and_a_published_campaign_keeps_its_terms(web, owner, draft, factory, session):
    response = web.post(f"/client/campaigns/{draft.id}/edit", campaign_form(name="改名", rate="40"))
    assert redirected_to(response, f"/client/campaigns/{draft.id}")
    session.refresh(draft)
    assert (draft.name, draft.rate_fen_per_hour) == ("改名", 4000)
    form = assert_page(web.get(f"/client/campaigns/{draft.id}/edit"))
    assert 'value="40.00"' in form.get_data(as_text=True)

    published = factory.campaign(owner)
    response = assert_page(web.post(f"/client/campaigns/{published.id}/edit",
                                    campaign_form(rate="99", starts_on="2026-11-01", ends_on="2026-11-30")), 409)
    assert "cannot change after publishing" in text_of(response)
    session.refresh(published)
    assert published.rate_fen_per_hour == 3800


# --- shifts from a pattern ------------------------------------------------------------------

def test_a_pattern_makes_whole_blocks_and_a_repeat_makes_no_duplicates(web, draft, session):
    response = web.post(f"/client/campaigns/{draft.id}/shifts/generate", pattern_form())
    assert redirected_to(response, f"/client/campaigns/{draft.id}")
    shifts = session.scalars(select(Shift).where(Shift.campaign_id == draft.id).order_by(Shift.starts_at)).all()
    assert len(shifts) == 8 and {s.seats for s in shifts} == {50}
    # 08:00 Shanghai is 00:00 UTC; the last block ends at midnight Shanghai (16:00 UTC).
    assert shifts[0].starts_at == datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
    assert shifts[-1].ends_at == datetime(2026, 11, 11, 16, 0, tzinfo=UTC)
    assert all(b.starts_at == a.ends_at for a, b in zip(shifts, shifts[1:], strict=False))
    page = text_of(web.get(f"/client/campaigns/{draft.id}"))
    assert "8 shifts added." in page and "11-11 22:00–24:00" in page

    again = web.post(f"/client/campaigns/{draft.id}/shifts/generate", pattern_form())
    assert again.status_code == 302
    assert "Those shifts already exist." in text_of(web.get(f"/client/campaigns/{draft.id}"))
    assert count(session, Shift) == 8


PATTERNS = [
    ("in the past", {"first_day": "2026-10-31", "last_day": "2026-10-31"}, "Shifts cannot start in the past."),
    ("started today", {"first_day": "2026-11-01", "last_day": "2026-11-01"}, "Shifts cannot start in the past."),
    ("0 seats", {"seats": "0"}, "Between 1 and 5000."),
    ("100000 seats", {"seats": "100000"}, "Between 1 and 5000."),
    ("negative seats", {"seats": "-5"}, "Between 1 and 5000."),
    ("text seats", {"seats": "many"}, None),
    ("1e309 seats", {"seats": "1e309"}, None),
    ("10-minute block", {"block_minutes": "10"}, "Between 30 and 720."),
    ("day-long block", {"block_minutes": "1440"}, "Between 30 and 720."),
    ("block longer than the day", {"day_start": "08:00", "day_end": "09:00", "block_minutes": "120"},
     "The pattern makes no shifts"),
    ("last day before first", {"first_day": "2026-11-12", "last_day": "2026-11-11"},
     "The last day must not be before the first day."),
    ("a year of days", {"last_day": "2027-11-11"}, "Generate at most 93 days at once."),
    ("31 February", {"first_day": "2027-02-31"}, "Enter a valid date."),
    ("25 o'clock", {"day_start": "25:00"}, "Enter a valid time."),
    ("outside the campaign", {"first_day": "2026-12-05", "last_day": "2026-12-05"}, "within the campaign's dates"),
    ("year 9999", {"first_day": "9999-12-31", "last_day": "9999-12-31"}, "Enter a date between"),
]


@pytest.mark.parametrize("label, changes, message", PATTERNS, ids=[p[0] for p in PATTERNS])
def test_a_hostile_pattern_is_refused_and_makes_no_shifts(web, draft, session, label, changes, message):
    response = assert_page(web.post(f"/client/campaigns/{draft.id}/shifts/generate", pattern_form(**changes)), 400)
    if message:
        assert message in text_of(response)
    assert count(session, Shift) == 0


def test_a_pattern_across_days_with_a_dst_free_zone_makes_one_block_set_per_day(web, draft, session):
    web.post(f"/client/campaigns/{draft.id}/shifts/generate",
             pattern_form(first_day="2026-11-10", last_day="2026-11-12", day_start="22:00", day_end="02:00",
                          block_minutes="60", seats="3"))
    shifts = session.scalars(select(Shift).order_by(Shift.starts_at)).all()
    assert len(shifts) == 12
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in shifts)


# --- editing and removing one shift ----------------------------------------------------------

@pytest.fixture
def held_shift(factory, owner, session):
    """A published shift (2 Nov 10:00–12:00 Shanghai, 3 seats) with two seats taken."""
    campaign = factory.campaign(owner, tags=(), shifts=[(24, 2, 3)])
    shift = factory.shifts(campaign)[0]
    agents = [factory.agent(), factory.agent()]
    for agent in agents:
        claims.claim_shift(session, agent=agent, shift_id=shift.id, now=clock.now())
    session.commit()
    return shift, agents


def shift_form(**changes):
    data = {"day": "2026-11-02", "start": "10:00", "end": "12:00", "seats": "3"}
    data.update(changes)
    return data


def test_the_shift_form_shows_local_times_and_saves_more_seats(web, held_shift, session):
    shift, _ = held_shift
    form = assert_page(web.get(f"/client/shifts/{shift.id}/edit")).get_data(as_text=True)
    assert 'value="2026-11-02"' in form and 'value="10:00"' in form and "2 seats taken" in text_of(
        web.get(f"/client/shifts/{shift.id}/edit"))
    response = web.post(f"/client/shifts/{shift.id}/edit", shift_form(seats="10"))
    assert redirected_to(response, f"/client/campaigns/{shift.campaign_id}")
    session.refresh(shift)
    assert (shift.seats, shift.seats_taken) == (10, 2)


def test_seats_below_those_taken_are_a_conflict(web, held_shift, session):
    shift, _ = held_shift
    response = assert_page(web.post(f"/client/shifts/{shift.id}/edit", shift_form(seats="1")), 409)
    assert "More seats are taken than that" in text_of(response)
    session.refresh(shift)
    assert shift.seats == 3


def test_the_time_of_a_shift_with_claims_cannot_change(web, held_shift, session):
    shift, _ = held_shift
    response = assert_page(web.post(f"/client/shifts/{shift.id}/edit", shift_form(start="11:00", end="13:00")), 409)
    assert "its time cannot change" in text_of(response)
    session.refresh(shift)
    assert shift.starts_at == datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def test_the_time_of_an_empty_shift_moves(web, factory, owner, session):
    shift = factory.shifts(factory.campaign(owner, tags=(), shifts=[(24, 2, 3)]))[0]
    response = web.post(f"/client/shifts/{shift.id}/edit", shift_form(start="22:00", end="00:00"))
    assert response.status_code == 302
    session.refresh(shift)
    assert (shift.starts_at, shift.ends_at) == (datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
                                                datetime(2026, 11, 2, 16, 0, tzinfo=UTC))


@pytest.mark.parametrize("changes, status", [
    ({"day": "2026-10-30"}, 400),  # into the past
    ({"seats": "0"}, 400),
    ({"seats": "5001"}, 400),
    ({"start": "10:00", "end": "10:10"}, 400),  # too short
    ({"start": "10:00", "end": "10:00"}, 400),  # 24 hours
    ({"day": "2026-13-01"}, 400),
    ({"day": "9999-12-31", "start": "22:00", "end": "00:00"}, 400),  # the day after would overflow
    ({"day": "0001-01-01", "start": "02:00", "end": "04:00"}, 400),
    ({"day": "2026-12-05"}, 400),  # after the campaign's last day
])
def test_a_hostile_shift_edit_is_refused(web, factory, owner, session, changes, status):
    shift = factory.shifts(factory.campaign(owner, tags=(), shifts=[(24, 2, 3)]))[0]
    before = (shift.starts_at, shift.ends_at, shift.seats)
    assert_page(web.post(f"/client/shifts/{shift.id}/edit", shift_form(**changes)), status)
    session.refresh(shift)
    assert (shift.starts_at, shift.ends_at, shift.seats) == before


def test_moving_a_shift_onto_another_shifts_window_is_a_conflict_not_a_crash(web, factory, owner, session):
    first, second = factory.shifts(factory.campaign(owner, tags=(), shifts=[(24, 2, 3), (26, 2, 3)]))
    response = assert_page(web.post(f"/client/shifts/{second.id}/edit", shift_form(start="10:00", end="12:00")), 409)
    assert "already has a shift at this time" in text_of(response)
    session.refresh(second)
    assert second.starts_at == datetime(2026, 11, 2, 4, 0, tzinfo=UTC)


def test_removing_a_shift_releases_its_seats_and_tells_each_agent(web, held_shift, session):
    shift, agents = held_shift
    response = web.post(f"/client/shifts/{shift.id}/remove")
    assert redirected_to(response, f"/client/campaigns/{shift.campaign_id}")
    assert "agents holding seats were told" in text_of(web.get(f"/client/campaigns/{shift.campaign_id}"))
    session.refresh(shift)
    assert (shift.status, shift.seats_taken) == (ShiftStatus.CANCELLED, 0)
    assert set(session.scalars(select(Claim.status))) == {ClaimStatus.CANCELLED}
    told = session.scalars(select(Notification.user_id).where(Notification.kind == "claim.cancelled_by_client"))
    assert sorted(told) == sorted(a.id for a in agents)
    again = assert_page(web.post(f"/client/shifts/{shift.id}/remove"), 409)
    assert "This shift was removed." in text_of(again)
    told_again = session.scalars(select(Notification.id).where(Notification.kind == "claim.cancelled_by_client"))
    assert len(list(told_again)) == 2  # the second removal told nobody again


def test_a_started_shift_cannot_be_removed(web, held_shift, session):
    shift, _ = held_shift
    clock.freeze(clock.now() + timedelta(hours=25))
    assert_page(web.post(f"/client/shifts/{shift.id}/remove"), 409)
    session.refresh(shift)
    assert shift.status == ShiftStatus.OPEN


# --- publishing and cancelling -------------------------------------------------------------

def fund_wallet(session, organisation_id, fen=1_000_000):
    from app.ledger import services as ledger
    from app.ledger.payments import Payment

    payment = Payment(payment_id=f"test-{organisation_id}", amount_fen=fen, succeeded=True, provider="test")
    ledger.top_up(session, organisation_id=organisation_id, payment=payment, now=clock.now())
    session.commit()


def test_publishing_needs_a_future_shift_and_says_so(web, owner, draft, session):
    response = assert_page(web.post(f"/client/campaigns/{draft.id}/publish"), 409)
    assert "Add at least one future shift before publishing." in text_of(response)
    session.refresh(draft)
    assert draft.status == CampaignStatus.DRAFT

    web.post(f"/client/campaigns/{draft.id}/shifts/generate", pattern_form())
    assert_page(web.post(f"/client/campaigns/{draft.id}/publish"), 409)  # the wallet cannot cover the budget yet
    session.refresh(draft)
    assert draft.status == CampaignStatus.DRAFT

    fund_wallet(session, owner.organisation_id)
    response = web.post(f"/client/campaigns/{draft.id}/publish")
    assert redirected_to(response, f"/client/campaigns/{draft.id}")
    session.refresh(draft)
    assert draft.status == CampaignStatus.PUBLISHED and draft.published_at == clock.now()
    again = assert_page(web.post(f"/client/campaigns/{draft.id}/publish"), 409)
    assert "cannot become" in text_of(again)


def test_cancelling_a_campaign_frees_its_seats_and_a_second_cancel_is_a_conflict(web, held_shift, session):
    shift, agents = held_shift
    response = web.post(f"/client/campaigns/{shift.campaign_id}/cancel")
    assert redirected_to(response, f"/client/campaigns/{shift.campaign_id}")
    assert session.scalar(select(Campaign.status)) == CampaignStatus.CANCELLED
    assert session.scalar(select(func.count(Claim.id)).where(Claim.is_active)) == 0
    assert_page(web.post(f"/client/campaigns/{shift.campaign_id}/cancel"), 409)
    assert_page(web.post(f"/client/campaigns/{shift.campaign_id}/shifts/generate", pattern_form()), 409)


def test_state_changes_need_post_and_a_csrf_token(web, draft, session):
    assert_page(web.get(f"/client/campaigns/{draft.id}/publish"), 405)
    assert_page(web.post(f"/client/campaigns/{draft.id}/cancel", csrf=False), 400)
    session.refresh(draft)
    assert draft.status == CampaignStatus.DRAFT


# --- tenancy and roles ---------------------------------------------------------------------

def client_routes(campaign_id, shift_id):
    return [
        ("GET", f"/client/campaigns/{campaign_id}", None),
        ("GET", f"/client/campaigns/{campaign_id}/edit", None),
        ("POST", f"/client/campaigns/{campaign_id}/edit", campaign_form()),
        ("POST", f"/client/campaigns/{campaign_id}/shifts/generate", pattern_form()),
        ("POST", f"/client/campaigns/{campaign_id}/publish", {}),
        ("POST", f"/client/campaigns/{campaign_id}/cancel", {}),
        ("GET", f"/client/shifts/{shift_id}/edit", None),
        ("POST", f"/client/shifts/{shift_id}/edit", shift_form(seats="1")),
        ("POST", f"/client/shifts/{shift_id}/remove", {}),
    ]


def test_another_clients_campaign_and_shift_ids_are_not_found_on_every_route(factory, make_browser, session):
    victim = factory.client()
    campaign = factory.campaign(victim, tags=(), shifts=[(24, 2, 3)], publish=False)
    shift = factory.shifts(campaign)[0]
    intruder = logged_in(make_browser, factory.client())
    for method, url, data in client_routes(campaign.id, shift.id):
        response = intruder.get(url) if method == "GET" else intruder.post(url, data)
        assert_page(response, 404)
    session.refresh(campaign)
    session.refresh(shift)
    assert (campaign.status, campaign.name, shift.seats, shift.status) == ("draft", "双11 售后", 3, "open")
    assert count(session, Shift) == 1


@pytest.mark.parametrize("campaign_id, shift_id", [(999_999, 999_999), (2**31 - 1, 2**31 - 1), (2**31, 2**31),
                                                   (2**63, 2**63), (10**20, 10**20),
                                                   ("-1", "-1"), ("abc", "abc")])
def test_missing_overflowing_and_non_numeric_ids_are_not_found(web, campaign_id, shift_id):
    for method, url, data in client_routes(campaign_id, shift_id):
        response = web.get(url) if method == "GET" else web.post(url, data)
        assert_page(response, 404)


def test_agents_and_admins_are_forbidden_and_anonymous_users_are_sent_to_log_in(factory, make_browser, client):
    campaign = factory.campaign(tags=(), shifts=[(24, 2, 3)], publish=False)
    shift = factory.shifts(campaign)[0]
    routes = [("GET", "/client/", None), ("GET", "/client/campaigns/new", None),
              ("POST", "/client/campaigns/new", campaign_form()), *client_routes(campaign.id, shift.id)]
    for user in (factory.agent(), factory.admin()):
        browser = logged_in(make_browser, user)
        for method, url, data in routes:
            response = browser.get(url) if method == "GET" else browser.post(url, data)
            assert_page(response, 403)
    anonymous = english(make_browser())
    for method, url, data in routes:
        response = anonymous.get(url) if method == "GET" else anonymous.post(url, data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
