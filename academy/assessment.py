"""Scoring Likert assessments and recommending course tracks."""

from __future__ import annotations

from collections.abc import Mapping

from academy.errors import AcademyError, InvalidAnswer
from academy.models import Assessment

__all__ = ["LIKERT_MAX", "LIKERT_MIN", "TOP_DIMENSIONS", "recommend_tracks", "score_likert"]

LIKERT_MIN = 1
LIKERT_MAX = 5
TOP_DIMENSIONS = 2


def score_likert(assessment: Assessment, responses: Mapping[str, int]) -> dict[str, int]:
    """Score every dimension 0..100: mean of its items (reverse items count 6 - x) mapped from 1..5, rounded half up.

    Raises InvalidAnswer for a missing or unknown item, or a value that is not an int 1..5 (bools are rejected).
    """
    item_ids = {i.id for i in assessment.items}
    unknown = sorted(set(responses) - item_ids)
    if unknown:
        raise InvalidAnswer(f"unknown item(s) in {assessment.slug}: {', '.join(map(str, unknown))}")
    missing = [i.id for i in assessment.items if i.id not in responses]
    if missing:
        raise InvalidAnswer(f"missing answer(s) in {assessment.slug}: {', '.join(missing)}")
    totals: dict[str, list[int]] = {d.code: [0, 0] for d in assessment.dimensions}
    for item in assessment.items:
        value = responses[item.id]
        if isinstance(value, bool) or not isinstance(value, int) or not LIKERT_MIN <= value <= LIKERT_MAX:
            raise InvalidAnswer(
                f"item {item.id!r}: answer must be an integer {LIKERT_MIN}..{LIKERT_MAX}, got {value!r}"
            )
        totals[item.dimension][0] += (LIKERT_MIN + LIKERT_MAX - value) if item.reverse else value
        totals[item.dimension][1] += 1
    scores: dict[str, int] = {}
    for code, (total, count) in totals.items():
        # (mean - 1) / 4 * 100 == (total - count) * 100 / (4 * count); rounded half up in integers
        num, den = (total - count * LIKERT_MIN) * 100, (LIKERT_MAX - LIKERT_MIN) * count
        scores[code] = (2 * num + den) // (2 * den) if count else 0
    return scores


def recommend_tracks(career_assessment: Assessment, scores: Mapping[str, int]) -> list[str]:
    """Course slugs recommended by the top 2 dimensions (ties keep file order), deduplicated, in that order."""
    codes = career_assessment.dimension_codes
    missing = [c for c in codes if c not in scores]
    if missing:
        raise AcademyError(f"no score for dimension(s): {', '.join(missing)}")
    ranked = sorted(codes, key=lambda c: (-scores[c], codes.index(c)))
    slugs: list[str] = []
    for code in ranked[:TOP_DIMENSIONS]:
        for slug in career_assessment.dimension(code).tracks:
            if slug not in slugs:
                slugs.append(slug)
    return slugs
