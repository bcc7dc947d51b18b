"""Rules for starting an attempt, deadlines and expiry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from academy.policy import (
    AttemptRecord,
    Decision,
    can_start_attempt,
    deadline,
    expires_at,
    is_late,
    local_day_bounds,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 18, 12, 0, tzinfo=SHANGHAI)
BOTH = {"basics", "safety"}
GOOD_SCORES = {"empathy": 75, "patience": 50}


@pytest.fixture
def shop(catalogue):
    """Industry course: prerequisites basics + safety, empathy >= 60, 60 min cooldown, 3 attempts a day."""
    return catalogue.courses["shop"]


def start(course, now=NOW, passed=BOTH, attempts=(), scores=GOOD_SCORES, active=False) -> Decision:
    return can_start_attempt(course, now, passed, list(attempts), scores, active)


def test_allowed_when_every_rule_is_met(shop) -> None:
    assert start(shop) == Decision(True, None, {})


def test_missing_prerequisites_are_listed_in_course_order(shop) -> None:
    decision = start(shop, passed=set())
    assert not decision.ok
    assert decision.reason_code == "prerequisites_missing"
    assert decision.detail == {"missing": ["basics", "safety"]}
    assert start(shop, passed={"safety"}).detail == {"missing": ["basics"]}


def test_min_assessment_needs_the_assessment_taken(shop) -> None:
    decision = start(shop, scores={})
    assert (decision.ok, decision.reason_code) == (False, "assessment_required")
    assert decision.detail == {"dimension": "empathy", "required": 60}


def test_min_assessment_score_below_the_minimum_is_refused(shop) -> None:
    decision = start(shop, scores={"empathy": 59})
    assert (decision.ok, decision.reason_code) == (False, "assessment_score_too_low")
    assert decision.detail == {"dimension": "empathy", "required": 60, "score": 59}
    assert start(shop, scores={"empathy": 60}).ok


def test_courses_without_min_assessment_ignore_scores(catalogue) -> None:
    assert start(catalogue.courses["basics"], passed=set(), scores={}).ok


def test_an_active_attempt_blocks_a_new_one(shop) -> None:
    decision = start(shop, active=True)
    assert (decision.ok, decision.reason_code, decision.detail) == (False, "attempt_active", {})


def test_cooldown_after_a_failed_attempt_says_when_it_ends(shop) -> None:
    failed = AttemptRecord(started_at=NOW - timedelta(minutes=20), passed=False)
    decision = start(shop, attempts=[failed])
    assert (decision.ok, decision.reason_code) == (False, "cooldown")
    assert decision.detail["until"] == NOW + timedelta(minutes=40)
    assert decision.detail["remaining_seconds"] == 40 * 60
    assert start(shop, now=NOW + timedelta(minutes=40), attempts=[failed]).ok


def test_cooldown_counts_from_submission_when_known(shop) -> None:
    failed = AttemptRecord(NOW - timedelta(minutes=70), False, finished_at=NOW - timedelta(minutes=50))
    decision = start(shop, attempts=[failed])
    assert decision.reason_code == "cooldown"
    assert decision.detail["until"] == NOW + timedelta(minutes=10)


def test_no_cooldown_when_the_latest_attempt_passed(shop) -> None:
    attempts = [
        AttemptRecord(NOW - timedelta(minutes=30), passed=False),
        AttemptRecord(NOW - timedelta(minutes=10), passed=True),
    ]
    assert start(shop, attempts=attempts).ok


def test_zero_cooldown_means_retake_at_once(shop) -> None:
    course = replace(shop, cooldown_minutes=0)
    assert start(course, attempts=[AttemptRecord(NOW - timedelta(seconds=1), passed=False)]).ok


def test_daily_cap_counts_attempts_of_the_shanghai_day(shop) -> None:
    attempts = [AttemptRecord(NOW - timedelta(hours=h), passed=True) for h in (1, 2, 3)]
    decision = start(shop, attempts=attempts)
    assert (decision.ok, decision.reason_code) == (False, "daily_limit")
    assert decision.detail == {
        "limit": 3,
        "attempts_today": 3,
        "resets_at": datetime(2025, 6, 19, 0, 0, tzinfo=SHANGHAI),
    }


def test_daily_cap_resets_at_shanghai_midnight_not_utc_midnight(shop) -> None:
    # 23:30 Shanghai on the 18th is 15:30 UTC; 00:30 Shanghai on the 19th is still the 18th in UTC.
    late_evening = [AttemptRecord(datetime(2025, 6, 18, 15, 30 + m, tzinfo=UTC), passed=True) for m in range(3)]
    after_midnight = datetime(2025, 6, 18, 16, 30, tzinfo=UTC)
    assert start(shop, now=after_midnight, attempts=late_evening).ok
    before_midnight = datetime(2025, 6, 18, 15, 59, tzinfo=UTC)
    assert start(shop, now=before_midnight, attempts=late_evening).reason_code == "daily_limit"

    # 01:00-03:00 UTC on the 18th is 09:00-11:00 in Shanghai: they count until Shanghai midnight (16:00 UTC)
    morning_utc = [AttemptRecord(datetime(2025, 6, 18, 1 + h, 0, tzinfo=UTC), passed=True) for h in range(3)]
    assert start(shop, now=datetime(2025, 6, 18, 15, 0, tzinfo=UTC), attempts=morning_utc).reason_code == "daily_limit"
    assert start(shop, now=datetime(2025, 6, 18, 16, 0, tzinfo=UTC), attempts=morning_utc).ok


def test_local_day_bounds_are_shanghai_midnights() -> None:
    start_, end = local_day_bounds(datetime(2025, 6, 18, 16, 30, tzinfo=UTC))
    assert start_ == datetime(2025, 6, 19, tzinfo=SHANGHAI)
    assert end - start_ == timedelta(days=1)


def test_checks_run_in_documented_order(shop) -> None:
    failed = AttemptRecord(NOW - timedelta(minutes=1), passed=False)
    assert start(shop, passed=set(), scores={}, active=True, attempts=[failed]).reason_code == "prerequisites_missing"
    assert start(shop, scores={}, active=True, attempts=[failed]).reason_code == "assessment_required"
    assert start(shop, active=True, attempts=[failed]).reason_code == "attempt_active"
    assert start(shop, attempts=[failed] * 3).reason_code == "cooldown"


def test_naive_datetimes_are_refused(shop) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        start(shop, now=datetime(2025, 6, 18, 12, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        start(shop, attempts=[AttemptRecord(datetime(2025, 6, 18, 11, 0), passed=False)])
    with pytest.raises(ValueError):
        deadline(datetime(2025, 6, 18, 12, 0), shop)


def test_deadline_uses_the_course_or_renewal_time_limit(shop) -> None:
    assert deadline(NOW, shop) == NOW + timedelta(minutes=15)
    assert deadline(NOW, shop, renewal=True) == NOW + timedelta(minutes=8)


def test_submission_is_late_only_after_deadline_plus_grace(shop) -> None:
    due = NOW + timedelta(minutes=15)
    assert not is_late(NOW, due, shop)
    assert not is_late(NOW, due + timedelta(seconds=5), shop)
    assert is_late(NOW, due + timedelta(seconds=6), shop)
    assert is_late(NOW, due + timedelta(seconds=1), shop, grace_seconds=0)
    assert is_late(NOW, NOW + timedelta(minutes=9), shop, renewal=True)


def test_lateness_compares_instants_across_timezones(shop) -> None:
    submitted = (NOW + timedelta(minutes=14)).astimezone(timezone(timedelta(hours=-5)))
    assert not is_late(NOW.astimezone(UTC), submitted, shop)


def test_passes_expire_after_validity_days(catalogue, shop) -> None:
    assert expires_at(NOW, shop) == NOW + timedelta(days=365)
    assert expires_at(NOW, catalogue.courses["basics"]) is None
