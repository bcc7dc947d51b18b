"""The published rating and tier rules, as pure functions (the SQL recompute feeds them aggregates).

Ratings are recomputed from the underlying events every time, never incremented, so a replayed
survey or flag changes nothing. Recent work weighs more: events are weighted by age bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

# Age buckets (days, weight): the last month counts fully, older work fades.
AGE_WEIGHTS: tuple[tuple[int, float], ...] = ((30, 1.0), (90, 0.7), (180, 0.4), (365, 0.2))

# Bayesian priors: a handful of events cannot swing a rating.
SATISFACTION_PRIOR_MEAN = 4.2  # on the 1–5 scale
SATISFACTION_PRIOR_WEIGHT = 10.0  # worth ten surveys
QA_PRIOR_PASS = 0.95
QA_PRIOR_WEIGHT = 20.0
RELIABILITY_PRIOR = 0.95
RELIABILITY_PRIOR_WEIGHT = 5.0
LATE_CANCEL_COST = 0.5  # a late cancellation counts half a no-show

WEIGHTS = {"satisfaction": 0.5, "qa": 0.25, "reliability": 0.25}


@dataclass(frozen=True)
class Aggregates:
    """Weighted sums over an agent's events (weights from AGE_WEIGHTS)."""

    survey_weight: float = 0.0
    survey_score_sum: float = 0.0  # Σ weight × score (1–5)
    surveys: int = 0
    inspected_weight: float = 0.0
    flagged_weight: float = 0.0  # confirmed QA flags
    due_weight: float = 0.0  # claims that were due (kept, no-show, late-cancelled)
    no_show_weight: float = 0.0
    late_cancel_weight: float = 0.0
    shifts_completed: int = 0


@dataclass(frozen=True)
class Rating:
    satisfaction: float  # 0–100
    qa: float
    reliability: float
    composite: float
    surveys: int
    shifts_completed: int


def _to_100(value: float) -> float:
    return round(max(0.0, min(100.0, value)), 1)


def rate(a: Aggregates) -> Rating:
    """Bayesian satisfaction, QA and reliability, combined into one composite on 0–100."""
    mean = (SATISFACTION_PRIOR_MEAN * SATISFACTION_PRIOR_WEIGHT + a.survey_score_sum) / (
        SATISFACTION_PRIOR_WEIGHT + a.survey_weight)
    satisfaction = _to_100((mean - 1) / 4 * 100)
    qa_pass = (QA_PRIOR_PASS * QA_PRIOR_WEIGHT + (a.inspected_weight - a.flagged_weight)) / (
        QA_PRIOR_WEIGHT + a.inspected_weight)
    qa = _to_100(qa_pass * 100)
    misses = a.no_show_weight + LATE_CANCEL_COST * a.late_cancel_weight
    kept = (RELIABILITY_PRIOR * RELIABILITY_PRIOR_WEIGHT + max(0.0, a.due_weight - misses)) / (
        RELIABILITY_PRIOR_WEIGHT + a.due_weight)
    reliability = _to_100(kept * 100)
    composite = _to_100(sum(WEIGHTS[k] * v for k, v in
                            (("satisfaction", satisfaction), ("qa", qa), ("reliability", reliability))))
    return Rating(satisfaction, qa, reliability, composite, a.surveys, a.shifts_completed)


@dataclass(frozen=True)
class TierRule:
    tier: int
    min_composite: float  # to reach the tier
    keep_composite: float  # below this the agent drops a tier (hysteresis)
    min_surveys: int
    min_shifts: int


# Certified (1) comes from the Academy; senior (2) and gold (3) are earned by work.
TIER_RULES = (
    TierRule(tier=2, min_composite=80.0, keep_composite=72.0, min_surveys=30, min_shifts=10),
    TierRule(tier=3, min_composite=90.0, keep_composite=84.0, min_surveys=150, min_shifts=40),
)


def next_tier(current: int, rating: Rating) -> int:
    """Move at most one step up or down by the published rules; trainees are left to the Academy."""
    if current < 1:
        return current
    rules = {r.tier: r for r in TIER_RULES}
    up = rules.get(current + 1)
    if up and rating.composite >= up.min_composite and rating.surveys >= up.min_surveys \
            and rating.shifts_completed >= up.min_shifts:
        return current + 1
    here = rules.get(current)
    if here and rating.composite < here.keep_composite:
        return current - 1
    return current


# Tag levels from performance in the tag's industry: (level, contacts handled, CSAT share 0–1).
TAG_LEVEL_RULES = ((3, 1000, 0.90), (2, 200, 0.85))


def tag_level(contacts: int, csat_share: float) -> int:
    for level, min_contacts, min_csat in TAG_LEVEL_RULES:
        if contacts >= min_contacts and csat_share >= min_csat:
            return level
    return 1
