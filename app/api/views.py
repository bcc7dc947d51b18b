"""/api/v1: campaigns, shifts, publishing, call lists, statistics and contact outcomes for client systems.

Thin: parse and check the request strictly, call the same services as the pages, answer JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.api import errors, queries
from app.api.auth import rate_limit_key, require
from app.api.errors import ApiError
from app.api.idempotency import Answer, canonical_json, request_hash, run_idempotent
from app.api.models import TokenScope
from app.api.validation import Field, read_json, validate
from app.campaigns import services as campaigns
from app.campaigns.models import Campaign, CampaignKind, Shift
from app.contacts import phones
from app.contacts import queries as contact_queries
from app.contacts import services as contacts
from app.contacts.crypto import current_vault
from app.contacts.models import CallList, Contact, ContactStatus
from app.core import clock
from app.core.db import db
from app.core.timefmt import display_tz, local_today
from app.extensions import limiter
from app.ledger import services as ledger
from app.members.models import Tier

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)
# One budget per token across every endpoint (a shared scope; a plain limit would count per endpoint).
limiter.shared_limit(lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=rate_limit_key)(bp)

MAX_LIMIT = 100
DEFAULT_LIMIT = 20
MAX_SINGLE_SHIFTS = 100
COPY_CHUNK = 1024 * 1024


@bp.after_request
def no_cookies(response):
    """The API is stateless: it never starts or refreshes a browser session."""
    from flask import session

    session.modified = False
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- encoding ---------------------------------------------------------------------------------------

def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def jsonable(value):
    """Metrics and other plain structures as JSON values (dates as ISO text, Decimals as numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and value != value:  # NaN has no JSON form
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def campaign_json(c: Campaign, fill: tuple[int, int, int]) -> dict:
    return {
        "id": c.id, "name": c.name, "kind": c.kind, "industry": c.industry, "status": c.status,
        "description": c.description, "script": c.script, "required_tags": [t.code for t in c.required_tags],
        "min_tier": c.min_tier, "rate_fen_per_hour": c.rate_fen_per_hour,
        "bonus_fen_per_contact": c.bonus_fen_per_contact, "bonus_fen_per_success": c.bonus_fen_per_success,
        "budget_fen": c.budget_fen, "starts_on": c.starts_on.isoformat(), "ends_on": c.ends_on.isoformat(),
        "created_at": iso(c.created_at), "published_at": iso(c.published_at),
        "shifts": {"count": fill[0], "seats": fill[1], "seats_taken": fill[2]},
    }


def shift_json(s: Shift) -> dict:
    return {"id": s.id, "starts_at": iso(s.starts_at), "ends_at": iso(s.ends_at), "seats": s.seats,
            "seats_taken": s.seats_taken, "status": s.status}


def call_list_json(cl: CallList) -> dict:
    return {
        "id": cl.id, "campaign_id": cl.campaign_id, "filename": cl.filename, "status": cl.status,
        "size_bytes": cl.size_bytes, "rows_processed": cl.rows_processed, "rows_accepted": cl.rows_accepted,
        "rows_rejected": cl.rows_rejected, "rows_blank": cl.rows_blank, "error_message": cl.error_message,
        "created_at": iso(cl.created_at), "started_at": iso(cl.started_at), "finished_at": iso(cl.finished_at),
    }


def contact_json(c: Contact, seconds: int) -> dict:
    number = current_vault().decrypt(c.phone_ciphertext, campaign_id=c.campaign_id)
    return {
        "id": c.id, "call_list_id": c.call_list_id, "name": c.name, "phone_masked": phones.mask(number),
        "status": c.status, "outcome": c.last_outcome, "attempts": c.attempts, "handled_seconds": seconds,
        "last_attempt_at": iso(c.last_attempt_at), "callback_at": iso(c.callback_at),
    }


# --- paging -----------------------------------------------------------------------------------------

def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(str(last_id).encode()).decode().rstrip("=")


def _bad_query(name: str, message):
    return ApiError(422, "validation_failed", _l("The request is not valid."),
                    [{"field": name, "message": str(message)}])


def page_args() -> tuple[int, int | None]:
    """`limit` (1-100, default 20) and the decoded `cursor` (the last id of the previous page)."""
    raw_limit = request.args.get("limit", str(DEFAULT_LIMIT))
    # The length check comes first: int() refuses more than 4,300 digits with a ValueError (a 500 here).
    if not (raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 10 and 1 <= int(raw_limit) <= MAX_LIMIT):
        raise _bad_query("limit", _l("Must be an integer from 1 to %(n)d.", n=MAX_LIMIT))
    raw = request.args.get("cursor")
    if raw is None:
        return int(raw_limit), None
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        value = int(text) if text.isdigit() else 0
    except (binascii.Error, ValueError, UnicodeError):
        value = 0
    if not 0 < value < 2**31:
        raise _bad_query("cursor", _l("Not a cursor this API gave out."))
    return int(raw_limit), value


def _page(items: list[dict], last_id: int | None, more: bool) -> dict:
    return {"data": items, "next_cursor": encode_cursor(last_id) if more and last_id is not None else None}


# --- campaigns --------------------------------------------------------------------------------------

CAMPAIGN_FIELDS = {
    "name": Field("string", required=True, max_len=120),
    "kind": Field("string", required=True, choices=tuple(k.value for k in CampaignKind)),
    "industry": Field("string", required=True, max_len=40),
    "description": Field("string", max_len=10_000),
    "script": Field("string", max_len=20_000),
    "required_tags": Field("string_list", max_items=20),
    "min_tier": Field("integer", min=0, max=3),
    "rate_fen_per_hour": Field("integer", required=True, min=1, max=campaigns.MAX_RATE_FEN),
    "bonus_fen_per_contact": Field("integer", min=0, max=campaigns.MAX_BONUS_FEN),
    "bonus_fen_per_success": Field("integer", min=0, max=campaigns.MAX_BONUS_FEN),
    "budget_fen": Field("integer", required=True, min=1, max=10**12),
    "starts_on": Field("date", required=True),
    "ends_on": Field("date", required=True),
}


def _own_campaign(caller, campaign_id: int) -> Campaign:
    return campaigns.get_campaign_for_org(db.session, campaign_id, caller.organisation_id)


def _campaign_answer(campaign: Campaign, status: int = 200) -> Answer:
    fill = queries.fill_of(db.session, [campaign.id])[campaign.id]
    return Answer(status, campaign_json(campaign, fill),
                  url_for("api.get_campaign", campaign_id=campaign.id))


@bp.get("/campaigns")
@require(TokenScope.READ)
def list_campaigns(caller):
    limit, before = page_args()
    rows, more = queries.campaigns_page(db.session, caller.organisation_id, before=before, limit=limit)
    fills = queries.fill_of(db.session, [c.id for c in rows])
    return jsonify(_page([campaign_json(c, fills[c.id]) for c in rows], rows[-1].id if rows else None, more))


@bp.post("/campaigns")
@require(TokenScope.WRITE)
def create_campaign(caller):
    body, _raw = read_json()
    data = validate(body, CAMPAIGN_FIELDS)

    def work() -> Answer:
        now = clock.now()
        campaign = campaigns.create_campaign(db.session, user=caller.user, now=now, today=local_today(now),
                                             data=campaigns.CampaignInput(
            name=data["name"], kind=data["kind"], industry=data["industry"],
            description=data.get("description", ""), script=data.get("script", ""),
            required_tags=tuple(data.get("required_tags", ())), min_tier=data.get("min_tier", Tier.CERTIFIED),
            rate_fen_per_hour=data["rate_fen_per_hour"], bonus_fen_per_contact=data.get("bonus_fen_per_contact", 0),
            bonus_fen_per_success=data.get("bonus_fen_per_success", 0), budget_fen=data["budget_fen"],
            starts_on=data["starts_on"], ends_on=data["ends_on"]))
        return _campaign_answer(campaign, 201)

    return run_idempotent(caller.organisation_id, request_hash(canonical_json(body)), work)


@bp.get("/campaigns/<int:campaign_id>")
@require(TokenScope.READ)
def get_campaign(caller, campaign_id):
    campaign = _own_campaign(caller, campaign_id)
    answer = _campaign_answer(campaign)
    return jsonify(answer.body)


@bp.post("/campaigns/<int:campaign_id>/publish")
@require(TokenScope.WRITE)
def publish_campaign(caller, campaign_id):
    campaign = _own_campaign(caller, campaign_id)

    def work() -> Answer:
        ledger.publish_and_fund(db.session, campaign, clock.now())
        return _campaign_answer(campaign)

    return run_idempotent(caller.organisation_id, request_hash(b""), work)


# --- shifts -----------------------------------------------------------------------------------------

SHIFT_FIELDS = {
    "starts_at": Field("datetime", required=True),
    "ends_at": Field("datetime", required=True),
    "seats": Field("integer", required=True, min=1, max=campaigns.MAX_SEATS),
}
PATTERN_FIELDS = {
    "first_day": Field("date", required=True),
    "last_day": Field("date", required=True),
    "day_start": Field("time", required=True),
    "day_end": Field("time", required=True),
    "block_minutes": Field("integer", required=True, min=campaigns.MIN_SHIFT_MINUTES,
                           max=campaigns.MAX_SHIFT_MINUTES),
    "seats": Field("integer", required=True, min=1, max=campaigns.MAX_SEATS),
}
ADD_SHIFTS_FIELDS = {
    "shifts": Field("object_list", max_items=MAX_SINGLE_SHIFTS, fields=SHIFT_FIELDS),
    "pattern": Field("object", fields=PATTERN_FIELDS),
}


def _single_shift_pattern(item: dict, where: str, tz) -> campaigns.ShiftPattern:
    """One shift as a one-block pattern, so it goes through the same generation rules as any other."""
    start, end = item["starts_at"], item["ends_at"]
    minutes, rest = divmod((end - start).total_seconds(), 60)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    problem = None
    if end <= start:
        problem = _l("The end must be after the start.")
    elif rest or local_start.second or local_end.second or start.microsecond or end.microsecond:
        problem = _l("Shifts start and end on whole minutes.")
    elif not campaigns.MIN_SHIFT_MINUTES <= minutes <= campaigns.MAX_SHIFT_MINUTES:
        problem = _l("Blocks must be between 30 minutes and 12 hours.")
    if problem:
        raise ApiError(422, "validation_failed", _l("The request body is not valid."),
                       [{"field": where, "message": str(problem)}])
    return campaigns.ShiftPattern(first_day=local_start.date(), last_day=local_start.date(),
                                  day_start=local_start.time(), day_end=local_end.time(), block_minutes=int(minutes),
                                  seats=item["seats"])


@bp.post("/campaigns/<int:campaign_id>/shifts")
@require(TokenScope.WRITE)
def add_shifts(caller, campaign_id):
    campaign = _own_campaign(caller, campaign_id)
    body, _raw = read_json()
    data = validate(body, ADD_SHIFTS_FIELDS)
    if not data.get("shifts") and not data.get("pattern"):
        raise ApiError(422, "validation_failed", _l("The request body is not valid."),
                       [{"field": "(body)", "message": str(_l("Send shifts, a pattern, or both."))}])
    tz = display_tz()
    patterns = [_single_shift_pattern(item, f"shifts[{i}]", tz) for i, item in enumerate(data.get("shifts") or [])]
    if data.get("pattern"):
        patterns.append(campaigns.ShiftPattern(**data["pattern"]))

    def work() -> Answer:
        now = clock.now()
        created = 0
        windows: list = []
        for pattern in patterns:
            windows.extend(campaigns.plan_shifts(pattern, tz))
            created += campaigns.generate_shifts(db.session, campaign, pattern, tz=tz, now=now)
        shifts = queries.shifts_in_windows(db.session, campaign.id, windows)
        return Answer(201 if created else 200, {"created": created, "shifts": [shift_json(s) for s in shifts]})

    return run_idempotent(caller.organisation_id, request_hash(canonical_json(body)), work)


# --- call lists -------------------------------------------------------------------------------------

def _spool_body(max_bytes: int):
    """The raw CSV body copied to a temporary file (hashing it), refused as soon as it passes the limit."""
    spool = tempfile.SpooledTemporaryFile(max_size=COPY_CHUNK)  # noqa: SIM115 - handed to the caller, who closes it
    digest = hashlib.sha256()
    size = 0
    while chunk := request.stream.read(COPY_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            spool.close()
            raise ApiError(413, "too_large", _l("The file is larger than %(size)s. Split it into smaller files.",
                                                size=contacts.size_text(max_bytes)))
        digest.update(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest()


def _hash_stream(stream) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(COPY_CHUNK):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


@bp.post("/campaigns/<int:campaign_id>/call-lists")
@require(TokenScope.WRITE)
def upload_call_list(caller, campaign_id):
    campaign = _own_campaign(caller, campaign_id)
    max_bytes = current_app.config["CALL_LIST_MAX_BYTES"]
    if request.content_length is not None and request.content_length > max_bytes + 1024 * 1024:
        raise ApiError(413, "too_large", _l("The file is larger than %(size)s. Split it into smaller files.",
                                            size=contacts.size_text(max_bytes)))
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ApiError(422, "validation_failed", _l("The request is not valid."),
                           [{"field": "file", "message": str(_l("Attach the CSV file as the field “file”."))}])
        stream, filename = upload.stream, upload.filename or "call-list.csv"
        digest = _hash_stream(stream)
    elif request.mimetype in ("text/csv", "text/plain", "application/octet-stream"):
        filename = request.args.get("filename") or "call-list.csv"
        stream, digest = _spool_body(max_bytes)
    else:
        raise ApiError(415, "unsupported_media_type",
                       _l("Send the CSV as the body (Content-Type: text/csv) or as multipart/form-data field “file”."))

    def work() -> Answer:
        call_list = contacts.upload_call_list(
            db.session, user_id=caller.user.id, campaign=campaign, stream=stream, filename=filename,
            upload_dir=current_app.config["UPLOAD_DIR"], max_bytes=max_bytes, locale=str(get_locale() or "zh"),
            now=clock.now())
        return Answer(202, call_list_json(call_list), url_for("api.get_call_list", call_list_id=call_list.id))

    try:
        return run_idempotent(caller.organisation_id, request_hash(filename, digest), work)
    finally:
        stream.close()


@bp.get("/call-lists/<int:call_list_id>")
@require(TokenScope.READ)
def get_call_list(caller, call_list_id):
    return jsonify(call_list_json(contacts.get_call_list_for_org(db.session, call_list_id, caller.organisation_id)))


# --- results ----------------------------------------------------------------------------------------

@bp.get("/campaigns/<int:campaign_id>/stats")
@require(TokenScope.READ)
def campaign_stats(caller, campaign_id):
    from app.insight.metrics import campaign_metrics

    campaign = _own_campaign(caller, campaign_id)
    metrics = campaign_metrics(db.session, campaign_id=campaign.id, now=clock.now())
    return jsonify({"campaign_id": campaign.id, "metrics": jsonable(metrics)})


@bp.get("/campaigns/<int:campaign_id>/contacts")
@require(TokenScope.READ)
def campaign_contacts(caller, campaign_id):
    campaign = _own_campaign(caller, campaign_id)
    limit, after = page_args()
    status = request.args.get("status")
    if status is not None and status not in {s.value for s in ContactStatus}:
        raise _bad_query("status", _l("Must be one of: %(choices)s.",
                                      choices=", ".join(s.value for s in ContactStatus)))
    rows, next_after = contact_queries.contacts_page(db.session, campaign.id, status=status, after=after, limit=limit)
    seconds = queries.handled_seconds(db.session, [c.id for c in rows])
    return jsonify(_page([contact_json(c, seconds.get(c.id, 0)) for c in rows], next_after,
                         next_after is not None))


# --- the description --------------------------------------------------------------------------------

@bp.get("/openapi.json")
def openapi_document():
    from app.api.openapi import document

    return jsonify(document())
