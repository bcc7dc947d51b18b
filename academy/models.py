"""Immutable catalogue objects: texts, lessons, questions, courses, assessments and the catalogue."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from academy.errors import AcademyError

LANGUAGES: tuple[str, ...] = ("zh", "en")
QUESTION_KINDS: tuple[str, ...] = ("single", "multiple", "true_false")
TRACKS: tuple[str, ...] = ("required", "industry", "skill")
REVIEWS: tuple[str, ...] = ("none", "mock_call")

QuestionKind = Literal["single", "multiple", "true_false"]


@dataclass(frozen=True)
class Localized:
    """A text in Chinese (primary) and English."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text for a locale such as "zh", "zh_CN", "en" or "en-GB"; anything else falls back to Chinese."""
        return self.en if lang.lower().startswith("en") else self.zh

    def to_dict(self) -> dict[str, str]:
        """Plain {"zh": ..., "en": ...} mapping (JSON-friendly)."""
        return {"zh": self.zh, "en": self.en}


@dataclass(frozen=True)
class Option:
    """One answer option of a question."""

    id: str
    text: Localized
    correct: bool


@dataclass(frozen=True)
class Question:
    """A pool question; `options` are in authoring order (draws shuffle them)."""

    id: str
    kind: QuestionKind
    prompt: Localized
    options: tuple[Option, ...]
    explanation: Localized
    lesson: str | None = None

    @property
    def option_ids(self) -> tuple[str, ...]:
        """Option ids in authoring order."""
        return tuple(o.id for o in self.options)

    @property
    def correct_option_ids(self) -> frozenset[str]:
        """Ids of the correct options."""
        return frozenset(o.id for o in self.options if o.correct)

    def option(self, option_id: str) -> Option:
        """The option with this id (KeyError if none)."""
        for o in self.options:
            if o.id == option_id:
                return o
        raise KeyError(option_id)


@dataclass(frozen=True)
class Lesson:
    """A lesson: title from its `# Title` line, Markdown body and sanitised HTML body per language."""

    name: str
    title: Localized
    markdown: Localized
    html: Localized


@dataclass(frozen=True)
class QuizRules:
    """How many questions, which pass mark and how long for one kind of attempt."""

    questions: int
    pass_mark: int
    time_limit_minutes: int


@dataclass(frozen=True)
class MinAssessment:
    """Psych dimension score (0..100) needed before a course can be started."""

    dimension: str
    score: int


@dataclass(frozen=True)
class Course:
    """A validated course with its lessons and question pool."""

    slug: str
    version: int
    title: Localized
    summary: Localized
    track: str
    required: bool
    pass_mark: int
    questions_per_attempt: int
    time_limit_minutes: int
    xp: int
    grants_tags: tuple[str, ...]
    prerequisites: tuple[str, ...]
    validity_days: int | None
    renewal: QuizRules | None
    review: str
    min_assessment: MinAssessment | None
    cooldown_minutes: int
    max_attempts_per_day: int
    lessons: tuple[Lesson, ...]
    questions: tuple[Question, ...]

    def question(self, question_id: str) -> Question:
        """The pool question with this id (KeyError if none)."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    def lesson(self, name: str) -> Lesson:
        """The lesson with this name (KeyError if none)."""
        for lesson in self.lessons:
            if lesson.name == name:
                return lesson
        raise KeyError(name)

    def rules(self, renewal: bool = False) -> QuizRules:
        """Question count, pass mark and time limit of a normal or renewal attempt."""
        if not renewal:
            return QuizRules(self.questions_per_attempt, self.pass_mark, self.time_limit_minutes)
        if self.renewal is None:
            raise AcademyError(f"course {self.slug!r} has no renewal quiz")
        return self.renewal

    def graded_content(self) -> dict[str, Any]:
        """Everything that decides how an attempt is drawn and graded (input of `content_hash`)."""
        return {
            "slug": self.slug,
            "version": self.version,
            "pass_mark": self.pass_mark,
            "questions_per_attempt": self.questions_per_attempt,
            "time_limit_minutes": self.time_limit_minutes,
            "renewal": None
            if self.renewal is None
            else {
                "questions": self.renewal.questions,
                "pass_mark": self.renewal.pass_mark,
                "time_limit_minutes": self.renewal.time_limit_minutes,
            },
            "questions": [
                {
                    "id": q.id,
                    "kind": q.kind,
                    "prompt": q.prompt.to_dict(),
                    "options": [{"id": o.id, "text": o.text.to_dict(), "correct": o.correct} for o in q.options],
                }
                for q in sorted(self.questions, key=lambda q: q.id)
            ],
        }

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 hex digest of `graded_content()` as canonical JSON."""
        canonical = json.dumps(self.graded_content(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Dimension:
    """An assessment dimension; `tracks` (career only) are the course slugs it recommends."""

    code: str
    name: Localized
    tracks: tuple[str, ...] = ()


@dataclass(frozen=True)
class AssessmentItem:
    """One Likert statement (1 = strongly disagree .. 5 = strongly agree)."""

    id: str
    dimension: str
    reverse: bool
    text: Localized


@dataclass(frozen=True)
class Assessment:
    """A Likert questionnaire (psych or career)."""

    slug: str
    kind: str
    title: Localized
    summary: Localized
    dimensions: tuple[Dimension, ...]
    items: tuple[AssessmentItem, ...]

    def dimension(self, code: str) -> Dimension:
        """The dimension with this code (KeyError if none)."""
        for d in self.dimensions:
            if d.code == code:
                return d
        raise KeyError(code)

    @property
    def dimension_codes(self) -> tuple[str, ...]:
        """Dimension codes in file order."""
        return tuple(d.code for d in self.dimensions)


@dataclass(frozen=True)
class Catalogue:
    """Every course (prerequisites first, then track, then slug) and assessment, validated."""

    root: Path
    courses: dict[str, Course]
    assessments: dict[str, Assessment]

    def course(self, slug: str) -> Course:
        """The course with this slug (KeyError if none)."""
        return self.courses[slug]

    def content_hash(self, slug: str) -> str:
        """Stable hash of a course's graded content; a new value means a new course version row."""
        return self.courses[slug].content_hash

    @property
    def required_slugs(self) -> tuple[str, ...]:
        """Slugs of the required courses (all passed => certified)."""
        return tuple(s for s, c in self.courses.items() if c.required)

    @property
    def psych(self) -> Assessment:
        """The psych (work-style) assessment."""
        return self.assessments["psych"]

    @property
    def career(self) -> Assessment:
        """The career-interest assessment."""
        return self.assessments["career"]
