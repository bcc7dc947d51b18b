"""Learning path: next courses ranked by the open shifts they unlock."""

from __future__ import annotations

from academy.path import OpenWork, PathStep, learning_path

ECOMMERCE = OpenWork(frozenset({"industry.ecommerce"}), shift_count=14)
AFTER_SALES = OpenWork(frozenset({"industry.ecommerce", "skill.after_sales"}), shift_count=6)
CALLBACKS = OpenWork(frozenset({"skill.outbound_callback"}), shift_count=9)
FINANCE = OpenWork(frozenset({"industry.finance"}), shift_count=50)  # no course grants it
NO_TAGS = OpenWork(frozenset(), shift_count=3)  # already eligible


def test_a_new_trainee_sees_prerequisites_counted_in_each_step(catalogue) -> None:
    steps = learning_path(catalogue, set(), set(), [ECOMMERCE, AFTER_SALES, CALLBACKS, FINANCE, NO_TAGS])
    by_slug = {s.slug: s for s in steps}
    assert by_slug["shop"] == PathStep(
        "shop", ["basics", "safety", "shop"], 20, frozenset({"industry.ecommerce", "skill.after_sales"})
    )
    assert by_slug["calls"].courses_needed == ["basics", "calls"]
    assert by_slug["calls"].unlocks_shifts == 9
    assert by_slug["basics"].courses_needed == ["basics"] and by_slug["basics"].unlocks_shifts == 0
    # 20 shifts / 3 courses beats 9 / 2; courses unlocking nothing come last in catalogue order
    assert [s.slug for s in steps] == ["shop", "calls", "basics", "safety"]


def test_passed_courses_are_neither_steps_nor_needed(catalogue) -> None:
    steps = learning_path(catalogue, {"basics", "safety"}, set(), [ECOMMERCE, CALLBACKS])
    assert [(s.slug, s.courses_needed, s.unlocks_shifts) for s in steps] == [
        ("shop", ["shop"], 14),
        ("calls", ["calls"], 9),
    ]


def test_work_already_eligible_is_not_counted_as_unlocked(catalogue) -> None:
    held = {"industry.ecommerce"}
    steps = learning_path(catalogue, {"basics", "safety"}, held, [ECOMMERCE, AFTER_SALES])
    shop = next(s for s in steps if s.slug == "shop")
    assert shop.unlocks_shifts == 6
    assert shop.tags_gained == frozenset({"skill.after_sales"})


def test_work_needing_tags_from_two_courses_is_not_unlocked_by_one(catalogue) -> None:
    both = OpenWork(frozenset({"industry.ecommerce", "skill.outbound_callback"}), shift_count=7)
    steps = learning_path(catalogue, {"basics", "safety"}, set(), [both])
    assert all(s.unlocks_shifts == 0 for s in steps)


def test_everything_passed_means_an_empty_path(catalogue) -> None:
    assert learning_path(catalogue, set(catalogue.courses), set(), [ECOMMERCE]) == []


def test_ties_prefer_more_shifts_then_fewer_courses(catalogue) -> None:
    few = OpenWork(frozenset({"skill.outbound_callback"}), shift_count=5)
    many = OpenWork(frozenset({"industry.ecommerce"}), shift_count=10)
    # calls: 5 shifts / 1 course; shop: 10 shifts / 2 courses (safety still missing) -> same ratio, shop wins
    steps = learning_path(catalogue, {"basics"}, set(), [few, many])
    assert [s.slug for s in steps][:2] == ["shop", "calls"]
