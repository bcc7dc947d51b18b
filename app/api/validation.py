"""Strict request bodies: JSON only, no unknown fields, exact types. Every problem is listed at once.

A body spec is a dict of field name -> Field. `validate` returns the cleaned values (dates parsed,
times zoned in UTC) or raises a 422 `validation_failed` whose details list each field and its problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from flask import request
from flask_babel import lazy_gettext as _l

from app.api.errors import ApiError

MAX_JSON_BYTES = 1024 * 1024
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"\d{2}:\d{2}\Z")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?([Zz]|[+-]\d{2}:\d{2})\Z")


@dataclass(frozen=True)
class Field:
    kind: str  # string | integer | date | time | datetime | string_list | object | object_list
    required: bool = False
    min: int | None = None
    max: int | None = None
    max_len: int | None = None
    max_items: int | None = None
    fields: dict = field(default_factory=dict)  # object / object_list
    choices: tuple[str, ...] | None = None


def read_json(max_bytes: int = MAX_JSON_BYTES):
    """The request's JSON body: 415 unless it says application/json, 413 above the limit, 400 if malformed."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", _l("Send the body as JSON (Content-Type: application/json)."))
    if request.content_length is not None and request.content_length > max_bytes:
        raise ApiError(413, "too_large", _l("The request body is larger than %(n)d bytes.", n=max_bytes))
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ApiError(413, "too_large", _l("The request body is larger than %(n)d bytes.", n=max_bytes))
    try:
        text = raw.decode("utf-8-sig")
        return json.loads(text, parse_constant=_refuse_constant), raw
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError(400, "malformed_json", _l("The body is not valid JSON."),
                       {"reason": str(exc)[:200]}) from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class _Errors(list):
    def add(self, path: str, message) -> None:
        self.append({"field": path, "message": str(message)})


def validate(body, spec: dict[str, Field]) -> dict:
    errors = _Errors()
    cleaned = _object(body, spec, "", errors)
    if errors:
        raise ApiError(422, "validation_failed", _l("The request body is not valid."), errors[:50])
    return cleaned


def _object(value, spec: dict[str, Field], path: str, errors: _Errors) -> dict:
    if not isinstance(value, dict):
        errors.add(path or "(body)", _l("Must be a JSON object."))
        return {}
    out = {}
    for name in value:
        if name not in spec:
            errors.add(_join(path, name), _l("Unknown field."))
    for name, rule in spec.items():
        where = _join(path, name)
        if name not in value or value[name] is None:
            if rule.required:
                errors.add(where, _l("This field is required."))
            continue
        out[name] = _value(value[name], rule, where, errors)
    return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else str(name)


def _value(value, rule: Field, where: str, errors: _Errors):
    kind = rule.kind
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(where, _l("Must be an integer."))
            return None
        if (rule.min is not None and value < rule.min) or (rule.max is not None and value > rule.max):
            errors.add(where, _l("Must be between %(min)s and %(max)s.", min=rule.min, max=rule.max))
            return None
        return value
    if kind == "string":
        if not isinstance(value, str):
            errors.add(where, _l("Must be a string."))
            return None
        if rule.max_len is not None and len(value) > rule.max_len:
            errors.add(where, _l("At most %(n)d characters.", n=rule.max_len))
            return None
        if rule.choices is not None and value not in rule.choices:
            errors.add(where, _l("Must be one of: %(choices)s.", choices=", ".join(rule.choices)))
            return None
        return value
    if kind in ("date", "time", "datetime"):
        return _temporal(value, kind, where, errors)
    if kind == "string_list":
        if not _list(value, rule, where, errors, strings=True):
            return None
        return list(value)
    if kind == "object":
        return _object(value, rule.fields, where, errors)
    if kind == "object_list":
        if not _list(value, rule, where, errors, strings=False):
            return None
        return [_object(item, rule.fields, f"{where}[{i}]", errors) for i, item in enumerate(value)]
    raise AssertionError(kind)


def _list(value, rule: Field, where: str, errors: _Errors, *, strings: bool) -> bool:
    """A JSON list (of strings only, when `strings`) of at most `rule.max_items`; else the error is added."""
    if not isinstance(value, list) or (strings and not all(isinstance(v, str) for v in value)):
        errors.add(where, _l("Must be a list of strings.") if strings else _l("Must be a list."))
        return False
    if rule.max_items is not None and len(value) > rule.max_items:
        errors.add(where, _l("At most %(n)d items.", n=rule.max_items))
        return False
    return True


def _temporal(value, kind: str, where: str, errors: _Errors):
    pattern, message = {
        "date": (_DATE, _l("Must be a date: YYYY-MM-DD.")),
        "time": (_TIME, _l("Must be a time: HH:MM.")),
        "datetime": (_DATETIME, _l("Must be a date and time with its offset: 2026-11-11T08:00:00+08:00.")),
    }[kind]
    if not isinstance(value, str) or not pattern.match(value):
        errors.add(where, message)
        return None
    try:
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "time":
            return time.fromisoformat(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        errors.add(where, _l("This date or time does not exist."))
        return None
