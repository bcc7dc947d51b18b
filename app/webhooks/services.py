"""Webhook endpoints, emitting events (delivery rows in the caller's transaction) and delivering them.

Emitting is an outbox: the delivery rows commit with the change that caused the event, and a job posts
them after commit. Each attempt first takes a lease on the row (attempts + 1, next_attempt_at moved
ahead) and commits, so two workers never post the same delivery at once; the POST happens outside any
transaction; the outcome is recorded in a second short transaction. Failures are retried on the
BACKOFF schedule until WEBHOOK_MAX_ATTEMPTS, then the delivery is marked failed.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.core.errors import Invalid, NotFound
from app.core.jobs import enqueue
from app.webhooks import http
from app.webhooks.models import SUBSCRIBABLE, DeliveryStatus, WebhookDelivery, WebhookEndpoint, WebhookEvent

# Wait after the 1st, 2nd, … failed attempt (the last value repeats if WEBHOOK_MAX_ATTEMPTS is raised).
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=12), timedelta(hours=24))
# How long an attempt holds its delivery; a worker that dies mid-POST frees it after this.
LEASE = timedelta(minutes=2)
MAX_URL = 500
MAX_ENDPOINTS_PER_ORG = 10


def new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256(secret, timestamp + "." + body), sent as `sha256=<hex>`."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def check_url(raw: str | None, *, allow_private: bool) -> str:
    """An http(s) URL with a host, no credentials; in production not a private/loopback IP literal.

    Host names are checked again on every delivery, after DNS resolution (app/webhooks/http.py).
    """
    url = (raw or "").strip()
    if not url:
        raise Invalid(_l("Enter the URL that should receive the events."), field="url")
    # Spaces, control and invisible format characters (zero-width, right-to-left override) have no place in a URL.
    if len(url) > MAX_URL or any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in url):
        raise Invalid(_l("This URL is not valid."), field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(_l("This URL is not valid."), field="url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(_l("Only http:// and https:// URLs can receive webhooks."), field="url")
    if parts.username or parts.password:
        raise Invalid(_l("Put no user name or password in the URL; verify the signature instead."), field="url")
    if port == 0:
        raise Invalid(_l("This URL is not valid."), field="url")
    if not allow_private:
        host = parts.hostname
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if (literal is not None and not http.is_public_address(host)) or host == "localhost" \
                or host.endswith((".localhost", ".local", ".internal")):
            raise Invalid(_l("Webhooks cannot be sent to private or local addresses."), field="url")
    return url


def _check_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    if not chosen:
        raise Invalid(_l("Choose at least one event."), field="events")
    if set(chosen) - {e.value for e in SUBSCRIBABLE}:
        raise Invalid(_l("Unknown event."), field="events")
    return chosen


def create_endpoint(session: Session, *, organisation_id: int, user_id: int, url: str, events: Iterable[str],
                    allow_private: bool, now: datetime) -> WebhookEndpoint:
    url = check_url(url, allow_private=allow_private)
    chosen = _check_events(events)
    count = session.scalar(select(func.count(WebhookEndpoint.id))
                           .where(WebhookEndpoint.organisation_id == organisation_id)) or 0
    if count >= MAX_ENDPOINTS_PER_ORG:
        raise Invalid(_l("An organisation can have at most %(n)s webhook endpoints.", n=MAX_ENDPOINTS_PER_ORG),
                      field="url")
    endpoint = WebhookEndpoint(organisation_id=organisation_id, url=url, secret=new_secret(), events=chosen,
                               is_active=True, created_by_id=user_id, created_at=now)
    session.add(endpoint)
    session.flush()
    return endpoint


def get_endpoint_for_org(session: Session, endpoint_id: int, organisation_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.organisation_id != organisation_id:
        raise NotFound(_l("No such webhook endpoint."))
    return endpoint


def set_active(session: Session, *, endpoint_id: int, organisation_id: int, active: bool) -> WebhookEndpoint:
    endpoint = get_endpoint_for_org(session, endpoint_id, organisation_id)
    endpoint.is_active = active
    session.flush()
    return endpoint


def delete_endpoint(session: Session, *, endpoint_id: int, organisation_id: int) -> None:
    endpoint = get_endpoint_for_org(session, endpoint_id, organisation_id)
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    session.delete(endpoint)
    session.flush()


def send_test_event(session: Session, *, endpoint_id: int, organisation_id: int, now: datetime) -> int:
    """A webhook.test delivery to this endpoint (even if disabled or not subscribed), posted by the worker."""
    endpoint = get_endpoint_for_org(session, endpoint_id, organisation_id)
    ids = _insert_deliveries(session, [{
        "endpoint_id": endpoint.id, "event": WebhookEvent.TEST.value, "dedupe_key": None,
        "payload": {"message": "Surgeline test event", "endpoint_id": endpoint.id}}], now)
    enqueue(session, "webhooks.deliver", delivery_ids=ids)
    return ids[0]


# -- emitting -----------------------------------------------------------------------------------------------------

def _insert_deliveries(session: Session, rows: list[dict], now: datetime) -> list[int]:
    """Insert delivery rows; one whose (endpoint, dedupe_key) exists already is skipped. Returns the new ids."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    values = [{**row, "status": DeliveryStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
               "created_at": now} for row in rows]
    statement = (dialect_insert(WebhookDelivery).values(values)
                 .on_conflict_do_nothing(index_elements=["endpoint_id", "dedupe_key"])
                 .returning(WebhookDelivery.id))
    return list(session.execute(statement).scalars())


def emit_many(session: Session, events: list[tuple[int, str, dict, str | None]], now: datetime) -> list[int]:
    """Events as (organisation_id, event, payload, dedupe_key): one read of the endpoints, one INSERT, one job."""
    if not events:
        return []
    org_ids = sorted({org_id for org_id, *_ in events})
    endpoints: dict[int, list[tuple[int, list]]] = {}
    for endpoint_id, org_id, subscribed in session.execute(
        select(WebhookEndpoint.id, WebhookEndpoint.organisation_id, WebhookEndpoint.events)
        .where(WebhookEndpoint.organisation_id.in_(org_ids), WebhookEndpoint.is_active.is_(True))
    ):
        endpoints.setdefault(org_id, []).append((endpoint_id, subscribed or []))
    rows = [{"endpoint_id": endpoint_id, "event": event, "dedupe_key": key, "payload": payload}
            for org_id, event, payload, key in events
            for endpoint_id, subscribed in endpoints.get(org_id, []) if event in subscribed]
    if not rows:
        return []
    ids = _insert_deliveries(session, rows, now)
    if ids:
        enqueue(session, "webhooks.deliver", delivery_ids=ids)
    return ids


def emit(session: Session, *, organisation_id: int, event: str, payload: dict, now: datetime,
         dedupe_key: str | None = None) -> list[int]:
    return emit_many(session, [(organisation_id, event, payload, dedupe_key)], now)


def _subscribed(session: Session, organisation_ids: Iterable[int], event: str) -> bool:
    """Does any active endpoint of these organisations want this event? (skips all other work when not)"""
    rows = session.execute(select(WebhookEndpoint.events).where(
        WebhookEndpoint.organisation_id.in_(list(organisation_ids)), WebhookEndpoint.is_active.is_(True))).scalars()
    return any(event in (events or []) for events in rows)


def campaign_seat_filled(session: Session, *, campaign_id: int, now: datetime) -> None:
    """A claim took a shift's last seat: campaign.filled if the published campaign now has no free seat.

    Runs only on that claim (the claim UPDATE's RETURNING tells). On PostgreSQL the campaign row is locked
    first, so of two last-seat claims on different shifts committing together, the second sees the first.
    Sent once per campaign and endpoint (dedupe key).
    """
    from app.campaigns.models import OPEN_CAMPAIGN_STATUSES, Campaign, Shift, ShiftStatus

    org_id = session.scalar(select(Campaign.organisation_id).where(Campaign.id == campaign_id))
    if org_id is None or not _subscribed(session, [org_id], WebhookEvent.CAMPAIGN_FILLED):
        return
    query = select(Campaign.id, Campaign.name, Campaign.status).where(Campaign.id == campaign_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    campaign = session.execute(query).one()
    if campaign.status not in OPEN_CAMPAIGN_STATUSES:
        return
    totals = session.execute(
        select(func.count(Shift.id), func.coalesce(func.sum(Shift.seats), 0),
               func.coalesce(func.sum(Shift.seats - Shift.seats_taken), 0))
        .where(Shift.campaign_id == campaign_id, Shift.status == ShiftStatus.OPEN)
    ).one()
    shifts, seats, free = totals
    if shifts == 0 or free > 0:
        return
    emit(session, organisation_id=org_id, event=WebhookEvent.CAMPAIGN_FILLED, now=now,
         dedupe_key=f"campaign.filled:{campaign_id}",
         payload={"campaign": {"id": campaign.id, "name": campaign.name}, "shifts": int(shifts), "seats": int(seats),
                  "filled_at": now.isoformat()})


def shifts_settled(session: Session, *, settlements: list[dict], batch_id: str, now: datetime) -> None:
    """Settlement: one shift.settled per shift with claims in this batch (totals of the batch), set-based."""
    if not settlements:
        return
    from app.campaigns.models import Campaign, Shift
    from app.claims.models import Claim

    campaign_ids = sorted({row["campaign_id"] for row in settlements})
    orgs = dict(session.execute(select(Campaign.id, Campaign.organisation_id)
                                .where(Campaign.id.in_(campaign_ids))).all())
    if not _subscribed(session, set(orgs.values()), WebhookEvent.SHIFT_SETTLED):
        return
    by_claim = {row["claim_id"]: row for row in settlements}
    shifts: dict[int, dict] = {}
    claim_ids = sorted(by_claim)
    for start in range(0, len(claim_ids), 1000):
        for claim_id, shift_id, starts_at, ends_at in session.execute(
            select(Claim.id, Claim.shift_id, Shift.starts_at, Shift.ends_at).join(Shift, Shift.id == Claim.shift_id)
            .where(Claim.id.in_(claim_ids[start:start + 1000]))
        ):
            row = by_claim[claim_id]
            item = shifts.setdefault(shift_id, {
                "campaign_id": row["campaign_id"],
                "shift": {"id": shift_id, "campaign_id": row["campaign_id"], "starts_at": starts_at.isoformat(),
                          "ends_at": ends_at.isoformat()},
                "claims": 0, "paid_fen": 0, "commission_fen": 0, "shortfall_fen": 0, "settled_at": now.isoformat()})
            item["claims"] += 1
            item["paid_fen"] += row["paid_pay_fen"]
            item["commission_fen"] += row["paid_commission_fen"]
            item["shortfall_fen"] += row["shortfall_fen"]
    emit_many(session, [
        (orgs[item["campaign_id"]], WebhookEvent.SHIFT_SETTLED,
         {k: v for k, v in item.items() if k != "campaign_id"}, f"shift.settled:{shift_id}:{batch_id}")
        for shift_id, item in sorted(shifts.items())], now)


def call_list_imported(session: Session, *, call_list_id: int, now: datetime) -> None:
    """A call list finished importing: its counts, once per list and endpoint."""
    from app.campaigns.models import Campaign
    from app.contacts.models import CallList

    row = session.execute(
        select(CallList.id, CallList.campaign_id, CallList.filename, CallList.status, CallList.rows_accepted,
               CallList.rows_rejected, CallList.rows_blank, Campaign.organisation_id)
        .join(Campaign, Campaign.id == CallList.campaign_id).where(CallList.id == call_list_id)
    ).one_or_none()
    if row is None:
        return
    emit(session, organisation_id=row.organisation_id, event=WebhookEvent.CALL_LIST_IMPORTED, now=now,
         dedupe_key=f"call_list.imported:{row.id}",
         payload={"call_list": {"id": row.id, "campaign_id": row.campaign_id, "filename": row.filename,
                                "status": row.status, "rows_accepted": row.rows_accepted,
                                "rows_rejected": row.rows_rejected, "rows_blank": row.rows_blank},
                  "finished_at": now.isoformat()})


# -- delivering ---------------------------------------------------------------------------------------------------

def body_of(delivery_id: int, event: str, created_at: datetime, payload: dict) -> bytes:
    return json.dumps({"id": delivery_id, "event": event, "created_at": created_at.isoformat(), "data": payload},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


def attempt_delivery(session: Session, *, delivery_id: int, now: datetime, timeout: float, max_attempts: int,
                     allow_private: bool) -> str | None:
    """Try one delivery if it is due. Commits twice (lease, outcome); the POST runs between, outside a transaction.

    Returns the delivery's new status, or None when it was not due (delivered, failed, or leased by another worker).
    """
    d = WebhookDelivery
    leased = session.execute(
        update(d).where(d.id == delivery_id, d.status == DeliveryStatus.PENDING, d.next_attempt_at <= now)
        .values(attempts=d.attempts + 1, last_attempt_at=now, next_attempt_at=now + LEASE)
        .returning(d.endpoint_id, d.event, d.payload, d.attempts, d.created_at)
        .execution_options(synchronize_session=False)
    ).first()
    if leased is None:
        session.rollback()
        return None
    endpoint = session.execute(select(WebhookEndpoint.url, WebhookEndpoint.secret, WebhookEndpoint.is_active)
                               .where(WebhookEndpoint.id == leased.endpoint_id)).one()
    session.commit()
    code: int | None = None
    error: str | None = None
    if not endpoint.is_active and leased.event != WebhookEvent.TEST:
        error = "endpoint disabled"
        attempts_left = False
    else:
        attempts_left = leased.attempts < max_attempts
        body = body_of(delivery_id, leased.event, leased.created_at, leased.payload or {})
        timestamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Surgeline-Webhooks/1",
            "X-Surgeline-Event": leased.event,
            "X-Surgeline-Delivery": str(delivery_id),
            "X-Surgeline-Timestamp": timestamp,
            "X-Surgeline-Signature": "sha256=" + sign(endpoint.secret, timestamp, body),
        }
        try:
            code = http.post(endpoint.url, body, headers, timeout=timeout, allow_private=allow_private).status
            if not 200 <= code < 300:
                error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
        except http.DeliveryError as exc:
            error = str(exc)[:480]
    if error is None:
        values = {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "next_attempt_at": None}
    elif attempts_left:
        values = {"next_attempt_at": now + retry_delay(leased.attempts)}
    else:
        values = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
    session.execute(update(d).where(d.id == delivery_id)
                    .values(last_status_code=code, last_error=error, **values)
                    .execution_options(synchronize_session=False))
    session.commit()
    return values.get("status", DeliveryStatus.PENDING)


def deliver(session: Session, *, delivery_ids: Iterable[int], now: datetime, timeout: float, max_attempts: int,
            allow_private: bool) -> dict[int, str | None]:
    """Attempt each due delivery once; after a network failure, that endpoint's others wait for the next run."""
    outcome: dict[int, str | None] = {}
    struggling: set[int] = set()
    ids = sorted(set(delivery_ids))
    endpoints = dict(session.execute(select(WebhookDelivery.id, WebhookDelivery.endpoint_id)
                                     .where(WebhookDelivery.id.in_(ids))).all()) if ids else {}
    session.rollback()
    for delivery_id in ids:
        if endpoints.get(delivery_id) in struggling:
            continue
        outcome[delivery_id] = status = attempt_delivery(
            session, delivery_id=delivery_id, now=now, timeout=timeout, max_attempts=max_attempts,
            allow_private=allow_private)
        if status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            struggling.add(endpoints.get(delivery_id))
    return outcome


def due_delivery_ids(session: Session, *, now: datetime, limit: int = 200) -> list[int]:
    return list(session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)))
