"""Idempotent POSTs: the first successful answer is stored per organisation + Idempotency-Key.

The key row is inserted (flushed) before the work, in the work's transaction, and filled with the
answer before commit. A concurrent request with the same key waits on the unique constraint
(PostgreSQL) or on the write lock every SQLite transaction takes (BEGIN IMMEDIATE), then finds the
stored answer and replays it: the work is done once. An error rolls the row back with the work, so
a failed request may be retried with the same key. Keys expire after 24 hours (api.purge_idempotency_keys).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.api.errors import ApiError
from app.api.models import IdempotencyKey
from app.core import clock
from app.core.db import db

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[\x21-\x7e]{1,255}\Z")  # printable ASCII, no spaces


@dataclass
class Answer:
    status: int
    body: dict
    location: str | None = None


def request_hash(*parts: bytes | str) -> str:
    """SHA-256 over the method, the path and a canonical form of the body."""
    digest = hashlib.sha256()
    for part in (request.method, request.path, *parts):
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _respond(answer: Answer, *, replayed: bool = False):
    response = jsonify(answer.body)
    response.status_code = answer.status
    if answer.location:
        response.headers["Location"] = answer.location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _key() -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if not _KEY.match(key):
        raise ApiError(422, "validation_failed", _l("The request body is not valid."),
                       [{"field": HEADER, "message": str(_l("1 to 255 printable ASCII characters, no spaces."))}])
    return key


def _stored(organisation_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalar(select(IdempotencyKey).where(IdempotencyKey.organisation_id == organisation_id,
                                                          IdempotencyKey.key == key))


def _replay(row: IdempotencyKey, digest: str):
    if row.request_hash != digest:
        raise ApiError(409, "idempotency_key_reused",
                       _l("This Idempotency-Key was used for a different request. Use a new key."))
    answer = Answer(row.status_code, row.response_body, row.location)
    db.session.rollback()
    return _respond(answer, replayed=True)


def run_idempotent(organisation_id: int, digest: str, work: Callable[[], Answer]):
    """Run `work` (which flushes, never commits) once per key; commit; answer as JSON."""
    key = _key()
    if key is None:
        answer = work()
        db.session.commit()
        return _respond(answer)
    existing = _stored(organisation_id, key)
    if existing is not None:
        return _replay(existing, digest)
    row = IdempotencyKey(organisation_id=organisation_id, key=key, request_hash=digest, status_code=0,
                         response_body={}, created_at=clock.now())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        # Another request with this key committed first (we waited for it): answer as it did.
        db.session.rollback()
        existing = _stored(organisation_id, key)
        if existing is None:  # it failed and rolled back meanwhile: nothing was done, the client may retry
            raise ApiError(409, "idempotency_in_progress",
                           _l("A request with this Idempotency-Key is still being processed. Retry shortly."),
                           headers={"Retry-After": "1"}) from None
        return _replay(existing, digest)
    answer = work()
    row.status_code, row.response_body, row.location = answer.status, answer.body, answer.location
    db.session.commit()
    return _respond(answer)
