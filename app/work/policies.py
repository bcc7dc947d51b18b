"""Attendance rules as pure functions: when check-in is open, how many minutes are paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l

from app.claims.models import ClaimStatus


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None  # a code: not_claimed, too_early, too_late, not_checked_in

    def __bool__(self) -> bool:
        return self.allowed


REASONS = {
    "not_claimed": _l("This seat cannot be checked in."),
    "too_early": _l("Check-in has not opened yet."),
    "too_late": _l("Check-in has closed for this shift."),
    "not_checked_in": _l("You are not checked in on this shift."),
}


def check_in_window(starts_at: datetime, ends_at: datetime, *, opens: timedelta, grace: timedelta,
                    claimed_at: datetime | None = None) -> tuple[datetime, datetime]:
    """Check-in is open from `opens` before the start until `grace` after it (never past the end), ends included.

    A seat handed over after the start (a no-show's seat given to the waitlist) gets its grace from then.
    """
    late_start = max(starts_at, claimed_at) if claimed_at else starts_at
    return starts_at - opens, min(late_start + grace, ends_at - timedelta(minutes=1))


def can_check_in(*, status: str, starts_at: datetime, ends_at: datetime, now: datetime, opens: timedelta,
                 grace: timedelta, claimed_at: datetime | None = None) -> Decision:
    if status != ClaimStatus.CLAIMED:
        return Decision(False, "not_claimed")
    first, last = check_in_window(starts_at, ends_at, opens=opens, grace=grace, claimed_at=claimed_at)
    if now < first:
        return Decision(False, "too_early")
    if now > last:
        return Decision(False, "too_late")
    return Decision(True)


def can_check_out(*, status: str) -> Decision:
    return Decision(True) if status == ClaimStatus.CHECKED_IN else Decision(False, "not_checked_in")


def whole_minutes(start: datetime, end: datetime) -> int:
    """Seconds rounded half-up to whole seconds, then floored to whole minutes (the SQL sweep does the same)."""
    seconds = (end - start).total_seconds()
    return int(seconds + 0.5) // 60 if seconds > 0 else 0


def paid_minutes(*, checked_in_at: datetime, checked_out_at: datetime, starts_at: datetime,
                 ends_at: datetime) -> int:
    """The overlap of [checked in, checked out] with the shift window, in whole minutes."""
    start = max(checked_in_at, starts_at)
    end = min(checked_out_at, ends_at)
    return whole_minutes(start, end) if end > start else 0
