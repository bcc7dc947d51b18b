"""Client webhooks: settings page, events written with the change that causes them, signed delivery with retries."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from app.claims import services as claims
from app.core import clock, jobs
from app.webhooks import services as webhooks
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.integration.threads import in_threads
from tests.integration.web import assert_page, logged_in, text_of
from tests.ledger_support import funded_campaign, settle, shift_of, work_shift


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server = self.server
        with server.lock:
            server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            failing = server.fail_first > 0 or server.always_fail
            server.fail_first -= 1
        if server.redirect:
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
        else:
            self.send_response(500 if failing else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    server.requests, server.fail_first, server.always_fail, server.redirect = [], 0, False, False
    server.lock = threading.Lock()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/surgeline"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _endpoint(session, owner, url, events=("campaign.filled", "shift.settled", "call_list.imported")):
    endpoint = webhooks.create_endpoint(session, organisation_id=owner.organisation_id, user_id=owner.id, url=url,
                                        events=events, allow_private=True, now=clock.now())
    session.commit()
    return endpoint


def _deliver_due():
    jobs.run_job_now("webhooks.deliver_due")


def _deliveries(session):
    session.rollback()
    return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _verify(request, secret):
    headers = request["headers"]
    timestamp = headers["X-Surgeline-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Surgeline-Signature"], "sha256=" + expected)
    return json.loads(request["body"])


# -- the settings page ------------------------------------------------------------------------------------------

def test_a_client_adds_an_endpoint_and_sees_its_secret_but_another_organisation_does_not(app, session, factory,
                                                                                         make_browser, receiver):
    owner, other = factory.client(), factory.client()
    browser = logged_in(make_browser, owner)
    page = browser.get("/client/settings/webhooks")
    assert_page(page)
    response = browser.post("/client/settings/webhooks", {"url": receiver.url, "events": ["campaign.filled"]})
    assert response.status_code == 302
    endpoint = session.scalar(select(WebhookEndpoint))
    assert endpoint.organisation_id == owner.organisation_id and endpoint.events == ["campaign.filled"]
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.secret in text_of(browser.get("/client/settings/webhooks"))
    assert "Webhooks" in text_of(browser.get("/team"))

    stranger = logged_in(make_browser, other)
    assert endpoint.secret not in text_of(stranger.get("/client/settings/webhooks"))
    for action in ("disable", "enable", "delete", "test"):
        assert_page(stranger.post(f"/client/settings/webhooks/{endpoint.id}/{action}"), 404)
    agent = logged_in(make_browser, factory.agent())
    assert_page(agent.get("/client/settings/webhooks"), 403)
    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.cn/x", "https://", "http://user:pw@example.cn/",
                                 "not a url", "", "https://example.cn/" + "a" * 600, "data:text/html,<b>x</b>",
                                 "https://exa\u200bmple.cn/hook", "https://example.cn/\u202egnp.exe",
                                 "http://example.cn:99999/hook"])
def test_bad_urls_are_refused_with_a_message(app, session, factory, make_browser, url):
    browser = logged_in(make_browser, factory.client())
    response = browser.post("/client/settings/webhooks", {"url": url, "events": ["shift.settled"]})
    assert_page(response, 400)
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest/meta-data", "http://localhost/x"])
def test_private_addresses_are_refused_when_the_switch_is_off(app, session, factory, make_browser, monkeypatch, url):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
    browser = logged_in(make_browser, factory.client())
    response = browser.post("/client/settings/webhooks", {"url": url, "events": ["shift.settled"]})
    assert_page(response, 400)
    assert "private or local" in text_of(response)


def test_no_event_chosen_or_an_unknown_event_is_refused(app, session, factory, make_browser, receiver):
    browser = logged_in(make_browser, factory.client())
    assert_page(browser.post("/client/settings/webhooks", {"url": receiver.url}), 400)
    assert_page(browser.post("/client/settings/webhooks", {"url": receiver.url, "events": ["payout.sent"]}), 400)
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_send_test_event_posts_a_signed_message_and_lists_the_delivery(app, session, factory, make_browser,
                                                                        receiver):
    owner = factory.client()
    endpoint = _endpoint(session, owner, receiver.url, events=("shift.settled",))
    browser = logged_in(make_browser, owner)
    assert browser.post(f"/client/settings/webhooks/{endpoint.id}/test").status_code == 302
    assert len(receiver.requests) == 1  # delivered by the job the request recorded, after its commit
    request = receiver.requests[0]
    body = _verify(request, endpoint.secret)
    delivery = _deliveries(session)[0]
    assert request["headers"]["X-Surgeline-Event"] == "webhook.test" == body["event"]
    assert request["headers"]["X-Surgeline-Delivery"] == str(delivery.id) == str(body["id"])
    assert request["headers"]["X-Surgeline-Timestamp"] == str(int(clock.now().timestamp()))
    assert request["path"] == "/hooks/surgeline"
    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.last_status_code == 204
    page = text_of(browser.get("/client/settings/webhooks"))
    assert "webhook.test" in page and "Delivered" in page


def test_disabling_stops_events_and_deleting_removes_the_endpoint(app, session, factory, make_browser, receiver):
    owner = factory.client()
    endpoint = _endpoint(session, owner, receiver.url)
    browser = logged_in(make_browser, owner)
    browser.post(f"/client/settings/webhooks/{endpoint.id}/disable")
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    assert _deliveries(session) == []
    browser.post(f"/client/settings/webhooks/{endpoint.id}/enable")
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    assert len(_deliveries(session)) == 1
    browser.post(f"/client/settings/webhooks/{endpoint.id}/delete")
    session.rollback()
    assert session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert session.scalar(select(func.count(WebhookDelivery.id))) == 0


# -- delivery: retries, give-up, exactly once, redirects, SSRF ----------------------------------------------------

def test_failed_deliveries_are_retried_on_the_backoff_schedule_then_delivered(app, session, factory, receiver):
    owner = factory.client()
    endpoint = _endpoint(session, owner, receiver.url)
    receiver.fail_first = 2
    start = clock.now()
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={"n": 1}, now=start)
    session.commit()
    jobs.relay_outbox()  # the first attempt: 500
    delivery = _deliveries(session)[0]
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.next_attempt_at == start + timedelta(minutes=1)
    clock.freeze(start + timedelta(seconds=59))
    _deliver_due()
    assert len(receiver.requests) == 1  # not due yet
    clock.freeze(start + timedelta(minutes=1))
    _deliver_due()
    delivery = _deliveries(session)[0]
    assert delivery.attempts == 2 and delivery.next_attempt_at == start + timedelta(minutes=6)
    clock.freeze(start + timedelta(minutes=6))
    _deliver_due()
    delivery = _deliveries(session)[0]
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 3, None)
    assert [r["headers"]["X-Surgeline-Delivery"] for r in receiver.requests] == [str(delivery.id)] * 3
    for request in receiver.requests:
        assert _verify(request, endpoint.secret)["data"] == {"n": 1}
    clock.freeze(start + timedelta(days=3))
    _deliver_due()
    assert len(receiver.requests) == 3


def test_a_delivery_that_keeps_failing_is_marked_failed_after_the_last_attempt(app, session, factory, receiver,
                                                                               monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_MAX_ATTEMPTS", 4)
    owner = factory.client()
    _endpoint(session, owner, receiver.url)
    receiver.always_fail = True
    start = clock.now()
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=start)
    session.commit()
    jobs.relay_outbox()
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30)]
    at = start
    for wait in waits:
        at += wait
        clock.freeze(at)
        _deliver_due()
    delivery = _deliveries(session)[0]
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
    clock.freeze(at + timedelta(days=2))
    _deliver_due()
    assert len(receiver.requests) == 4


def test_each_delivery_is_posted_once_even_when_two_workers_run_at_the_same_time(app, session, factory, receiver):
    owner = factory.client()
    _endpoint(session, owner, receiver.url)
    for n in range(6):
        webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={"n": n},
                      now=clock.now())
    session.commit()
    ids = [d.id for d in _deliveries(session)]

    def worker(s):
        webhooks.deliver(s, delivery_ids=ids, now=clock.now(), timeout=5, max_attempts=7, allow_private=True)

    in_threads(app, [worker, worker], timeout=60)
    jobs.run_job_now("webhooks.deliver", delivery_ids=ids)  # a third, late run finds nothing due
    posted = sorted(int(r["headers"]["X-Surgeline-Delivery"]) for r in receiver.requests)
    assert posted == sorted(ids)
    assert {d.status for d in _deliveries(session)} == {"delivered"}


def test_redirects_are_not_followed(app, session, factory, receiver):
    owner = factory.client()
    _endpoint(session, owner, receiver.url)
    receiver.redirect = True
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    jobs.relay_outbox()
    assert [r["path"] for r in receiver.requests] == ["/hooks/surgeline"]
    delivery = _deliveries(session)[0]
    assert delivery.status == "pending" and delivery.last_status_code == 302 and "redirect" in delivery.last_error


def test_a_loopback_endpoint_is_not_contacted_when_private_addresses_are_off(app, session, factory, receiver,
                                                                             monkeypatch):
    owner = factory.client()
    _endpoint(session, owner, receiver.url)  # saved while allowed (e.g. the setting changed since)
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False)
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    jobs.relay_outbox()
    assert receiver.requests == []
    delivery = _deliveries(session)[0]
    assert delivery.status == "pending" and "refused" in delivery.last_error


def test_an_unreachable_endpoint_is_an_error_not_a_crash(app, session, factory, receiver):
    owner = factory.client()
    url = receiver.url
    receiver.shutdown()
    receiver.server_close()
    _endpoint(session, owner, url)
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    jobs.relay_outbox()
    delivery = _deliveries(session)[0]
    assert delivery.status == "pending" and delivery.last_status_code is None and delivery.last_error


# -- the events -----------------------------------------------------------------------------------------------------

def test_campaign_filled_is_sent_once_when_the_last_seat_of_the_campaign_is_taken(app, session, factory, receiver):
    owner = factory.client()
    endpoint = _endpoint(session, owner, receiver.url, events=("campaign.filled",))
    other_org = factory.client()
    _endpoint(session, other_org, receiver.url, events=("campaign.filled",))
    campaign = factory.campaign(owner, tags=(), shifts=[(24, 2, 1), (30, 2, 2)])
    first, second = factory.shifts(campaign)
    agents = [factory.agent() for _ in range(4)]
    claims.claim_shift(session, agent=agents[0], shift_id=first.id, now=clock.now())  # shift full, campaign not
    claims.claim_shift(session, agent=agents[1], shift_id=second.id, now=clock.now())
    session.commit()
    assert _deliveries(session) == []
    last = claims.claim_shift(session, agent=agents[2], shift_id=second.id, now=clock.now())
    session.commit()
    deliveries = _deliveries(session)
    assert [(d.endpoint_id, d.event) for d in deliveries] == [(endpoint.id, "campaign.filled")]
    assert deliveries[0].payload["campaign"]["id"] == campaign.id and deliveries[0].payload["seats"] == 3
    # A seat freed and taken again does not send a second campaign.filled.
    claims.release_claim(session, agent=agents[2], claim_id=last.id, now=clock.now(), cutoff=timedelta(hours=2))
    claims.claim_shift(session, agent=agents[3], shift_id=second.id, now=clock.now())
    session.commit()
    assert len(_deliveries(session)) == 1
    jobs.relay_outbox()
    assert json.loads(receiver.requests[0]["body"])["data"]["campaign"]["name"] == campaign.name


def test_shift_settled_is_one_event_per_shift_with_the_batch_totals(app, session, factory, receiver):
    campaign = funded_campaign(factory, session, shifts=((2, 2, 3), (6, 2, 1)))
    owner_org = campaign.organisation_id
    from app.members.models import User

    owner = session.scalar(select(User).where(User.organisation_id == owner_org))
    _endpoint(session, owner, receiver.url, events=("shift.settled",))
    first, second = shift_of(session, campaign, 0), shift_of(session, campaign, 1)
    for shift in (first, first, second):
        work_shift(session, factory.agent(), shift)
    settle(session)
    deliveries = _deliveries(session)
    by_shift = {d.payload["shift"]["id"]: d.payload for d in deliveries}
    assert set(by_shift) == {first.id, second.id} and {d.event for d in deliveries} == {"shift.settled"}
    assert by_shift[first.id]["claims"] == 2 and by_shift[second.id]["claims"] == 1
    assert by_shift[first.id]["paid_fen"] == 2 * 2 * 3800  # two agents × 2 h × ¥38
    settle(session)  # nothing left to settle: no new events
    assert len(_deliveries(session)) == 2


def test_call_list_imported_is_sent_when_an_import_finishes(app, session, factory, receiver, tmp_path):
    from tests.integration.contacts_support import csv_bytes, import_directly, outbound_campaign, phones

    owner = factory.client()
    _endpoint(session, owner, receiver.url, events=("call_list.imported",))
    campaign = outbound_campaign(factory, owner)
    rows = [f"客户{i},{phone}," for i, phone in enumerate(phones(3))]
    call_list = import_directly(session, campaign, owner, csv_bytes(rows), tmp_path / "uploads")
    deliveries = _deliveries(session)
    assert [d.event for d in deliveries] == ["call_list.imported"]
    data = deliveries[0].payload["call_list"]
    assert (data["id"], data["status"], data["rows_accepted"]) == (call_list.id, "done", 3)


def test_events_an_endpoint_did_not_subscribe_to_are_not_written(app, session, factory, receiver):
    owner = factory.client()
    _endpoint(session, owner, receiver.url, events=("call_list.imported",))
    webhooks.emit(session, organisation_id=owner.organisation_id, event="shift.settled", payload={}, now=clock.now())
    session.commit()
    assert _deliveries(session) == []
