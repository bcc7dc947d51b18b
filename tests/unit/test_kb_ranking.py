"""The knowledge base's pure ranking: smoothed helpful ratio, blended score, snippets."""

from dataclasses import dataclass

import pytest

from app.kb import ranking


@dataclass
class Hit:
    name: str
    score: float
    helped: int = 0
    not_helped: int = 0
    category: str | None = None


def test_helpful_ratio_is_a_half_without_votes_and_moves_towards_the_votes():
    assert ranking.helpful_ratio(0, 0) == 0.5
    assert ranking.helpful_ratio(1, 0) == pytest.approx(3 / 5)
    assert ranking.helpful_ratio(0, 1) == pytest.approx(2 / 5)
    assert ranking.helpful_ratio(100, 0) > 0.95 and ranking.helpful_ratio(0, 100) < 0.05


def test_blended_score_multiplies_relevance_by_between_one_half_and_one_and_a_half():
    assert ranking.blended_score(1.0, 0, 0) == pytest.approx(1.0)
    assert 1.45 < ranking.blended_score(1.0, 1000, 0) < 1.5
    assert 0.5 < ranking.blended_score(1.0, 0, 1000) < 0.55
    assert ranking.blended_score(0.8, 0, 0, category_match=True) == pytest.approx(0.8 * ranking.CATEGORY_BOOST)


def test_feedback_reorders_close_matches_but_not_a_much_better_text_match():
    close = [Hit("a", 10.0, not_helped=3), Hit("b", 9.0)]
    assert [h.name for h, _ in ranking.rank(close)] == ["b", "a"]
    far = [Hit("a", 10.0, not_helped=1), Hit("b", 2.0, helped=5)]
    assert [h.name for h, _ in ranking.rank(far)] == ["a", "b"]


def test_rank_keeps_text_order_on_ties_boosts_the_category_and_limits():
    hits = [Hit("a", 5.0), Hit("b", 5.0), Hit("c", 4.5, category="delivery"), Hit("d", 1.0)]
    assert [h.name for h, _ in ranking.rank(hits, limit=3)] == ["a", "b", "c"]
    assert [h.name for h, _ in ranking.rank(hits, category="delivery", limit=2)] == ["c", "a"]
    assert ranking.rank([]) == []


def test_snippet_centres_on_the_first_query_word_and_drops_markdown():
    body = "# 标题\n\n" + "无关内容。" * 40 + "**退款**到账需要 1–3 个工作日。[链接](https://example.cn)"
    piece = ranking.snippet(body, ["退款"])
    assert "退款到账" in piece and piece.startswith("…") and "**" not in piece and "#" not in piece
    assert ranking.snippet("short text", ["missing"]) == "short text"
