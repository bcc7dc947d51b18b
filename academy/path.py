"""Learning path: which courses to take next, ranked by the open shifts they unlock."""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from fractions import Fraction

from academy.models import Catalogue

__all__ = ["OpenWork", "PathStep", "learning_path"]


@dataclass(frozen=True)
class OpenWork:
    """Open shifts that need all of `required_tags` (e.g. one client's e-commerce campaign this week)."""

    required_tags: frozenset[str]
    shift_count: int


@dataclass(frozen=True)
class PathStep:
    """Taking `courses_needed` (prerequisites first, ending with `slug`) makes `unlocks_shifts` more shifts eligible."""

    slug: str
    courses_needed: list[str]
    unlocks_shifts: int
    tags_gained: frozenset[str]


def learning_path(
    catalogue: Catalogue,
    passed: AbstractSet[str],
    held_tags: AbstractSet[str],
    open_work: Sequence[OpenWork],
) -> list[PathStep]:
    """One step per course not passed yet, most shifts unlocked per course needed first.

    Ties: more shifts unlocked, then fewer courses needed, then catalogue order. Tags of courses whose pass has
    expired should be left out of `held_tags` and the course out of `passed`.
    """
    order = list(catalogue.courses)
    held = frozenset(held_tags)
    steps: list[tuple[tuple[Fraction, int, int, int], PathStep]] = []
    for slug in order:
        if slug in passed:
            continue
        needed = _closure(catalogue, slug, passed)
        needed_ordered = [s for s in order if s in needed]
        gained = frozenset(t for s in needed_ordered for t in catalogue.courses[s].grants_tags) - held
        after = held | gained
        unlocks = sum(w.shift_count for w in open_work if not w.required_tags <= held and w.required_tags <= after)
        key = (-Fraction(unlocks, len(needed_ordered)), -unlocks, len(needed_ordered), order.index(slug))
        steps.append((key, PathStep(slug, needed_ordered, unlocks, gained)))
    steps.sort(key=lambda pair: pair[0])
    return [step for _, step in steps]


def _closure(catalogue: Catalogue, slug: str, passed: AbstractSet[str]) -> set[str]:
    """`slug` plus every prerequisite (transitively) that is not passed yet."""
    needed: set[str] = set()
    todo = [slug]
    while todo:
        current = todo.pop()
        if current in needed or current in passed:
            continue
        needed.add(current)
        todo.extend(catalogue.courses[current].prerequisites)
    return needed
