"""The OpenAPI 3.1 description of /api/v1, built from plain Python data and served as openapi.json.

tests/integration/test_api_openapi.py checks it against the URL map (every rule documented, every
documented operation routed) and schemathesis checks the answers against it.
"""

from __future__ import annotations

from app.api.errors import HTTP_CODES
from app.campaigns.models import CampaignKind, CampaignStatus
from app.campaigns.services import MAX_BONUS_FEN, MAX_RATE_FEN, MAX_SEATS, MAX_SHIFT_MINUTES, MIN_SHIFT_MINUTES
from app.contacts.models import CallListStatus, ContactStatus, Outcome
from app.members.tags import INDUSTRY_CODES, TAG_CATALOGUE

VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "examples": ["08:00"]}

ERROR_CODES = sorted(set(HTTP_CODES.values()) | {
    "malformed_json", "invalid_token", "token_expired", "token_revoked", "token_owner_inactive",
    "insufficient_scope", "idempotency_key_reused", "idempotency_in_progress", "busy", "internal_error",
})

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message", "details"], "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable: " + ", ".join(ERROR_CODES)},
                "message": {"type": "string", "description": "For people, in the request's language"},
                "details": {"description": "null, or e.g. a list of {field, message} for validation_failed"},
            },
        }},
    },
    "CampaignCreate": {
        "type": "object", "additionalProperties": False,
        "required": ["name", "kind", "industry", "rate_fen_per_hour", "budget_fen", "starts_on", "ends_on"],
        "properties": {
            "name": {"type": "string", "maxLength": 120},
            "kind": {"type": "string", "enum": [k.value for k in CampaignKind]},
            "industry": {"type": "string", "enum": list(INDUSTRY_CODES)},
            "description": {"type": "string", "maxLength": 10_000},
            "script": {"type": "string", "maxLength": 20_000},
            "required_tags": {"type": "array", "items": {"type": "string", "enum": [t[0] for t in TAG_CATALOGUE]},
                              "maxItems": 20},
            "min_tier": {"type": "integer", "minimum": 0, "maximum": 3, "default": 1},
            "rate_fen_per_hour": {"type": "integer", "minimum": 1, "maximum": MAX_RATE_FEN},
            "bonus_fen_per_contact": {"type": "integer", "minimum": 0, "maximum": MAX_BONUS_FEN, "default": 0},
            "bonus_fen_per_success": {"type": "integer", "minimum": 0, "maximum": MAX_BONUS_FEN, "default": 0},
            "budget_fen": {"type": "integer", "minimum": 1, "maximum": 10**12},
            "starts_on": DATE, "ends_on": DATE,
        },
    },
    "Campaign": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "name", "kind", "industry", "status", "description", "script", "required_tags",
                     "min_tier", "rate_fen_per_hour", "bonus_fen_per_contact", "bonus_fen_per_success",
                     "budget_fen", "starts_on", "ends_on", "created_at", "published_at", "shifts"],
        "properties": {
            "id": INTEGER, "name": STRING, "kind": {"type": "string", "enum": [k.value for k in CampaignKind]},
            "industry": STRING, "status": {"type": "string", "enum": [s.value for s in CampaignStatus]},
            "description": STRING, "script": STRING, "required_tags": {"type": "array", "items": STRING},
            "min_tier": INTEGER, "rate_fen_per_hour": INTEGER, "bonus_fen_per_contact": INTEGER,
            "bonus_fen_per_success": INTEGER, "budget_fen": INTEGER, "starts_on": DATE, "ends_on": DATE,
            "created_at": DATETIME, "published_at": _nullable(DATETIME),
            "shifts": {"type": "object", "additionalProperties": False, "required": ["count", "seats", "seats_taken"],
                       "description": "Open shifts, seats offered and seats taken",
                       "properties": {"count": INTEGER, "seats": INTEGER, "seats_taken": INTEGER}},
        },
    },
    "CampaignPage": {
        "type": "object", "additionalProperties": False, "required": ["data", "next_cursor"],
        "properties": {"data": {"type": "array", "items": _ref("Campaign")}, "next_cursor": _nullable(STRING)},
    },
    "ShiftInput": {
        "type": "object", "additionalProperties": False, "required": ["starts_at", "ends_at", "seats"],
        "properties": {"starts_at": DATETIME, "ends_at": DATETIME,
                       "seats": {"type": "integer", "minimum": 1, "maximum": MAX_SEATS}},
    },
    "ShiftPattern": {
        "type": "object", "additionalProperties": False,
        "required": ["first_day", "last_day", "day_start", "day_end", "block_minutes", "seats"],
        "description": "Days, a daily window in the display time zone (00:00 as the end means midnight), "
                       "whole blocks of block_minutes",
        "properties": {"first_day": DATE, "last_day": DATE, "day_start": TIME, "day_end": TIME,
                       "block_minutes": {"type": "integer", "minimum": MIN_SHIFT_MINUTES, "maximum": MAX_SHIFT_MINUTES},
                       "seats": {"type": "integer", "minimum": 1, "maximum": MAX_SEATS}},
    },
    "ShiftsAdd": {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {"shifts": {"type": "array", "items": _ref("ShiftInput"), "maxItems": 100},
                       "pattern": _ref("ShiftPattern")},
    },
    "Shift": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "starts_at", "ends_at", "seats", "seats_taken", "status"],
        "properties": {"id": INTEGER, "starts_at": DATETIME, "ends_at": DATETIME, "seats": INTEGER,
                       "seats_taken": INTEGER, "status": {"type": "string", "enum": ["open", "cancelled"]}},
    },
    "ShiftsAdded": {
        "type": "object", "additionalProperties": False, "required": ["created", "shifts"],
        "properties": {"created": INTEGER, "shifts": {"type": "array", "items": _ref("Shift")}},
    },
    "CallList": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "campaign_id", "filename", "status", "size_bytes", "rows_processed", "rows_accepted",
                     "rows_rejected", "rows_blank", "error_message", "created_at", "started_at", "finished_at"],
        "properties": {
            "id": INTEGER, "campaign_id": INTEGER, "filename": STRING,
            "status": {"type": "string", "enum": [s.value for s in CallListStatus]},
            "size_bytes": INTEGER, "rows_processed": INTEGER, "rows_accepted": INTEGER, "rows_rejected": INTEGER,
            "rows_blank": INTEGER, "error_message": _nullable(STRING), "created_at": DATETIME,
            "started_at": _nullable(DATETIME), "finished_at": _nullable(DATETIME),
        },
    },
    "Stats": {
        "type": "object", "additionalProperties": False, "required": ["campaign_id", "metrics"],
        "properties": {"campaign_id": INTEGER,
                       "metrics": {"type": "object", "description": "app.insight.metrics.campaign_metrics; "
                                                                    "definitions in docs/api.md"}},
    },
    "Contact": {
        "type": "object", "additionalProperties": False,
        "required": ["id", "call_list_id", "name", "phone_masked", "status", "outcome", "attempts",
                     "handled_seconds", "last_attempt_at", "callback_at"],
        "properties": {
            "id": INTEGER, "call_list_id": INTEGER, "name": STRING,
            "phone_masked": {"type": "string", "examples": ["138****8000"]},
            "status": {"type": "string", "enum": [s.value for s in ContactStatus]},
            "outcome": {"type": ["string", "null"], "enum": [o.value for o in Outcome] + [None]},
            "attempts": INTEGER, "handled_seconds": INTEGER,
            "last_attempt_at": _nullable(DATETIME), "callback_at": _nullable(DATETIME),
        },
    },
    "ContactPage": {
        "type": "object", "additionalProperties": False, "required": ["data", "next_cursor"],
        "properties": {"data": {"type": "array", "items": _ref("Contact")}, "next_cursor": _nullable(STRING)},
    },
}

ERROR_DESCRIPTIONS = {
    400: "malformed_json: the body is not JSON",
    401: "unauthenticated, invalid_token, token_expired, token_revoked, token_owner_inactive",
    403: "insufficient_scope (a read token on a write)",
    404: "not_found: unknown id or another business's",
    409: "conflict (a domain rule), idempotency_key_reused, idempotency_in_progress",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed: details lists {field, message}",
    429: "rate_limited; see Retry-After",
}

ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"schema": STRING, "description": "Bearer realm=\"surgeline\""}},
    429: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}, "required": True,
                          "description": "Seconds until the token's window resets"}},
}


def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _ok(status: int, schema: str, description: str) -> dict:
    return {str(status): {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}}


ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
PAGE_PARAMS = [
    {"name": "limit", "in": "query", "required": False, "description": "Page size, 1-100 (default 20)",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
    {"name": "cursor", "in": "query", "required": False, "description": "next_cursor of the previous page",
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,16}$"}},
]
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False,
               "description": "Retries with the same key and body replay the first answer (24 hours)",
               "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": ID}


def _json_body(schema: str) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


READ = (401, 429)
WRITE_JSON = (400, 401, 403, 413, 415, 422, 429)


def paths() -> dict:
    cid = _path_id("campaign_id")
    return {
        "/api/v1/campaigns": {
            "get": {"operationId": "listCampaigns", "summary": "The business's campaigns, newest first",
                    "parameters": PAGE_PARAMS,
                    "responses": {**_ok(200, "CampaignPage", "A page of campaigns"), **_errors(*READ, 422)}},
            "post": {"operationId": "createCampaign", "summary": "Create a draft campaign",
                     "parameters": [IDEMPOTENCY], "requestBody": _json_body("CampaignCreate"),
                     "responses": {**_ok(201, "Campaign", "Created (or replayed)"), **_errors(*WRITE_JSON, 409)}},
        },
        "/api/v1/campaigns/{campaign_id}": {
            "get": {"operationId": "getCampaign", "summary": "One campaign", "parameters": [cid],
                    "responses": {**_ok(200, "Campaign", "The campaign"), **_errors(*READ, 404)}},
        },
        "/api/v1/campaigns/{campaign_id}/shifts": {
            "post": {"operationId": "addShifts", "summary": "Add single shifts and/or a pattern of shifts",
                     "parameters": [cid, IDEMPOTENCY], "requestBody": _json_body("ShiftsAdd"),
                     "responses": {**_ok(201, "ShiftsAdded", "Shifts added"),
                                   **_ok(200, "ShiftsAdded", "Every window already existed"),
                                   **_errors(*WRITE_JSON, 404, 409)}},
        },
        "/api/v1/campaigns/{campaign_id}/publish": {
            "post": {"operationId": "publishCampaign",
                     "summary": "Publish a draft: its budget moves from the wallet into escrow",
                     "parameters": [cid, IDEMPOTENCY],
                     "responses": {**_ok(200, "Campaign", "Published"), **_errors(401, 403, 404, 409, 422, 429)}},
        },
        "/api/v1/campaigns/{campaign_id}/call-lists": {
            "post": {"operationId": "uploadCallList", "summary": "Upload a call list (CSV) for an outbound campaign",
                     "parameters": [cid, IDEMPOTENCY,
                                    {"name": "filename", "in": "query", "required": False,
                                     "description": "Name shown for a raw CSV body (default call-list.csv)",
                                     "schema": {"type": "string", "maxLength": 255}}],
                     "requestBody": {"required": True, "content": {
                         "text/csv": {"schema": {"type": "string"}},
                         "multipart/form-data": {"schema": {
                             "type": "object", "required": ["file"],
                             "properties": {"file": {"type": "string", "format": "binary"}}}},
                     }},
                     "responses": {**_ok(202, "CallList", "Accepted; the import runs in the background"),
                                   **_errors(401, 403, 404, 409, 413, 415, 422, 429)}},
        },
        "/api/v1/call-lists/{call_list_id}": {
            "get": {"operationId": "getCallList", "summary": "A call list and its import's progress",
                    "parameters": [_path_id("call_list_id")],
                    "responses": {**_ok(200, "CallList", "The call list"), **_errors(*READ, 404)}},
        },
        "/api/v1/campaigns/{campaign_id}/stats": {
            "get": {"operationId": "getCampaignStats", "summary": "The campaign's statistics", "parameters": [cid],
                    "responses": {**_ok(200, "Stats", "Figures"), **_errors(*READ, 404)}},
        },
        "/api/v1/campaigns/{campaign_id}/contacts": {
            "get": {"operationId": "listContacts", "summary": "Contact outcomes, phone numbers masked",
                    "parameters": [cid, *PAGE_PARAMS,
                                   {"name": "status", "in": "query", "required": False,
                                    "schema": {"type": "string", "enum": [s.value for s in ContactStatus]}}],
                    "responses": {**_ok(200, "ContactPage", "A page of contacts, by id"),
                                  **_errors(*READ, 404, 422)}},
        },
        "/api/v1/openapi.json": {
            "get": {"operationId": "getOpenApi", "summary": "This document", "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1",
                                          "content": {"application/json": {"schema": {"type": "object"}}}},
                                  **_errors(429)}},
        },
    }


def document() -> dict:
    error_content = {"application/json": {"schema": _ref("Error")}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Surgeline API", "version": VERSION,
                 "description": "Campaigns, shifts, call lists and results for client businesses. See docs/api.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An organisation token (sl_…) from Team → API tokens"}},
            "schemas": SCHEMAS,
            "responses": {f"E{status}": {"description": text, "content": error_content,
                                         **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {})}
                          for status, text in ERROR_DESCRIPTIONS.items()},
        },
    }
