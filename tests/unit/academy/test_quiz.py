"""Drawing questions and grading answers."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from academy import AcademyError, InvalidAnswer
from academy.quiz import DrawnQuestion, draw_questions, grade, score_percent

from .helpers import correct_answers

# Fixture pool: q01-q05 single (a correct), q06-q10 multiple (a+b correct), q11-q15 true_false (true correct).
SINGLE = DrawnQuestion("q01", ("c", "a", "d", "b"))
MULTIPLE = DrawnQuestion("q06", ("b", "d", "a", "c"))
TRUE_FALSE = DrawnQuestion("q11", ("true", "false"))
DRAWN = [SINGLE, MULTIPLE, TRUE_FALSE]


@pytest.fixture
def basics(catalogue):
    return catalogue.courses["basics"]


def test_single_choice_is_correct_only_with_the_right_option(basics) -> None:
    result = grade(basics, [SINGLE], {"q01": ["a"]}, pass_mark=80)
    assert result.results[0].correct and result.score_percent == 100 and result.passed
    result = grade(basics, [SINGLE], {"q01": ["b"]}, pass_mark=80)
    assert not result.results[0].correct and result.score_percent == 0 and not result.passed


def test_multiple_choice_needs_exactly_the_correct_set(basics) -> None:
    assert grade(basics, [MULTIPLE], {"q06": ["b", "a"]}, 80).results[0].correct
    assert not grade(basics, [MULTIPLE], {"q06": ["a"]}, 80).results[0].correct
    assert not grade(basics, [MULTIPLE], {"q06": ["a", "b", "c"]}, 80).results[0].correct


def test_true_false_is_graded_like_a_single_choice(basics) -> None:
    assert grade(basics, [TRUE_FALSE], {"q11": ["true"]}, 80).results[0].correct
    assert not grade(basics, [TRUE_FALSE], {"q11": ["false"]}, 80).results[0].correct


def test_a_bare_string_answer_counts_as_one_option(basics) -> None:
    assert grade(basics, [SINGLE], {"q01": "a"}, 80).results[0].correct


def test_unanswered_questions_count_wrong(basics) -> None:
    result = grade(basics, DRAWN, {"q01": ["a"], "q06": []}, pass_mark=30)
    assert [r.correct for r in result.results] == [True, False, False]
    assert [r.answered for r in result.results] == [True, False, False]
    assert result.correct_count == 1 and result.question_count == 3
    assert result.score_percent == 33 and result.passed


def test_result_lists_choices_and_correct_options_in_displayed_order(basics) -> None:
    result = grade(basics, DRAWN, {"q06": ["a", "d"]}, pass_mark=80)
    multiple = result.results[1]
    assert multiple.question_id == "q06"
    assert multiple.chosen == ("d", "a")
    assert multiple.correct_option_ids == ("b", "a")
    assert multiple.explanation_key == "q06"
    assert multiple.explanation == basics.question("q06").explanation
    json.dumps(result.to_dict())  # storable as JSON


def test_option_that_does_not_belong_to_the_question_is_rejected(basics) -> None:
    with pytest.raises(InvalidAnswer, match="has no option 'e'"):
        grade(basics, [SINGLE], {"q01": ["e"]}, 80)
    with pytest.raises(InvalidAnswer):
        grade(basics, [TRUE_FALSE], {"q11": ["a"]}, 80)


def test_answer_to_a_question_that_was_not_drawn_is_rejected(basics) -> None:
    with pytest.raises(InvalidAnswer, match="'q02' was not part of this attempt"):
        grade(basics, [SINGLE], {"q01": ["a"], "q02": ["a"]}, 80)


def test_two_options_on_a_single_or_true_false_question_are_rejected(basics) -> None:
    with pytest.raises(InvalidAnswer, match="exactly one option"):
        grade(basics, [SINGLE], {"q01": ["a", "b"]}, 80)
    with pytest.raises(InvalidAnswer, match="exactly one option"):
        grade(basics, [TRUE_FALSE], {"q11": ["true", "false"]}, 80)


def test_invalid_answer_is_an_academy_error() -> None:
    assert issubclass(InvalidAnswer, AcademyError)


def test_non_string_option_ids_are_rejected(basics) -> None:
    with pytest.raises(InvalidAnswer):
        grade(basics, [SINGLE], {"q01": [1]}, 80)


def test_drawn_questions_that_do_not_match_the_course_are_refused(basics) -> None:
    with pytest.raises(AcademyError, match="not in course"):
        grade(basics, [DrawnQuestion("q77", ("a", "b", "c", "d"))], {}, 80)
    with pytest.raises(AcademyError, match="does not match"):
        grade(basics, [DrawnQuestion("q01", ("a", "b"))], {}, 80)
    with pytest.raises(AcademyError, match="drawn twice"):
        grade(basics, [SINGLE, SINGLE], {}, 80)
    with pytest.raises(AcademyError, match="without questions"):
        grade(basics, [], {}, 80)
    with pytest.raises(AcademyError, match="pass_mark"):
        grade(basics, [SINGLE], {}, 0)


def test_grade_accepts_stored_pairs_and_dicts(basics) -> None:
    stored = [d.to_dict() for d in DRAWN]
    pairs = [(d["question_id"], d["option_order"]) for d in json.loads(json.dumps(stored))]
    answers = {"q01": ["a"], "q06": ["a", "b"], "q11": ["true"]}
    assert grade(basics, pairs, answers, 100).score_percent == 100
    assert grade(basics, stored, answers, 100).score_percent == 100


def test_pass_mark_is_inclusive(basics) -> None:
    drawn = draw_questions(basics, random.Random(3), n=5)
    answers = correct_answers(basics, drawn)
    answers.pop(drawn[0].question_id)  # 4 of 5 = 80 %
    assert grade(basics, drawn, answers, 80).passed
    assert not grade(basics, drawn, answers, 81).passed


@pytest.mark.parametrize(
    ("correct", "asked", "percent"),
    [(0, 10, 0), (10, 10, 100), (7, 8, 88), (1, 8, 13), (2, 3, 67), (1, 3, 33), (5, 8, 63), (1, 40, 3), (1, 200, 1)],
)
def test_score_is_correct_over_asked_rounded_half_up(correct: int, asked: int, percent: int) -> None:
    assert score_percent(correct, asked) == percent


def test_draw_returns_the_course_count_of_distinct_questions(basics) -> None:
    drawn = draw_questions(basics, random.Random(1))
    assert len(drawn) == basics.questions_per_attempt == 10
    assert len({d.question_id for d in drawn}) == 10
    assert {d.question_id for d in drawn} <= {q.id for q in basics.questions}


def test_renewal_draw_uses_the_renewal_count(catalogue) -> None:
    safety = catalogue.courses["safety"]
    assert len(draw_questions(safety, random.Random(1), renewal=True)) == 5
    with pytest.raises(AcademyError, match="no renewal quiz"):
        draw_questions(catalogue.courses["basics"], random.Random(1), renewal=True)


def test_draw_count_must_fit_the_pool(basics) -> None:
    with pytest.raises(AcademyError):
        draw_questions(basics, random.Random(1), n=16)
    with pytest.raises(AcademyError):
        draw_questions(basics, random.Random(1), n=0)


def test_draws_are_random_subsets_in_random_order(basics) -> None:
    draws = [tuple(d.question_id for d in draw_questions(basics, random.Random(seed))) for seed in range(30)]
    assert len({frozenset(d) for d in draws}) > 20  # different subsets
    assert len(set(draws)) == 30
    assert any(list(d) != sorted(d) for d in draws)  # not in pool order
    same_seed = [d.question_id for d in draw_questions(basics, random.Random(5))]
    assert same_seed == [d.question_id for d in draw_questions(basics, random.Random(5))]


def test_options_are_shuffled_except_true_false(basics) -> None:
    orders = set()
    for seed in range(30):
        for d in draw_questions(basics, random.Random(seed), n=15):
            question = basics.question(d.question_id)
            assert sorted(d.option_order) == sorted(question.option_ids)
            if question.kind == "true_false":
                assert d.option_order == ("true", "false")
            elif d.question_id == "q01":
                orders.add(d.option_order)
    assert len(orders) > 5


def test_drawn_questions_carry_no_correctness_information(basics) -> None:
    drawn = draw_questions(basics, random.Random(2))
    assert set(DrawnQuestion.__dataclass_fields__) == {"question_id", "option_order"}
    payload = json.dumps([d.to_dict() for d in drawn])
    assert "correct" not in payload and "explanation" not in payload
    assert [DrawnQuestion.from_dict(d) for d in json.loads(payload)] == drawn


@given(
    seed=st.integers(min_value=0, max_value=2**32), n=st.integers(min_value=1, max_value=15), mark=st.integers(1, 100)
)
def test_all_correct_answers_score_100_and_pass_for_any_draw(catalogue, seed: int, n: int, mark: int) -> None:
    course = catalogue.courses["shop"]
    drawn = draw_questions(course, random.Random(seed), n=n)
    result = grade(course, drawn, correct_answers(course, drawn), pass_mark=mark)
    assert result.score_percent == 100 and result.passed
    assert all(r.correct for r in result.results)


@given(seed=st.integers(min_value=0, max_value=2**32), data=st.data())
def test_score_matches_the_share_of_correct_questions(catalogue, seed: int, data: st.DataObject) -> None:
    course = catalogue.courses["basics"]
    drawn = draw_questions(course, random.Random(seed))
    answers = {}
    for d in drawn:
        choice = data.draw(st.sampled_from(["right", "wrong", "skip"]))
        right = sorted(course.question(d.question_id).correct_option_ids)
        if choice == "right":
            answers[d.question_id] = right
        elif choice == "wrong":
            answers[d.question_id] = [next(o for o in d.option_order if o not in right)]
    result = grade(course, drawn, answers, 80)
    expected = sum(
        1 for d in drawn if answers.get(d.question_id) == sorted(course.question(d.question_id).correct_option_ids)
    )
    assert result.correct_count == expected
    assert result.score_percent == score_percent(expected, len(drawn))
    assert 0 <= result.score_percent <= 100
