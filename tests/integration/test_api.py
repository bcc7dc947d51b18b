"""The REST API: tokens, the JSON error shape, campaigns, shifts, call lists, results, idempotency, limits."""

from __future__ import annotations

import io
import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api import services as api
from app.api.models import ApiToken, IdempotencyKey
from app.campaigns.models import Campaign, Shift
from app.core import clock
from app.core.db import db
from app.ledger import services as ledger
from app.ledger.payments import Payment
from app.members.models import AuditLog
from tests.integration.api_support import assert_error, auth, campaign_body, make_token
from tests.integration.contacts_support import (
    csv_bytes,
    outbound_campaign,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.contacts_support import phones as phone_numbers
from tests.integration.web import assert_page, count_statements, logged_in, text_of


@pytest.fixture
def owner(factory):
    return factory.client()


@pytest.fixture
def token(session, owner):
    return make_token(session, owner)


# --- tokens -----------------------------------------------------------------------------------------

def test_a_client_creates_a_token_on_the_settings_page_and_sees_it_once(make_browser, session, owner):
    browser = logged_in(make_browser, owner)
    assert "/client/settings/api" in text_of(assert_page(browser.get("/team")))
    response = assert_page(browser.post("/client/settings/api", {"name": "ERP", "scope": "write"}))
    page = text_of(response)
    stored = session.scalar(select(ApiToken))
    secret = page.split("<code>")[1].split("</code>")[0]
    assert secret.startswith("sl_") and len(secret) > 40 and secret.startswith(stored.prefix)
    assert stored.token_hash == api.hash_token(secret) and secret not in json.dumps(
        [stored.name, stored.prefix, stored.token_hash])
    assert response.headers["Cache-Control"] == "no-store"
    again = text_of(assert_page(browser.get("/client/settings/api")))
    assert secret not in again and stored.prefix in again
    assert session.scalar(select(AuditLog.action).where(AuditLog.target_type == "api_token")) == "api_token.create"
    assert browser.client.get("/api/v1/campaigns", headers=auth(secret)).status_code == 200


def test_a_revoked_token_is_refused_at_once_and_the_revocation_is_audited(make_browser, session, owner):
    secret = make_token(session, owner)
    token_id = session.scalar(select(ApiToken.id))
    browser = logged_in(make_browser, owner)
    assert browser.post(f"/client/settings/api/{token_id}/revoke").status_code == 302
    assert_error(browser.client.get("/api/v1/campaigns", headers=auth(secret)), 401, "token_revoked")
    actions = set(session.scalars(select(AuditLog.action).where(AuditLog.target_id == token_id)))
    assert actions == {"api_token.create", "api_token.revoke"}


def test_a_token_may_expire_on_a_chosen_day_and_bad_choices_are_refused(make_browser, session, owner):
    from datetime import UTC, datetime

    browser = logged_in(make_browser, owner)
    assert_page(browser.post("/client/settings/api", {"name": "nightly", "scope": "read",
                                                      "expires_on": "2026-11-30"}))
    # Valid through the 30th in Shanghai: it ends at midnight there, 16:00 UTC.
    assert session.scalar(select(ApiToken.expires_at)) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    for bad in ({"name": "x", "scope": "read", "expires_on": "2026-10-01"},
                {"name": "x", "scope": "read", "expires_on": "2028-01-01"},
                {"name": "x", "scope": "read", "expires_on": "9999-12-31"},
                {"name": "x", "scope": "admin"}, {"name": " ", "scope": "read"}):
        assert_page(browser.post("/client/settings/api", bad), 400)
    assert session.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_another_business_cannot_revoke_a_token(make_browser, session, owner, factory):
    make_token(session, owner)
    token_id = session.scalar(select(ApiToken.id))
    stranger = logged_in(make_browser, factory.client())
    assert stranger.post(f"/client/settings/api/{token_id}/revoke").status_code == 404
    assert session.get(ApiToken, token_id).revoked_at is None


def test_the_token_page_reads_the_creators_with_the_tokens_not_one_by_one(make_browser, session, owner):
    from app.members import services as members

    browser = logged_in(make_browser, owner)
    make_token(session, owner)
    assert_page(browser.get("/client/settings/api"))  # the first page of a session writes a little more
    one_creator = count_statements(lambda: assert_page(browser.get("/client/settings/api")))
    for n in range(3):
        _invitation, secret = members.invite_colleague(session, inviter=owner, email=f"it{n}@example.cn",
                                                       now=clock.now())
        colleague = members.accept_invitation(session, token=secret, name=f"同事{n}", phone=f"1370000000{n}",
                                              password="a long passphrase 1", now=clock.now())
        session.commit()
        make_token(session, colleague)
    db.session.expunge_all()  # nothing cached: the page reads what it shows
    page = assert_page(browser.get("/client/settings/api"))
    assert all(f"同事{n}" in text_of(page) for n in range(3))
    assert count_statements(lambda: assert_page(browser.get("/client/settings/api"))) == one_creator


def test_agents_cannot_open_the_token_page(make_browser, factory):
    assert logged_in(make_browser, factory.agent()).get("/client/settings/api").status_code == 403


def test_missing_invalid_and_expired_tokens_answer_401(client, session, owner):
    assert_error(client.get("/api/v1/campaigns"), 401, "unauthenticated")
    assert client.get("/api/v1/campaigns").headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(client.get("/api/v1/campaigns", headers=auth("sl_not-a-real-token")), 401, "invalid_token")
    assert_error(client.get("/api/v1/campaigns", headers={"Authorization": "Basic abc"}), 401, "unauthenticated")
    expiring = make_token(session, owner, expires_at=clock.now() + timedelta(hours=1))
    assert client.get("/api/v1/campaigns", headers=auth(expiring)).status_code == 200
    clock.freeze(clock.now() + timedelta(hours=1))
    assert_error(client.get("/api/v1/campaigns", headers=auth(expiring)), 401, "token_expired")


def test_a_read_token_cannot_write_and_use_is_recorded(client, session, owner):
    read = make_token(session, owner, "read")
    assert client.get("/api/v1/campaigns", headers=auth(read)).status_code == 200
    assert_error(client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(read)), 403,
                 "insufficient_scope")
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0
    db.session.expire_all()
    assert session.scalar(select(ApiToken.last_used_at)) == clock.now()


def test_a_suspended_creator_s_tokens_stop_working(client, session, owner, factory):
    from app.members import services as members

    secret = make_token(session, owner)
    members.set_status(session, admin=factory.admin(), user_id=owner.id, status="suspended", reason="test",
                       now=clock.now())
    session.commit()
    assert_error(client.get("/api/v1/campaigns", headers=auth(secret)), 401, "token_owner_inactive")


def test_api_answers_never_set_a_session_cookie(client, token):
    for response in (client.get("/api/v1/campaigns", headers=auth(token)), client.get("/api/v1/campaigns"),
                     client.get("/api/v1/nowhere")):
        assert "Set-Cookie" not in response.headers


# --- campaigns --------------------------------------------------------------------------------------

def test_create_read_and_list_campaigns_with_cursor_pages(client, session, token):
    created = client.post("/api/v1/campaigns", json=campaign_body(required_tags=["skill.inbound_support"]),
                          headers=auth(token))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "draft" and body["required_tags"] == ["skill.inbound_support"]
    assert body["shifts"] == {"count": 0, "seats": 0, "seats_taken": 0}
    assert created.headers["Location"].endswith(f"/api/v1/campaigns/{body['id']}")
    assert client.get(f"/api/v1/campaigns/{body['id']}", headers=auth(token)).get_json() == body
    for n in range(4):
        response = client.post("/api/v1/campaigns", json=campaign_body(name=f"c{n}"), headers=auth(token))
        assert response.status_code == 201
    seen, cursor = [], None
    while True:
        url = "/api/v1/campaigns?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=auth(token)).get_json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen)) == 5


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=!!!", "cursor=LTE", "limit=-1",
                                   "limit=%EF%BC%91", "limit=" + "9" * 5000, "cursor=" + "M" * 6000])
def test_bad_paging_arguments_are_422(client, token, query):
    error = assert_error(client.get(f"/api/v1/campaigns?{query}", headers=auth(token)), 422, "validation_failed")
    assert error["details"][0]["field"] in ("limit", "cursor")


def test_another_business_s_campaign_is_404_like_a_missing_one(client, session, factory, token):
    theirs = outbound_campaign(factory)
    for path in (f"/api/v1/campaigns/{theirs.id}", f"/api/v1/campaigns/{theirs.id}/stats",
                 f"/api/v1/campaigns/{theirs.id}/contacts", "/api/v1/campaigns/999999",
                 "/api/v1/campaigns/99999999999999999999", "/api/v1/call-lists/1"):
        assert_error(client.get(path, headers=auth(token)), 404, "not_found")
    assert_error(client.post(f"/api/v1/campaigns/{theirs.id}/publish", headers=auth(token)), 404, "not_found")
    assert_error(client.post(f"/api/v1/campaigns/{theirs.id}/shifts", json={"shifts": []}, headers=auth(token)),
                 404, "not_found")


def test_unknown_urls_and_methods_answer_json_not_html(client, token):
    assert_error(client.get("/api/v1/nowhere", headers=auth(token)), 404, "not_found")
    response = client.delete("/api/v1/campaigns", headers=auth(token))
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


# --- hostile bodies ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"{", b"{'name': 1}", b"\xff\xfe{}", b"[1,]", b'{"a": NaN}', b'{"a": Infinity}',
                                 b"[" * 100_000, b""])
def test_malformed_json_is_400(client, token, raw):
    response = client.post("/api/v1/campaigns", data=raw, content_type="application/json", headers=auth(token))
    assert_error(response, 400, "malformed_json")


@pytest.mark.parametrize(("changes", "field"), [
    ({"rate_fen_per_hour": "3800"}, "rate_fen_per_hour"),
    ({"rate_fen_per_hour": 38.5}, "rate_fen_per_hour"),
    ({"budget_fen": True}, "budget_fen"),
    ({"budget_fen": 10**20}, "budget_fen"),
    ({"budget_fen": -5}, "budget_fen"),
    ({"name": ["a"]}, "name"),
    ({"name": "x" * 10_001}, "name"),
    ({"starts_on": "2026-02-31"}, "starts_on"),
    ({"starts_on": "11/11/2026"}, "starts_on"),
    ({"kind": "pyramid"}, "kind"),
    ({"required_tags": "skill.inbound_support"}, "required_tags"),
    ({"role": "admin"}, "role"),
    ({"status": "published"}, "status"),
    ({"organisation_id": 1}, "organisation_id"),
])
def test_wrong_types_and_unknown_fields_are_422_and_create_nothing(client, session, token, changes, field):
    error = assert_error(client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=auth(token)),
                         422, "validation_failed")
    assert field in [d["field"] for d in error["details"]]
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_huge_numbers_in_the_text_are_not_integers(client, session, token):
    raw = json.dumps(campaign_body()).replace('"rate_fen_per_hour": 3800', '"rate_fen_per_hour": 1e309').encode()
    error = assert_error(client.post("/api/v1/campaigns", data=raw, content_type="application/json",
                                     headers=auth(token)), 422, "validation_failed")
    assert error["details"] == [{"field": "rate_fen_per_hour", "message": "Must be an integer."}]


def test_a_body_that_is_not_an_object_or_misses_fields_is_422(client, token):
    for body in ([1, 2], "text", 5, {}):
        assert_error(client.post("/api/v1/campaigns", json=body, headers=auth(token)), 422, "validation_failed")


def test_domain_rules_come_back_as_422_with_the_field(client, token):
    today = clock.now().date()
    error = assert_error(client.post("/api/v1/campaigns", headers=auth(token), json=campaign_body(
        ends_on=(today - timedelta(days=1)).isoformat())), 422, "validation_failed")
    assert error["details"] == {"field": "ends_on"}
    assert_error(client.post("/api/v1/campaigns", headers=auth(token), json=campaign_body(industry="industry.none")),
                 422, "validation_failed")
    assert_error(client.post("/api/v1/campaigns", headers=auth(token), json=campaign_body(name=" \u202e\x00 ")),
                 422, "validation_failed")


def test_markup_is_stored_as_text(client, token):
    body = client.post("/api/v1/campaigns", headers=auth(token),
                       json=campaign_body(name='<script>alert(1)</script>" onfocus="x')).get_json()
    assert body["name"] == '<script>alert(1)</script>" onfocus="x'


def test_other_content_types_are_415_and_oversize_bodies_413(client, token):
    assert_error(client.post("/api/v1/campaigns", data={"name": "x"}, headers=auth(token)), 415,
                 "unsupported_media_type")
    huge = json.dumps(campaign_body(description="x" * (1024 * 1024 + 10)))
    assert_error(client.post("/api/v1/campaigns", data=huge, content_type="application/json", headers=auth(token)),
                 413, "too_large")


# --- shifts and publishing ----------------------------------------------------------------------------

def _campaign(client, token, **changes) -> int:
    response = client.post("/api/v1/campaigns", json=campaign_body(**changes), headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_single_shifts_and_a_pattern_go_through_the_generation_rules(client, session, token):
    cid = _campaign(client, token)
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    body = {"shifts": [{"starts_at": f"{tomorrow}T20:00:00+08:00", "ends_at": f"{tomorrow}T23:30:00+08:00",
                        "seats": 4}],
            "pattern": {"first_day": tomorrow, "last_day": tomorrow, "day_start": "08:00", "day_end": "12:00",
                        "block_minutes": 120, "seats": 10}}
    response = client.post(f"/api/v1/campaigns/{cid}/shifts", json=body, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    added = response.get_json()
    assert added["created"] == 3
    assert [(s["starts_at"], s["seats"]) for s in added["shifts"]] == [
        (f"{tomorrow}T00:00:00Z", 10), (f"{tomorrow}T02:00:00Z", 10), (f"{tomorrow}T12:00:00Z", 4)]
    again = client.post(f"/api/v1/campaigns/{cid}/shifts", json=body, headers=auth(token))
    assert again.status_code == 200 and again.get_json()["created"] == 0
    assert session.scalar(select(func.count()).select_from(Shift)) == 3
    campaign = client.get(f"/api/v1/campaigns/{cid}", headers=auth(token)).get_json()
    assert campaign["shifts"] == {"count": 3, "seats": 24, "seats_taken": 0}


@pytest.mark.parametrize("shift", [
    {"starts_at": "2026-10-31T08:00:00+08:00", "ends_at": "2026-10-31T10:00:00+08:00", "seats": 1},  # past
    {"starts_at": "2026-11-05T10:00:00+08:00", "ends_at": "2026-11-05T08:00:00+08:00", "seats": 1},  # reversed
    {"starts_at": "2026-11-05T08:00:00", "ends_at": "2026-11-05T10:00:00", "seats": 1},  # naive
    {"starts_at": "2026-11-05T08:00:30+08:00", "ends_at": "2026-11-05T10:00:30+08:00", "seats": 1},  # seconds
    {"starts_at": "2026-11-05T08:00:00+08:00", "ends_at": "2026-11-05T08:10:00+08:00", "seats": 1},  # short
    {"starts_at": "2026-11-05T08:00:00+08:00", "ends_at": "2026-11-05T10:00:00+08:00", "seats": 0},
    {"starts_at": "2026-11-05T08:00:00+08:00", "ends_at": "2026-11-05T10:00:00+08:00", "seats": 5001},
    {"starts_at": "2027-06-05T08:00:00+08:00", "ends_at": "2027-06-05T10:00:00+08:00", "seats": 1},  # outside
    {"starts_at": "2026-11-05T08:00:00+08:00", "ends_at": "2026-11-05T10:00:00+08:00", "seats": 1, "pay": 9},
])
def test_bad_shifts_are_422_and_add_nothing(client, session, token, shift):
    cid = _campaign(client, token)
    assert_error(client.post(f"/api/v1/campaigns/{cid}/shifts", json={"shifts": [shift]}, headers=auth(token)),
                 422, "validation_failed")
    assert session.scalar(select(func.count()).select_from(Shift)) == 0


def test_a_bad_pattern_or_an_empty_body_is_422(client, token):
    cid = _campaign(client, token)
    for body in ({}, {"shifts": []}, {"pattern": {"first_day": "2026-11-05", "last_day": "2026-11-04",
                                                  "day_start": "08:00", "day_end": "12:00", "block_minutes": 60,
                                                  "seats": 1}},
                 {"pattern": {"first_day": "2026-11-05", "last_day": "2026-11-05", "day_start": "25:00",
                              "day_end": "12:00", "block_minutes": 60, "seats": 1}}):
        assert_error(client.post(f"/api/v1/campaigns/{cid}/shifts", json=body, headers=auth(token)), 422,
                     "validation_failed")


def test_publishing_needs_money_in_the_wallet_then_moves_the_budget_to_escrow(client, session, owner, token):
    cid = _campaign(client, token)
    assert_error(client.post(f"/api/v1/campaigns/{cid}/publish", headers=auth(token)), 409, "conflict")  # no shifts
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    client.post(f"/api/v1/campaigns/{cid}/shifts", headers=auth(token), json={"shifts": [
        {"starts_at": f"{tomorrow}T09:00:00+08:00", "ends_at": f"{tomorrow}T11:00:00+08:00", "seats": 2}]})
    assert_error(client.post(f"/api/v1/campaigns/{cid}/publish", headers=auth(token)), 409, "insufficient_funds")
    assert session.get(Campaign, cid).status == "draft"
    ledger.top_up(session, organisation_id=owner.organisation_id, now=clock.now(), payment=Payment(
        payment_id="api-test", amount_fen=500_000, succeeded=True, provider="test"))
    session.commit()
    published = client.post(f"/api/v1/campaigns/{cid}/publish", headers=auth(token))
    assert published.status_code == 200 and published.get_json()["status"] == "published"
    assert ledger.funded_fen(session, cid) == 500_000
    assert_error(client.post(f"/api/v1/campaigns/{cid}/publish", headers=auth(token)), 409, "conflict")


# --- call lists and contacts ----------------------------------------------------------------------

def test_a_csv_body_is_imported_and_its_status_reported(client, session, token, uploads):
    cid = _campaign(client, token)
    data = csv_bytes([f"客户{i},{p},老客" for i, p in enumerate(phone_numbers(3))] + ["坏号码,12345,"])
    response = client.post(f"/api/v1/campaigns/{cid}/call-lists?filename=名单.csv", data=data,
                           content_type="text/csv", headers=auth(token))
    assert response.status_code == 202, response.get_json()
    assert response.get_json()["filename"] == "名单.csv"
    status = client.get(response.headers["Location"], headers=auth(token)).get_json()
    assert (status["status"], status["rows_accepted"], status["rows_rejected"]) == ("done", 3, 1)
    page = client.get(f"/api/v1/campaigns/{cid}/contacts?limit=2", headers=auth(token)).get_json()
    assert [c["phone_masked"] for c in page["data"]] == ["139****0000", "139****0001"]
    assert page["data"][0] | {"id": 0, "call_list_id": 0} == {
        "id": 0, "call_list_id": 0, "name": "客户0", "phone_masked": "139****0000", "status": "new", "outcome": None,
        "attempts": 0, "handled_seconds": 0, "last_attempt_at": None, "callback_at": None}
    rest = client.get(f"/api/v1/campaigns/{cid}/contacts?cursor={page['next_cursor']}", headers=auth(token))
    assert len(rest.get_json()["data"]) == 1 and rest.get_json()["next_cursor"] is None
    assert "13900000000" not in json.dumps(page) + rest.get_data(as_text=True)


def test_a_multipart_upload_works_and_bad_uploads_are_refused(client, session, token, uploads, monkeypatch, app):
    cid = _campaign(client, token)
    ok = client.post(f"/api/v1/campaigns/{cid}/call-lists", headers=auth(token), content_type="multipart/form-data",
                     data={"file": (io.BytesIO(csv_bytes([phone_numbers(1)[0].join(["a,", ","])])), "l.csv")})
    assert ok.status_code == 202, ok.get_json()
    assert_error(client.post(f"/api/v1/campaigns/{cid}/call-lists", headers=auth(token),
                             content_type="multipart/form-data", data={"other": "x"}), 422, "validation_failed")
    assert_error(client.post(f"/api/v1/campaigns/{cid}/call-lists", headers=auth(token), data=b"PK\x03\x04",
                             content_type="text/csv"), 422, "validation_failed")
    assert_error(client.post(f"/api/v1/campaigns/{cid}/call-lists", headers=auth(token), json={"a": 1}), 415,
                 "unsupported_media_type")
    monkeypatch.setitem(app.config, "CALL_LIST_MAX_BYTES", 100)
    big = csv_bytes([f"x,{p}," for p in phone_numbers(20)])
    assert_error(client.post(f"/api/v1/campaigns/{cid}/call-lists", headers=auth(token), data=big,
                             content_type="text/csv"), 413, "too_large")
    inbound = _campaign(client, token, kind="inbound")
    assert_error(client.post(f"/api/v1/campaigns/{inbound}/call-lists", headers=auth(token), data=b"phone\n1",
                             content_type="text/csv"), 409, "conflict")
    assert not list((uploads / "call_lists").glob("*.csv"))  # refused files are not left behind


def test_contact_outcomes_show_attempts_and_handled_time(client, session, factory, owner, token, uploads):
    from app.contacts import services as contacts
    from tests.integration.contacts_support import checked_in_claims

    campaign = outbound_campaign(factory, owner)
    client.post(f"/api/v1/campaigns/{campaign.id}/call-lists", data=csv_bytes([f"张三,{phone_numbers(1)[0]},"]),
                content_type="text/csv", headers=auth(token))
    agent = factory.agent()
    [claim_id] = checked_in_claims(session, factory, campaign, [agent])
    contact_id = contacts.next_contact(session, agent_id=agent.id, claim_id=claim_id, now=clock.now())
    contacts.record_outcome(session, agent_id=agent.id, claim_id=claim_id, contact_id=contact_id,
                            data=contacts.OutcomeInput(outcome="converted", duration_seconds=95), now=clock.now())
    session.commit()
    row = client.get(f"/api/v1/campaigns/{campaign.id}/contacts?status=done", headers=auth(token)).get_json()["data"]
    assert [(r["outcome"], r["attempts"], r["handled_seconds"], r["status"]) for r in row] == [
        ("converted", 1, 95, "done")]
    stats = client.get(f"/api/v1/campaigns/{campaign.id}/stats", headers=auth(token))
    assert stats.status_code == 200, stats.get_json()
    metrics = stats.get_json()["metrics"]
    assert metrics["outbound_contacts_succeeded"] == 1 and metrics["contacts_handled"] == 1
    assert_error(client.get(f"/api/v1/campaigns/{campaign.id}/contacts?status=gone", headers=auth(token)), 422,
                 "validation_failed")


# --- idempotency ----------------------------------------------------------------------------------

def test_a_retry_with_the_same_key_replays_the_first_answer(client, session, token):
    headers = auth(token, **{"Idempotency-Key": "order-42"})
    first = client.post("/api/v1/campaigns", json=campaign_body(), headers=headers)
    second = client.post("/api/v1/campaigns", json=campaign_body(), headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json() and second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Location"] == first.headers["Location"]
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    assert_error(client.post("/api/v1/campaigns", json=campaign_body(name="other"), headers=headers), 409,
                 "idempotency_key_reused")
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1


def test_keys_belong_to_one_business_and_a_failed_request_keeps_no_key(client, session, factory, token):
    other = make_token(session, factory.client())
    key = {"Idempotency-Key": "same"}
    assert client.post("/api/v1/campaigns", json=campaign_body(budget_fen=-1), headers=auth(token, **key)) \
        .status_code == 422
    assert client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(token, **key)).status_code == 201
    assert client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(other, **key)).status_code == 201
    assert session.scalar(select(func.count()).select_from(Campaign)) == 2
    assert_error(client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(token, **{
        "Idempotency-Key": "has space"})), 422, "validation_failed")


def test_concurrent_retries_create_one_campaign(app, session, token):
    """Real threads, each with its own connection: one creates, the others wait and replay (or are told to retry)."""
    headers = auth(token, **{"Idempotency-Key": "race-1"})
    results, barrier = [], threading.Barrier(6)

    def send():
        with app.test_client() as c:
            barrier.wait()
            response = c.post("/api/v1/campaigns", json=campaign_body(), headers=headers)
            results.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    db.session.rollback()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 1
    created = [body for status, body in results if status == 201]
    assert created and all(body == created[0] for body in created)
    assert all(status == 201 or (status == 409 and body["error"]["code"] == "idempotency_in_progress")
               for status, body in results), results


def test_old_keys_are_purged_by_the_periodic_job(client, session, token):
    from app.core.jobs import PERIODIC, run_job_now

    client.post("/api/v1/campaigns", json=campaign_body(), headers=auth(token, **{"Idempotency-Key": "k1"}))
    assert ("api.purge_idempotency_keys", 3600) in {(p.name, p.interval_seconds) for p in PERIODIC}
    clock.freeze(clock.now() + timedelta(hours=23))
    run_job_now("api.purge_idempotency_keys")
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    clock.freeze(clock.now() + timedelta(hours=2))
    run_job_now("api.purge_idempotency_keys")
    assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


# --- rate limits ------------------------------------------------------------------------------------

@pytest.fixture
def limited_client(app, database_url, monkeypatch):
    """TestConfig turns limiting off; a fresh app on the same database with it on (3 a minute).

    The limiter is one object per process: its switch is put back afterwards, and the test app was
    initialised while it was off, so it never checks limits."""
    from app import create_app
    from app.extensions import limiter
    from config import TestConfig

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    fresh = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True,
                       API_RATE_LIMIT="3 per minute")
    limiter.reset()
    yield fresh.test_client()
    limiter.reset()
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def test_each_token_has_its_own_rate_limit_and_429_says_when_to_retry(session, owner, token, limited_client):
    other = make_token(session, owner, "read")
    for path in ("/api/v1/campaigns", "/api/v1/campaigns?limit=5", "/api/v1/call-lists/1"):
        assert limited_client.get(path, headers=auth(token)).status_code in (200, 404)
    limited = limited_client.get("/api/v1/campaigns/1", headers=auth(token))  # one budget for every endpoint
    assert_error(limited, 429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited_client.get("/api/v1/campaigns", headers=auth(other)).status_code == 200
