"""Drawing quiz questions and grading submitted answers."""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from academy.errors import AcademyError, InvalidAnswer
from academy.models import Course, Localized, Question

__all__ = ["DrawnQuestion", "GradeResult", "QuestionResult", "draw_questions", "grade", "score_percent"]


@dataclass(frozen=True)
class DrawnQuestion:
    """A question as handed to one attempt: its id and the order its options are shown in (no correctness)."""

    question_id: str
    option_order: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form for storing with the attempt or sending to the browser."""
        return {"question_id": self.question_id, "option_order": list(self.option_order)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DrawnQuestion:
        """Inverse of `to_dict`."""
        return cls(str(data["question_id"]), tuple(str(o) for o in data["option_order"]))


@dataclass(frozen=True)
class QuestionResult:
    """How one drawn question was answered; option ids are in the order they were shown."""

    question_id: str
    correct: bool
    answered: bool
    chosen: tuple[str, ...]
    correct_option_ids: tuple[str, ...]
    explanation_key: str
    explanation: Localized

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (explanation as {zh, en})."""
        return {
            "question_id": self.question_id,
            "correct": self.correct,
            "answered": self.answered,
            "chosen": list(self.chosen),
            "correct_option_ids": list(self.correct_option_ids),
            "explanation_key": self.explanation_key,
            "explanation": self.explanation.to_dict(),
        }


@dataclass(frozen=True)
class GradeResult:
    """Outcome of one attempt: score percent (0..100), pass/fail and per-question results in drawn order."""

    score_percent: int
    passed: bool
    pass_mark: int
    correct_count: int
    question_count: int
    results: tuple[QuestionResult, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "score_percent": self.score_percent,
            "passed": self.passed,
            "pass_mark": self.pass_mark,
            "correct_count": self.correct_count,
            "question_count": self.question_count,
            "results": [r.to_dict() for r in self.results],
        }


def draw_questions(
    course: Course, rng: random.Random, n: int | None = None, renewal: bool = False
) -> list[DrawnQuestion]:
    """Draw `n` distinct questions (default: the course's or renewal's count) in random order with shuffled options.

    true_false options keep the order true, false (shuffling them only confuses); all other options are shuffled.
    """
    count = course.rules(renewal).questions if n is None else n
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= len(course.questions):
        raise AcademyError(f"cannot draw {count!r} questions from a pool of {len(course.questions)}")
    drawn: list[DrawnQuestion] = []
    for question in rng.sample(course.questions, count):
        order = list(question.option_ids)
        if question.kind == "true_false":
            order = ["true", "false"]
        else:
            rng.shuffle(order)
        drawn.append(DrawnQuestion(question.id, tuple(order)))
    return drawn


def score_percent(correct: int, asked: int) -> int:
    """correct / asked * 100, rounded half up to an int (e.g. 7/8 = 87.5 -> 88, 2/3 = 66.67 -> 67)."""
    if asked <= 0 or not 0 <= correct <= asked:
        raise AcademyError(f"invalid score {correct}/{asked}")
    return (correct * 200 + asked) // (2 * asked)


def grade(
    course: Course,
    drawn: Sequence[DrawnQuestion] | Sequence[tuple[str, Sequence[str]]],
    answers: Mapping[str, Collection[str]],
    pass_mark: int,
) -> GradeResult:
    """Grade answers ({question id: chosen option ids}) to the drawn questions; unanswered questions count wrong.

    Multiple-choice is correct only when the chosen set equals the correct set. A bare string answer is taken as one
    option id. Raises InvalidAnswer for an unknown option, several options on single/true_false, or an answer to a
    question that was not drawn; AcademyError when `drawn` does not match the course.
    """
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int) or not 1 <= pass_mark <= 100:
        raise AcademyError(f"pass_mark must be an integer 1..100, got {pass_mark!r}")
    items = [_as_drawn(d) for d in drawn]
    if not items:
        raise AcademyError("cannot grade an attempt without questions")
    questions: dict[str, tuple[Question, tuple[str, ...]]] = {}
    for item in items:
        if item.question_id in questions:
            raise AcademyError(f"question {item.question_id!r} was drawn twice")
        try:
            question = course.question(item.question_id)
        except KeyError:
            raise AcademyError(f"question {item.question_id!r} is not in course {course.slug!r}") from None
        if sorted(item.option_order) != sorted(question.option_ids):
            raise AcademyError(f"option order {list(item.option_order)} does not match question {question.id!r}")
        questions[item.question_id] = (question, item.option_order)

    chosen_by_question: dict[str, frozenset[str]] = {}
    for question_id, raw in answers.items():
        if question_id not in questions:
            raise InvalidAnswer(f"question {question_id!r} was not part of this attempt")
        question, _ = questions[question_id]
        chosen = _as_option_set(question_id, raw)
        unknown = sorted(chosen - set(question.option_ids))
        if unknown:
            raise InvalidAnswer(f"question {question_id!r} has no option {', '.join(map(repr, unknown))}")
        if question.kind != "multiple" and len(chosen) > 1:
            raise InvalidAnswer(f"question {question_id!r} takes exactly one option, got {len(chosen)}")
        chosen_by_question[question_id] = chosen

    results: list[QuestionResult] = []
    for item in items:
        question, order = questions[item.question_id]
        chosen = chosen_by_question.get(item.question_id, frozenset())
        right = question.correct_option_ids
        results.append(
            QuestionResult(
                question_id=question.id,
                correct=chosen == right,
                answered=bool(chosen),
                chosen=tuple(o for o in order if o in chosen),
                correct_option_ids=tuple(o for o in order if o in right),
                explanation_key=question.id,
                explanation=question.explanation,
            )
        )
    correct_count = sum(r.correct for r in results)
    score = score_percent(correct_count, len(results))
    return GradeResult(
        score_percent=score,
        passed=score >= pass_mark,
        pass_mark=pass_mark,
        correct_count=correct_count,
        question_count=len(results),
        results=tuple(results),
    )


def _as_drawn(item: DrawnQuestion | tuple[str, Sequence[str]] | Any) -> DrawnQuestion:
    if isinstance(item, DrawnQuestion):
        return item
    if isinstance(item, Mapping):
        return DrawnQuestion.from_dict(item)
    try:
        question_id, order = item
    except (TypeError, ValueError):
        raise AcademyError(f"not a drawn question: {item!r}") from None
    return DrawnQuestion(str(question_id), tuple(str(o) for o in order))


def _as_option_set(question_id: str, raw: Collection[str] | str | None) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        return frozenset({raw}) if raw else frozenset()
    if not isinstance(raw, Iterable):
        raise InvalidAnswer(f"question {question_id!r}: answer must be a list of option ids, got {raw!r}")
    chosen = list(raw)
    if not all(isinstance(o, str) for o in chosen):
        raise InvalidAnswer(f"question {question_id!r}: option ids must be strings, got {chosen!r}")
    return frozenset(chosen)
