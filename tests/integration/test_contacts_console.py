"""The work console: next contact, outcomes, callbacks, do-not-call, inbound logging, settlement reads."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.claims.models import Claim
from app.contacts import queries, services
from app.contacts.models import Contact, ContactAttempt, ContactStatus, InboundContact
from app.core import clock
from app.core.errors import Conflict, Invalid, NotFound
from app.core.timefmt import display_tz
from app.members.models import User
from tests.integration.contacts_support import (
    checked_in_claims,
    csv_bytes,
    import_directly,
    outbound_campaign,
    phone_of,
    phones,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.web import assert_page, logged_in, text_of


@pytest.fixture
def shop(session, factory, uploads):
    """An outbound campaign with 5 customers and two agents checked in to its shift."""
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    import_directly(session, campaign, owner, csv_bytes([f"客户{i},{p},备注{i}" for i, p in enumerate(phones(5))]),
                    uploads)
    agents = [factory.agent(), factory.agent()]
    claim_ids = checked_in_claims(session, factory, campaign, agents)
    return campaign, agents, claim_ids


def outcome(session, agent, claim_id, contact_id, kind, **kw):
    data = services.OutcomeInput(outcome=kind, duration_seconds=kw.pop("duration", 60), notes=kw.pop("notes", ""),
                                 callback_at=kw.pop("callback_at", None))
    attempt = services.record_outcome(session, agent_id=agent.id, claim_id=claim_id, contact_id=contact_id, data=data,
                                      now=clock.now())
    session.commit()
    return attempt


def take(session, agent, claim_id):
    picked = services.next_contact(session, agent_id=agent.id, claim_id=claim_id, now=clock.now())
    session.commit()
    return picked


def test_agents_get_different_contacts_in_list_order_and_a_second_tap_returns_the_same_one(session, shop):
    campaign, (a, b), (claim_a, claim_b) = shop
    first = take(session, a, claim_a)
    assert take(session, a, claim_a) == first
    second = take(session, b, claim_b)
    assert first != second
    contact = session.get(Contact, first)
    assert (contact.status, contact.assigned_agent_id, contact.assigned_claim_id) == ("assigned", a.id, claim_a)
    assert contact.source_row == 2 and session.get(Contact, second).source_row == 3


def test_the_list_runs_out_and_says_so(session, shop):
    campaign, (a, _), (claim_a, _) = shop
    seen = []
    while (picked := take(session, a, claim_a)) is not None:
        seen.append(picked)
        outcome(session, a, claim_a, picked, "reached")
    assert len(seen) == len(set(seen)) == 5


def test_a_callback_comes_back_to_the_list_at_its_time_not_before(session, shop):
    campaign, (a, b), (claim_a, claim_b) = shop
    picked = take(session, a, claim_a)
    at = clock.now() + timedelta(hours=1)
    outcome(session, a, claim_a, picked, "callback", callback_at=at)
    assert session.get(Contact, picked).status == ContactStatus.CALLBACK
    handed = set()
    while (other := take(session, b, claim_b)) is not None:
        handed.add(other)
        outcome(session, b, claim_b, other, "refused")
    assert picked not in handed and len(handed) == 4
    clock.freeze(at)
    assert take(session, b, claim_b) == picked  # due now, and callbacks come first


def test_a_due_callback_is_handed_out_before_new_contacts(session, shop):
    campaign, (a, b), (claim_a, claim_b) = shop
    picked = take(session, a, claim_a)
    outcome(session, a, claim_a, picked, "callback", callback_at=clock.now() + timedelta(minutes=10))
    clock.freeze(clock.now() + timedelta(minutes=11))
    assert take(session, b, claim_b) == picked


def test_do_not_call_is_never_handed_out_again(session, shop, uploads):
    campaign, (a, b), (claim_a, claim_b) = shop
    dnc = take(session, a, claim_a)
    outcome(session, a, claim_a, dnc, "do_not_call")
    clock.freeze(clock.now() + timedelta(hours=2))
    handed = []
    while (picked := take(session, b, claim_b)) is not None:
        handed.append(picked)
        outcome(session, b, claim_b, picked, "no_answer")
    assert dnc not in handed
    # Uploading the number again does not bring it back either: it is a duplicate in the campaign.
    number = services.phones.dial_string(phone_of(session.get(Contact, dnc)))
    owner = session.get(User, campaign.created_by_id)
    again = import_directly(session, campaign, owner, csv_bytes([f"又来,{number},"]), uploads)
    assert again.rows_accepted == 0
    assert session.get(Contact, dnc).status == ContactStatus.DO_NOT_CALL


def test_no_answer_comes_back_after_a_while_and_stops_after_three_tries(session, shop):
    campaign, (a, _), (claim_a, _) = shop
    first = take(session, a, claim_a)
    for attempt in range(1, 4):
        outcome(session, a, claim_a, first, "no_answer")
        contact = session.get(Contact, first)
        if attempt < 3:
            assert contact.status == ContactStatus.CALLBACK
            assert contact.callback_at == clock.now() + services.RETRY_AFTER
            clock.freeze(contact.callback_at)
            assert take(session, a, claim_a) == first
    assert session.get(Contact, first).status == ContactStatus.DONE
    assert session.get(Contact, first).attempts == 3


def test_an_outcome_is_recorded_once_and_only_by_the_holder(session, shop):
    campaign, (a, b), (claim_a, claim_b) = shop
    picked = take(session, a, claim_a)
    with pytest.raises(Exception) as exc:
        outcome(session, b, claim_b, picked, "reached")
    session.rollback()
    assert exc.value.status == 403
    outcome(session, a, claim_a, picked, "converted")
    with pytest.raises(Exception) as exc:
        outcome(session, a, claim_a, picked, "converted")
    session.rollback()
    assert exc.value.status in (403, 409)
    assert session.scalar(select(func.count(ContactAttempt.id))) == 1


def test_the_console_needs_a_checked_in_claim_of_your_own_during_its_shift(session, shop, factory):
    campaign, (a, b), (claim_a, claim_b) = shop
    with pytest.raises(NotFound):
        services.next_contact(session, agent_id=b.id, claim_id=claim_a, now=clock.now())
    session.rollback()
    session.execute(update(Claim).where(Claim.id == claim_b).values(status="completed"))
    session.commit()
    with pytest.raises(Conflict):
        services.next_contact(session, agent_id=b.id, claim_id=claim_b, now=clock.now())
    session.rollback()
    ends = session.get(Claim, claim_a).ends_at
    with pytest.raises(Conflict):
        services.next_contact(session, agent_id=a.id, claim_id=claim_a, now=ends)
    session.rollback()


def test_contacts_held_by_a_finished_shift_go_back_to_the_list(session, shop):
    campaign, (a, b), (claim_a, claim_b) = shop
    picked = take(session, a, claim_a)
    session.execute(update(Claim).where(Claim.id == claim_a).values(status="completed"))
    session.commit()
    assert services.release_stale_assignments(session, now=clock.now()) == 1
    session.commit()
    assert session.get(Contact, picked).status == ContactStatus.NEW
    assert take(session, b, claim_b) == picked


def test_callback_times_must_be_in_the_future_and_before_the_campaign_ends(session, shop):
    campaign, (a, _), (claim_a, _) = shop
    picked = take(session, a, claim_a)
    end = services.campaign_ends_at(campaign)
    for when in (None, clock.now() - timedelta(minutes=1), clock.now(), end, end + timedelta(days=1)):
        with pytest.raises(Invalid) as exc:
            outcome(session, a, claim_a, picked, "callback", callback_at=when)
        session.rollback()
        assert exc.value.field == "callback_at"
    outcome(session, a, claim_a, picked, "callback", callback_at=end - timedelta(minutes=1))


def test_settlement_reads_count_handled_contacts_and_successes_per_claim(session, shop, factory):
    campaign, (a, b), (claim_a, claim_b) = shop
    for kind in ("converted", "no_answer", "reactivated"):
        outcome(session, a, claim_a, take(session, a, claim_a), kind)
    outcome(session, b, claim_b, take(session, b, claim_b), "refused")
    inbound = factory.campaign(tags=(), kind="inbound", shifts=[(30, 2, 5)])
    agent = factory.agent()
    (claim_c,) = checked_in_claims(session, factory, inbound, [agent])
    for _ in range(2):
        services.log_inbound_contact(session, agent_id=agent.id, claim_id=claim_c, now=clock.now(),
                                     data=services.InboundInput("chat", "order", "resolved", 120))
    session.commit()
    handled = queries.contacts_handled_by_claim(session, [claim_a, claim_b, claim_c, 999_999])
    assert handled == {claim_a: 3, claim_b: 1, claim_c: 2, 999_999: 0}
    assert queries.successes_by_claim(session, [claim_a, claim_b, claim_c]) == {claim_a: 2, claim_b: 0, claim_c: 0}
    assert queries.contacts_handled_by_claim(session, []) == {}


# --- through the pages --------------------------------------------------------------------------------

@pytest.fixture
def agent_web(shop, make_browser):
    campaign, (a, b), (claim_a, claim_b) = shop
    return logged_in(make_browser, a), campaign, a, claim_a


def test_my_shifts_links_the_console_of_a_checked_in_claim(agent_web):
    web, campaign, agent, claim_id = agent_web
    page = web.get("/agent/my-shifts").get_data(as_text=True)
    assert f"/agent/claims/{claim_id}/console" in page


def test_the_console_hands_out_a_contact_with_a_masked_number_and_the_script(session, agent_web):
    web, campaign, agent, claim_id = agent_web
    page = text_of(assert_page(web.get(f"/agent/claims/{claim_id}/console")))
    assert "Next contact" in page and "您好" in page
    response = web.post(f"/agent/claims/{claim_id}/console/next")
    assert response.status_code == 302
    page = text_of(assert_page(web.get(f"/agent/claims/{claim_id}/console")))
    assert "客户0" in page and "139****0000" in page and "13900000000" not in page
    assert "备注0" in page and "Save outcome" in page


def test_saving_an_outcome_through_the_page_frees_the_agent_for_the_next(session, agent_web):
    web, campaign, agent, claim_id = agent_web
    web.post(f"/agent/claims/{claim_id}/console/next")
    contact_id = services.held_contact_id(session, agent_id=agent.id)[0]
    session.rollback()
    local = (clock.now() + timedelta(hours=2)).astimezone(display_tz()).strftime("%Y-%m-%dT%H:%M")
    response = web.post(f"/agent/claims/{claim_id}/console/contacts/{contact_id}/outcome",
                        {"outcome": "callback", "callback_at": local, "duration_seconds": "95", "notes": "晚点再打"})
    assert response.status_code == 302
    session.rollback()
    contact = session.get(Contact, contact_id)
    assert contact.status == ContactStatus.CALLBACK
    assert contact.callback_at == (clock.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    attempt = session.scalars(select(ContactAttempt)).one()
    assert (attempt.duration_seconds, attempt.notes, attempt.claim_id) == (95, "晚点再打", claim_id)
    page = text_of(web.get(f"/agent/claims/{claim_id}/console"))
    assert "Next contact" in page and "Handled this shift: 1" in page


@pytest.mark.parametrize("form, field_error", [
    ({"outcome": "", "duration_seconds": "10"}, "Choose an outcome."),
    ({"outcome": "teleported", "duration_seconds": "10"}, "Not a valid choice"),
    ({"outcome": "reached", "duration_seconds": ""}, "Enter a whole number."),
    ({"outcome": "reached", "duration_seconds": "-5"}, "Between 0 and"),
    ({"outcome": "reached", "duration_seconds": "1e309"}, None),
    ({"outcome": "reached", "duration_seconds": "NaN"}, None),
    ({"outcome": "reached", "duration_seconds": "99999999999999999999"}, "Between 0 and"),
    ({"outcome": "reached", "duration_seconds": "12.5"}, None),
    ({"outcome": "reached", "duration_seconds": "10", "notes": "x" * 2001}, None),
    ({"outcome": "reached", "duration_seconds": "10", "notes": "bad\x00byte"}, "not allowed"),
    ({"outcome": "callback", "duration_seconds": "10"}, "Enter when to call back."),
    ({"outcome": "callback", "duration_seconds": "10", "callback_at": "2026-02-31T10:00"}, None),
    ({"outcome": "callback", "duration_seconds": "10", "callback_at": "tomorrow"}, None),
    ({"outcome": "callback", "duration_seconds": "10", "callback_at": "2020-01-01T10:00"}, "in the future"),
    ({"outcome": "callback", "duration_seconds": "10", "callback_at": "2030-01-01T10:00"}, "before the campaign ends"),
])
def test_every_bad_outcome_form_is_a_4xx_and_changes_nothing(session, agent_web, form, field_error):
    web, campaign, agent, claim_id = agent_web
    web.post(f"/agent/claims/{claim_id}/console/next")
    contact_id = services.held_contact_id(session, agent_id=agent.id)[0]
    session.rollback()
    response = web.post(f"/agent/claims/{claim_id}/console/contacts/{contact_id}/outcome", form)
    assert 400 <= response.status_code < 500, response.status_code
    assert_page(response, response.status_code)
    if field_error:
        assert field_error in text_of(response)
    session.rollback()
    assert session.get(Contact, contact_id).status == ContactStatus.ASSIGNED
    assert session.scalar(select(func.count(ContactAttempt.id))) == 0


def test_markup_in_notes_and_names_is_shown_as_text(session, agent_web, uploads, factory):
    web, campaign, agent, claim_id = agent_web
    session.execute(update(Contact).where(Contact.campaign_id == campaign.id)
                    .values(name='<script>alert(1)</script>'))
    session.commit()
    web.post(f"/agent/claims/{claim_id}/console/next")
    html = web.get(f"/agent/claims/{claim_id}/console").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_outcome_posts_for_another_agents_claim_or_contact_are_404_or_403(session, shop, make_browser):
    campaign, (a, b), (claim_a, claim_b) = shop
    held = take(session, a, claim_a)
    web_b = logged_in(make_browser, b)
    form = {"outcome": "reached", "duration_seconds": "10"}
    assert web_b.post(f"/agent/claims/{claim_a}/console/contacts/{held}/outcome", form).status_code == 404
    assert web_b.post(f"/agent/claims/{claim_b}/console/contacts/{held}/outcome", form).status_code == 403
    assert web_b.post(f"/agent/claims/{claim_b}/console/contacts/999999/outcome", form).status_code == 404
    assert web_b.get(f"/agent/claims/{claim_a}/console").status_code == 404
    assert web_b.post(f"/agent/claims/{claim_a}/console/next").status_code == 404
    session.rollback()
    assert session.get(Contact, held).assigned_agent_id == a.id


def test_a_claim_that_is_not_checked_in_has_no_console(session, factory, make_browser):
    campaign = outbound_campaign(factory)
    agent = factory.agent()
    from app.claims import services as claims

    claim = claims.claim_shift(session, agent=agent, shift_id=factory.shifts(campaign)[0].id, now=clock.now())
    session.commit()
    web = logged_in(make_browser, agent)
    page = web.get(f"/agent/claims/{claim.id}/console")
    assert_page(page, 409)
    assert "checked in" in text_of(page)
    assert f"/agent/claims/{claim.id}/console" not in web.get("/agent/my-shifts").get_data(as_text=True)
    assert web.post(f"/agent/claims/{claim.id}/console/next").status_code == 409


def test_clients_cannot_use_the_console(shop, make_browser, factory):
    campaign, agents, (claim_a, _) = shop
    web = logged_in(make_browser, factory.client())
    assert web.get(f"/agent/claims/{claim_a}/console").status_code == 403


# --- inbound ------------------------------------------------------------------------------------------

@pytest.fixture
def inbound_web(session, factory, make_browser):
    campaign = factory.campaign(tags=(), kind="inbound", shifts=[(1, 4, 5)])
    agent = factory.agent()
    (claim_id,) = checked_in_claims(session, factory, campaign, [agent])
    return logged_in(make_browser, agent), campaign, agent, claim_id


def test_an_inbound_agent_logs_each_contact_from_the_console(session, inbound_web):
    web, campaign, agent, claim_id = inbound_web
    page = text_of(assert_page(web.get(f"/agent/claims/{claim_id}/console")))
    assert "Log a contact" in page and "Next contact" not in page
    response = web.post(f"/agent/claims/{claim_id}/console/inbound",
                        {"channel": "app", "category": "complaint", "resolution": "escalated",
                         "duration_seconds": "240", "notes": "物流延误，已升级"})
    assert response.status_code == 302
    logged = session.scalars(select(InboundContact)).one()
    assert (logged.channel, logged.category, logged.resolution, logged.duration_seconds, logged.agent_id) == \
        ("app", "complaint", "escalated", 240, agent.id)
    page = text_of(web.get(f"/agent/claims/{claim_id}/console"))
    assert "Handled this shift: 1" in page and "物流延误，已升级" in page
    assert web.post(f"/agent/claims/{claim_id}/console/next").status_code == 409


@pytest.mark.parametrize("form", [
    {"channel": "fax", "category": "order", "resolution": "resolved", "duration_seconds": "10"},
    {"channel": "chat", "category": "weather", "resolution": "resolved", "duration_seconds": "10"},
    {"channel": "chat", "category": "order", "resolution": "maybe", "duration_seconds": "10"},
    {"channel": "chat", "category": "order", "resolution": "resolved", "duration_seconds": "-1"},
    {"channel": "chat", "category": "order", "resolution": "resolved", "duration_seconds": "abc"},
    {"channel": "chat", "category": "order", "resolution": "resolved", "duration_seconds": "99999"},
    {"channel": "chat", "category": "order", "resolution": "resolved", "duration_seconds": "10", "notes": "x" * 3000},
    {},
])
def test_every_bad_inbound_form_is_a_4xx_and_logs_nothing(session, inbound_web, form):
    web, campaign, agent, claim_id = inbound_web
    response = web.post(f"/agent/claims/{claim_id}/console/inbound", form)
    assert 400 <= response.status_code < 500
    assert_page(response, response.status_code)
    assert session.scalar(select(func.count(InboundContact.id))) == 0


def test_inbound_logging_needs_a_checked_in_inbound_claim(session, inbound_web, shop):
    web, campaign, agent, claim_id = inbound_web
    outbound_campaign, (a, _), (claim_a, _) = shop
    form = {"channel": "chat", "category": "order", "resolution": "resolved", "duration_seconds": "10"}
    assert web.post(f"/agent/claims/{claim_a}/console/inbound", form).status_code == 404
    session.execute(update(Claim).where(Claim.id == claim_id).values(status="completed"))
    session.commit()
    assert web.post(f"/agent/claims/{claim_id}/console/inbound", form).status_code == 409
    with pytest.raises(Conflict):
        services.log_inbound_contact(session, agent_id=a.id, claim_id=claim_a, now=clock.now(),
                                     data=services.InboundInput("chat", "order", "resolved", 10))
    session.rollback()
