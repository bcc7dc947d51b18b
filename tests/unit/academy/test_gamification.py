"""XP, levels, streaks and badges."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academy.gamification import (
    ACCEPTED_ANSWER_XP,
    BADGES,
    LevelInfo,
    MemberStats,
    badges_earned,
    level_for_xp,
    longest_streak,
    streak,
    xp_for_level,
    xp_for_pass,
)

TODAY = date(2025, 6, 18)


@pytest.mark.parametrize(
    ("xp", "level", "floor", "nxt", "progress"),
    [
        (0, 1, 0, 100, 0),
        (99, 1, 0, 100, 99),
        (100, 2, 100, 300, 0),
        (200, 2, 100, 300, 50),
        (299, 2, 100, 300, 99),
        (300, 3, 300, 600, 0),
        (1000, 5, 1000, 1500, 0),
        (1499, 5, 1000, 1500, 99),
    ],
)
def test_level_curve_needs_50_n_n_minus_1_xp(xp: int, level: int, floor: int, nxt: int, progress: int) -> None:
    assert level_for_xp(xp) == LevelInfo(level, xp, floor, nxt, progress)


def test_xp_for_level_matches_the_documented_curve() -> None:
    assert [xp_for_level(n) for n in range(1, 7)] == [0, 100, 300, 600, 1000, 1500]
    with pytest.raises(ValueError):
        xp_for_level(0)


@given(st.integers(min_value=0, max_value=10**9))
def test_level_info_is_consistent_for_any_xp(xp: int) -> None:
    info = level_for_xp(xp)
    assert info.level_floor <= xp < info.next_level_xp
    assert info.level_floor == xp_for_level(info.level)
    assert info.next_level_xp == xp_for_level(info.level + 1)
    assert 0 <= info.progress_percent <= 100


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=10**4))
def test_level_never_drops_when_xp_grows(xp: int, more: int) -> None:
    assert level_for_xp(xp + more).level >= level_for_xp(xp).level


def test_negative_or_non_int_xp_is_refused() -> None:
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            level_for_xp(bad)  # type: ignore[arg-type]


def test_streak_counts_consecutive_days_ending_today() -> None:
    days = [TODAY - timedelta(days=n) for n in range(4)] + [TODAY - timedelta(days=6)]
    assert streak(days, TODAY) == 4


def test_streak_still_counts_when_today_has_no_activity_yet() -> None:
    days = [TODAY - timedelta(days=n) for n in range(1, 4)]
    assert streak(days, TODAY) == 3


def test_streak_is_zero_after_a_missed_day() -> None:
    assert streak([TODAY - timedelta(days=2), TODAY - timedelta(days=3)], TODAY) == 0
    assert streak([], TODAY) == 0


def test_streak_ignores_duplicates_and_future_days() -> None:
    days = [TODAY, TODAY, TODAY - timedelta(days=1), TODAY + timedelta(days=1)]
    assert streak(days, TODAY) == 2


def test_longest_streak_finds_the_longest_run() -> None:
    days = [TODAY - timedelta(days=n) for n in (0, 1, 5, 6, 7, 8, 20)]
    assert longest_streak(days) == 4
    assert longest_streak([]) == 0


def test_badges_are_data_with_both_languages() -> None:
    codes = [b.code for b in BADGES]
    assert codes == ["first_course", "streak_7", "all_required", "contacts_100", "satisfaction_month"]
    stat_names = {f.name for f in fields(MemberStats)}
    for badge in BADGES:
        assert badge.name.zh and badge.name.en and badge.description.zh and badge.description.en
        assert badge.stat in stat_names


def test_no_badges_for_a_new_member() -> None:
    assert badges_earned(MemberStats()) == frozenset()


@pytest.mark.parametrize(
    ("stats", "earned"),
    [
        (MemberStats(courses_passed=1), {"first_course"}),
        (MemberStats(longest_streak=6), set()),
        (MemberStats(longest_streak=7), {"streak_7"}),
        (MemberStats(courses_passed=2, required_passed_all=True), {"first_course", "all_required"}),
        (MemberStats(contacts_handled=99), set()),
        (MemberStats(contacts_handled=100), {"contacts_100"}),
        (MemberStats(high_satisfaction_months=1), {"satisfaction_month"}),
    ],
)
def test_each_badge_rule_has_its_threshold(stats: MemberStats, earned: set[str]) -> None:
    assert badges_earned(stats) == frozenset(earned)


def test_everything_earns_every_badge() -> None:
    stats = MemberStats(8, True, 30, 5000, 6)
    assert badges_earned(stats) == frozenset(b.code for b in BADGES)


def test_xp_for_pass_first_renewal_and_retake(catalogue) -> None:
    shop = catalogue.courses["shop"]  # 150 XP
    assert xp_for_pass(shop, first_pass=True, renewal=False) == 150
    assert xp_for_pass(shop, first_pass=False, renewal=False) == 0
    assert xp_for_pass(shop, first_pass=False, renewal=True) == 38  # 25 % of 150 = 37.5, half up
    assert xp_for_pass(catalogue.courses["basics"], first_pass=False, renewal=True) == 25


def test_accepted_answer_xp_is_a_positive_constant() -> None:
    assert isinstance(ACCEPTED_ANSWER_XP, int) and ACCEPTED_ANSWER_XP > 0
