"""Builds small, valid Academy catalogues on disk that tests can then break in one specific way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

LESSON_ZH = "# 第一课\n\n正文。\n\n- 要点一\n- 要点二\n"
LESSON_EN = "# Lesson one\n\nBody text.\n\n- Point one\n- Point two\n"


def text(label: str) -> dict[str, str]:
    """A {zh, en} text."""
    return {"zh": f"{label}（中文）", "en": f"{label} (English)"}


def question(number: int, kind: str = "single", lesson: str | None = "01-intro") -> dict[str, Any]:
    """A valid question: single -> a correct; multiple -> a, b correct; true_false -> true correct."""
    q: dict[str, Any] = {"id": f"q{number:02d}", "kind": kind, "prompt": text(f"Prompt {number}")}
    if kind == "true_false":
        q["options"] = [
            {"id": "true", "zh": "正确", "en": "True", "correct": True},
            {"id": "false", "zh": "错误", "en": "False"},
        ]
    else:
        q["options"] = [
            {"id": oid, **text(f"Option {oid}"), **({"correct": True} if correct else {})}
            for oid, correct in zip("abcd", [True, kind == "multiple", False, False], strict=True)
        ]
    q["explanation"] = text(f"Why {number}")
    if lesson is not None:
        q["lesson"] = lesson
    return q


def pool(size: int = 15) -> list[dict[str, Any]]:
    """A pool mixing the three kinds: q01-q05 single, q06-q10 multiple, q11+ true_false."""
    kinds = ["single"] * 5 + ["multiple"] * 5
    return [question(n, kinds[n - 1] if n <= len(kinds) else "true_false") for n in range(1, size + 1)]


def course(slug: str, **overrides: Any) -> dict[str, Any]:
    """A valid course.yaml mapping (required track), with overrides applied."""
    data: dict[str, Any] = {
        "slug": slug,
        "version": 1,
        "title": text(f"Course {slug}"),
        "summary": text(f"Summary {slug}"),
        "track": "required",
        "required": True,
        "pass_mark": 80,
        "questions_per_attempt": 10,
        "time_limit_minutes": 15,
        "xp": 100,
        "grants_tags": [],
        "prerequisites": [],
        "validity_days": None,
        "renewal": None,
        "review": "none",
        "min_assessment": None,
        "cooldown_minutes": 60,
        "max_attempts_per_day": 3,
        "lessons": ["01-intro"],
    }
    data.update(overrides)
    return data


COURSES: dict[str, dict[str, Any]] = {
    "basics": course("basics"),
    "safety": course("safety", validity_days=365, renewal={"questions": 5, "pass_mark": 80, "time_limit_minutes": 8}),
    "shop": course(
        "shop",
        track="industry",
        required=False,
        xp=150,
        grants_tags=["industry.ecommerce", "skill.after_sales"],
        prerequisites=["basics", "safety"],
        validity_days=365,
        renewal={"questions": 5, "pass_mark": 80, "time_limit_minutes": 8},
        min_assessment={"dimension": "empathy", "score": 60},
    ),
    "calls": course(
        "calls",
        track="skill",
        required=False,
        grants_tags=["skill.outbound_callback"],
        prerequisites=["basics"],
    ),
}

PSYCH: dict[str, Any] = {
    "slug": "psych",
    "kind": "likert",
    "title": text("Psych"),
    "summary": text("Psych summary"),
    "dimensions": [
        {"code": "empathy", "zh": "同理心", "en": "Empathy"},
        {"code": "patience", "zh": "耐心", "en": "Patience"},
    ],
    "items": [
        {"id": "i01", "dimension": "empathy", "reverse": False, **text("E1")},
        {"id": "i02", "dimension": "empathy", "reverse": True, **text("E2")},
        {"id": "i03", "dimension": "patience", "reverse": False, **text("P1")},
        {"id": "i04", "dimension": "patience", "reverse": False, **text("P2")},
    ],
}

CAREER: dict[str, Any] = {
    "slug": "career",
    "kind": "likert",
    "title": text("Career"),
    "summary": text("Career summary"),
    "dimensions": [
        {"code": "helping_people", "zh": "帮助他人", "en": "Helping people", "tracks": ["shop"]},
        {"code": "persuasion", "zh": "说服", "en": "Persuasion", "tracks": ["calls", "shop"]},
        {"code": "languages", "zh": "语言", "en": "Languages", "tracks": ["calls"]},
    ],
    "items": [
        {"id": "c01", "dimension": "helping_people", "reverse": False, **text("H1")},
        {"id": "c02", "dimension": "persuasion", "reverse": False, **text("S1")},
        {"id": "c03", "dimension": "languages", "reverse": False, **text("L1")},
    ],
}


def dump_yaml(path: Path, data: Any) -> None:
    """Write data as YAML (UTF-8), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def load_yaml(path: Path) -> Any:
    """Read a YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def edit_yaml(path: Path, change: Callable[[Any], object]) -> None:
    """Load a YAML file, let `change` mutate the data in place (its return value is ignored), write it back."""
    data = load_yaml(path)
    change(data)
    dump_yaml(path, data)


def write_course(root: Path, slug: str, data: dict[str, Any], questions: list[dict[str, Any]] | None = None) -> Path:
    """Write one course folder (course.yaml, questions.yaml, lessons in both languages)."""
    folder = root / "courses" / slug
    dump_yaml(folder / "course.yaml", data)
    dump_yaml(folder / "questions.yaml", pool() if questions is None else questions)
    (folder / "lessons").mkdir(exist_ok=True)
    for name in data.get("lessons", []):
        (folder / "lessons" / f"{name}.zh.md").write_text(LESSON_ZH, encoding="utf-8")
        (folder / "lessons" / f"{name}.en.md").write_text(LESSON_EN, encoding="utf-8")
    return folder


def build_catalogue(root: Path) -> Path:
    """Write the valid four-course catalogue with both assessments under `root` and return it."""
    for slug, data in COURSES.items():
        write_course(root, slug, data)
    dump_yaml(root / "assessments" / "psych.yaml", PSYCH)
    dump_yaml(root / "assessments" / "career.yaml", CAREER)
    return root


def correct_answers(course_obj: Any, drawn: Any) -> dict[str, list[str]]:
    """The all-correct answer sheet for a draw."""
    return {d.question_id: sorted(course_obj.question(d.question_id).correct_option_ids) for d in drawn}
