"""Likert scoring and track recommendations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academy import InvalidAnswer
from academy.assessment import recommend_tracks, score_likert

# Fixture psych: empathy = i01 + i02 (reverse); patience = i03 + i04.


def test_scores_map_the_item_mean_from_1_5_to_0_100(catalogue) -> None:
    scores = score_likert(catalogue.psych, {"i01": 5, "i02": 1, "i03": 3, "i04": 4})
    assert scores == {"empathy": 100, "patience": 63}  # patience mean 3.5 -> 62.5 -> 63 (half up)


def test_reverse_items_count_six_minus_the_answer(catalogue) -> None:
    assert score_likert(catalogue.psych, {"i01": 5, "i02": 5, "i03": 1, "i04": 1})["empathy"] == 50
    assert score_likert(catalogue.psych, {"i01": 1, "i02": 5, "i03": 1, "i04": 1})["empathy"] == 0


def test_all_neutral_answers_score_50(catalogue) -> None:
    assert score_likert(catalogue.psych, dict.fromkeys(("i01", "i02", "i03", "i04"), 3)) == {
        "empathy": 50,
        "patience": 50,
    }


@pytest.mark.parametrize("bad", [0, 6, -1, 3.0, "3", None, True, False])
def test_values_outside_1_to_5_or_not_int_are_refused(catalogue, bad) -> None:
    with pytest.raises(InvalidAnswer, match="i03"):
        score_likert(catalogue.psych, {"i01": 3, "i02": 3, "i03": bad, "i04": 3})


def test_missing_items_are_refused(catalogue) -> None:
    with pytest.raises(InvalidAnswer, match="missing answer.*i04"):
        score_likert(catalogue.psych, {"i01": 3, "i02": 3, "i03": 3})


def test_unknown_items_are_refused(catalogue) -> None:
    with pytest.raises(InvalidAnswer, match="unknown item.*i99"):
        score_likert(catalogue.psych, {"i01": 3, "i02": 3, "i03": 3, "i04": 3, "i99": 3})


@given(st.lists(st.integers(min_value=1, max_value=5), min_size=4, max_size=4))
def test_every_score_is_between_0_and_100(catalogue, values: list[int]) -> None:
    scores = score_likert(catalogue.psych, dict(zip(("i01", "i02", "i03", "i04"), values, strict=True)))
    assert set(scores) == {"empathy", "patience"}
    assert all(0 <= s <= 100 for s in scores.values())


def test_recommended_tracks_come_from_the_top_two_dimensions(catalogue) -> None:
    career = catalogue.career  # helping_people -> shop; persuasion -> calls, shop; languages -> calls
    assert recommend_tracks(career, {"helping_people": 90, "persuasion": 20, "languages": 70}) == ["shop", "calls"]
    assert recommend_tracks(career, {"helping_people": 10, "persuasion": 80, "languages": 70}) == ["calls", "shop"]


def test_recommendation_ties_keep_file_order(catalogue) -> None:
    scores = {"helping_people": 50, "persuasion": 50, "languages": 50}
    assert recommend_tracks(catalogue.career, scores) == ["shop", "calls"]


def test_recommendation_needs_every_dimension_score(catalogue) -> None:
    with pytest.raises(Exception, match="languages"):
        recommend_tracks(catalogue.career, {"helping_people": 50, "persuasion": 50})
