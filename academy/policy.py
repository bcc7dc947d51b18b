"""Pure rules deciding whether an attempt may start, when it is due and when granted tags expire."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from academy.models import Course

__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "LOCAL_TZ",
    "AttemptRecord",
    "Decision",
    "can_start_attempt",
    "deadline",
    "expires_at",
    "is_late",
    "local_day_bounds",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_GRACE_SECONDS = 5

PREREQUISITES_MISSING = "prerequisites_missing"
ASSESSMENT_REQUIRED = "assessment_required"
ASSESSMENT_SCORE_TOO_LOW = "assessment_score_too_low"
ATTEMPT_ACTIVE = "attempt_active"
COOLDOWN = "cooldown"
DAILY_LIMIT = "daily_limit"


@dataclass(frozen=True)
class Decision:
    """Outcome of a rule check: ok, or a machine-readable reason code with details for the message."""

    ok: bool
    reason_code: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AttemptRecord:
    """A past or running attempt at the course; `finished_at` (if known) starts the cooldown instead of `started_at`."""

    started_at: datetime
    passed: bool
    finished_at: datetime | None = None


ALLOWED = Decision(True)


def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value


def local_day_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of the Asia/Shanghai calendar day containing `moment`, as aware datetimes."""
    local = _aware("moment", moment).astimezone(LOCAL_TZ)
    start = datetime.combine(local.date(), time(0), tzinfo=LOCAL_TZ)
    return start, datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def can_start_attempt(
    course: Course,
    now: datetime,
    passed_slugs: Collection[str],
    attempts: Sequence[AttemptRecord],
    dimension_scores: Mapping[str, int],
    active_attempt: bool,
) -> Decision:
    """Check, in order: prerequisites passed, psych minimum met, no attempt running, cooldown over, daily cap.

    Reason codes and details: prerequisites_missing {missing: [slugs]}; assessment_required {dimension, required};
    assessment_score_too_low {dimension, required, score}; attempt_active {}; cooldown {until, remaining_seconds};
    daily_limit {limit, attempts_today, resets_at}. `attempts` are this member's attempts at this course (any version).
    """
    _aware("now", now)
    missing = [slug for slug in course.prerequisites if slug not in passed_slugs]
    if missing:
        return Decision(False, PREREQUISITES_MISSING, {"missing": missing})

    need = course.min_assessment
    if need is not None:
        score = dimension_scores.get(need.dimension)
        if score is None:
            return Decision(False, ASSESSMENT_REQUIRED, {"dimension": need.dimension, "required": need.score})
        if score < need.score:
            detail = {"dimension": need.dimension, "required": need.score, "score": score}
            return Decision(False, ASSESSMENT_SCORE_TOO_LOW, detail)

    if active_attempt:
        return Decision(False, ATTEMPT_ACTIVE, {})

    if attempts and course.cooldown_minutes > 0:
        last = max(attempts, key=lambda a: _aware("started_at", a.started_at))
        if not last.passed:
            ended = _aware("finished_at", last.finished_at) if last.finished_at is not None else last.started_at
            until = ended + timedelta(minutes=course.cooldown_minutes)
            if now < until:
                remaining = int((until - now).total_seconds() + 0.999999)
                return Decision(False, COOLDOWN, {"until": until, "remaining_seconds": remaining})

    day_start, day_end = local_day_bounds(now)
    today = sum(1 for a in attempts if day_start <= _aware("started_at", a.started_at) < day_end)
    if today >= course.max_attempts_per_day:
        detail = {"limit": course.max_attempts_per_day, "attempts_today": today, "resets_at": day_end}
        return Decision(False, DAILY_LIMIT, detail)
    return ALLOWED


def deadline(started_at: datetime, course: Course, renewal: bool = False) -> datetime:
    """When an attempt started at `started_at` must be submitted (course or renewal time limit)."""
    return _aware("started_at", started_at) + timedelta(minutes=course.rules(renewal).time_limit_minutes)


def is_late(
    started_at: datetime,
    submitted_at: datetime,
    course: Course,
    renewal: bool = False,
    grace_seconds: int = DEFAULT_GRACE_SECONDS,
) -> bool:
    """True when the submission came after the deadline plus a small network grace."""
    return _aware("submitted_at", submitted_at) > deadline(started_at, course, renewal) + timedelta(
        seconds=grace_seconds
    )


def expires_at(passed_at: datetime, course: Course) -> datetime | None:
    """When a pass (and the tags it granted) expires; None for courses that never expire."""
    _aware("passed_at", passed_at)
    return None if course.validity_days is None else passed_at + timedelta(days=course.validity_days)
