"""XP, levels, streaks and badges.

Level curve: reaching level n needs 50 * n * (n - 1) XP in total (level 1 at 0, 2 at 100, 3 at 300, 4 at 600,
5 at 1000 ...), i.e. going from level n to n + 1 costs 100 * n XP. There is no maximum level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from math import isqrt

from academy.models import Course, Localized

__all__ = [
    "ACCEPTED_ANSWER_XP",
    "BADGES",
    "RENEWAL_XP_PERCENT",
    "Badge",
    "LevelInfo",
    "MemberStats",
    "badges_earned",
    "level_for_xp",
    "longest_streak",
    "streak",
    "xp_for_level",
    "xp_for_pass",
]

ACCEPTED_ANSWER_XP = 20
"""XP for a Q&A answer the asker (or a moderator) accepts."""

RENEWAL_XP_PERCENT = 25
"""A passed renewal quiz earns this percent of the course XP (rounded half up)."""


@dataclass(frozen=True)
class LevelInfo:
    """Where an XP total sits on the level curve; progress_percent (0..99) is progress towards next_level_xp."""

    level: int
    xp: int
    level_floor: int
    next_level_xp: int
    progress_percent: int


def xp_for_level(level: int) -> int:
    """Total XP needed to reach `level` (>= 1): 50 * level * (level - 1)."""
    if level < 1:
        raise ValueError(f"level must be >= 1, got {level}")
    return 50 * level * (level - 1)


def level_for_xp(xp: int) -> LevelInfo:
    """Level, floor, next threshold and progress for a total XP (>= 0)."""
    if isinstance(xp, bool) or not isinstance(xp, int) or xp < 0:
        raise ValueError(f"xp must be a non-negative integer, got {xp!r}")
    level = (1 + isqrt(1 + xp // 12)) // 2 or 1  # close estimate, fixed below
    while xp_for_level(level + 1) <= xp:
        level += 1
    while level > 1 and xp_for_level(level) > xp:
        level -= 1
    floor, nxt = xp_for_level(level), xp_for_level(level + 1)
    return LevelInfo(level, xp, floor, nxt, (xp - floor) * 100 // (nxt - floor))


def streak(activity_days: Iterable[date], today: date) -> int:
    """Consecutive active days ending today, or ending yesterday if today has no activity yet (else 0)."""
    days = set(activity_days)
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def longest_streak(activity_days: Iterable[date]) -> int:
    """Longest run of consecutive active days ever."""
    days = set(activity_days)
    best = 0
    for day in days:
        if day - timedelta(days=1) in days:
            continue
        length = 1
        while day + timedelta(days=length) in days:
            length += 1
        best = max(best, length)
    return best


def xp_for_pass(course: Course, first_pass: bool, renewal: bool) -> int:
    """XP for a passed attempt: renewal -> RENEWAL_XP_PERCENT of course XP; first pass -> course XP; retake -> 0."""
    if renewal:
        return (course.xp * RENEWAL_XP_PERCENT * 2 + 100) // 200
    return course.xp if first_pass else 0


@dataclass(frozen=True)
class MemberStats:
    """Counters the badge rules look at (the app computes them)."""

    courses_passed: int = 0
    required_passed_all: bool = False
    longest_streak: int = 0
    contacts_handled: int = 0
    high_satisfaction_months: int = 0


@dataclass(frozen=True)
class Badge:
    """A badge: earned when `stats.<stat>` >= threshold (booleans count as 0/1)."""

    code: str
    name: Localized
    description: Localized
    stat: str
    threshold: int


BADGES: tuple[Badge, ...] = (
    Badge(
        "first_course",
        Localized("初出茅庐", "First course"),
        Localized("通过第一门学院课程。", "Passed your first Academy course."),
        "courses_passed",
        1,
    ),
    Badge(
        "streak_7",
        Localized("七日连学", "7-day streak"),
        Localized("连续 7 天在学院学习或答题。", "Learned or answered in the Academy 7 days in a row."),
        "longest_streak",
        7,
    ),
    Badge(
        "all_required",
        Localized("持证上岗", "Certified"),
        Localized("通过全部必修课程，获得接班资格。", "Passed every required course and can now claim shifts."),
        "required_passed_all",
        1,
    ),
    Badge(
        "contacts_100",
        Localized("百次服务", "100 contacts"),
        Localized("累计处理 100 通客户来电或会话。", "Handled 100 customer calls or chats."),
        "contacts_handled",
        100,
    ),
    Badge(
        "satisfaction_month",
        Localized("满意之星", "Satisfaction star"),
        Localized(
            "某个自然月的客户满意度达到优秀标准。",
            "Reached an excellent customer-satisfaction score for a calendar month.",
        ),
        "high_satisfaction_months",
        1,
    ),
)


def badges_earned(stats: MemberStats) -> frozenset[str]:
    """Codes of every badge whose rule `stats` meets."""
    return frozenset(b.code for b in BADGES if int(getattr(stats, b.stat)) >= b.threshold)
