"""Pure ranking and snippet functions (no database): how feedback and the contact's category re-order text hits.

score = relevance × (0.5 + helpful) × (CATEGORY_BOOST if the article's category is the contact's, else 1)

* relevance = the hit's text score ÷ the best text score among the candidates (1.0 for the best match);
* helpful = (helped + 2) ÷ (helped + not helped + 4): the share of "helped" votes smoothed towards ½ by a prior
  of two votes each way, so an article without feedback scores 0.5 (multiplier 1.0), one with many "helped"
  votes approaches 1.0 (multiplier 1.5) and one with many "did not help" votes approaches 0 (multiplier 0.5).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Protocol

PRIOR_HELPED = 2
PRIOR_TOTAL = 4
CATEGORY_BOOST = 1.25
SNIPPET_CHARS = 120

_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_INLINE = re.compile(r"[*_`~]+")
_MARKUP = re.compile(r"[#>|\[\]!]+")
_SPACE = re.compile(r"\s+")


class Scored(Protocol):
    score: float
    helped: int
    not_helped: int
    category: str | None


def helpful_ratio(helped: int, not_helped: int) -> float:
    """The smoothed share of "helped" votes, in (0, 1); 0.5 without votes."""
    return (helped + PRIOR_HELPED) / (helped + not_helped + PRIOR_TOTAL)


def blended_score(relevance: float, helped: int, not_helped: int, *, category_match: bool = False) -> float:
    """Text relevance (0..1] blended with feedback and the category match (see the module docstring)."""
    return relevance * (0.5 + helpful_ratio(helped, not_helped)) * (CATEGORY_BOOST if category_match else 1.0)


def rank(hits: Sequence[Scored], *, category: str | None = None, limit: int = 5) -> list[tuple[Scored, float]]:
    """The best `limit` hits by blended score (ties keep the text order)."""
    if not hits:
        return []
    best = max(h.score for h in hits)
    scored = []
    for position, hit in enumerate(hits):
        relevance = hit.score / best if best > 0 else 1.0
        value = blended_score(relevance, hit.helped, hit.not_helped,
                              category_match=bool(category) and hit.category == category)
        scored.append((-value, position, hit))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [(hit, -value) for value, _position, hit in scored[:limit]]


def plain_text(markdown_text: str) -> str:
    """Markdown reduced to one line of text for snippets (markup characters and link targets dropped)."""
    text = _INLINE.sub("", _LINK_TARGET.sub(" ", markdown_text or ""))
    return _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip()


def snippet(markdown_text: str, words: Iterable[str], *, width: int = SNIPPET_CHARS) -> str:
    """About `width` characters of the body around the first query word it contains (else its start)."""
    body = plain_text(markdown_text)
    lowered = body.lower()
    positions = [p for p in (lowered.find(w.lower()) for w in words if w) if p >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    piece = body[start:start + width]
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(body) else "")
