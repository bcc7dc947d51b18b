"""Catalogue loading: every kind of broken file is reported with its path; valid catalogues load."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from academy import CatalogueError, check, load_catalogue
from academy.catalogue import render_markdown
from academy.tags import KNOWN_TAG_CODES

from .helpers import (
    CAREER,
    PSYCH,
    dump_yaml,
    edit_yaml,
    load_yaml,
    pool,
    question,
    write_course,
)


def _course(root: Path, slug: str = "basics") -> Path:
    return root / "courses" / slug / "course.yaml"


def _questions(root: Path, slug: str = "basics") -> Path:
    return root / "courses" / slug / "questions.yaml"


def _set(path_of: Callable[[Path], Path], key: str, value: Any) -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        path = path_of(root)
        edit_yaml(path, lambda d: d.__setitem__(key, value))
        return path

    return breaker


def _delete(path_of: Callable[[Path], Path], key: str) -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        path = path_of(root)
        edit_yaml(path, lambda d: d.pop(key))
        return path

    return breaker


def _question(index: int, change: Callable[[dict[str, Any]], Any], slug: str = "basics") -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        path = _questions(root, slug)
        edit_yaml(path, lambda qs: change(qs[index]))
        return path

    return breaker


def _write(path_of: Callable[[Path], Path], content: str) -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        path = path_of(root)
        path.write_text(content, encoding="utf-8")
        return path

    return breaker


def _psych(root: Path) -> Path:
    return root / "assessments" / "psych.yaml"


def _career(root: Path) -> Path:
    return root / "assessments" / "career.yaml"


def _remove(path_of: Callable[[Path], Path]) -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        path = path_of(root)
        path.unlink()
        return path

    return breaker


def _shorter_pool(root: Path) -> Path:
    path = _questions(root)
    dump_yaml(path, pool(14))
    return path


def _duplicate_question_id(root: Path) -> Path:
    path = _questions(root)
    dump_yaml(path, [*pool(15), question(3)])
    return path


def _lesson(name: str) -> Callable[[Path], Path]:
    return lambda root: root / "courses" / "basics" / "lessons" / name


def _cycle(root: Path) -> Path:
    edit_yaml(_course(root, "calls"), lambda d: d.__setitem__("prerequisites", ["shop"]))
    edit_yaml(_course(root, "shop"), lambda d: d.__setitem__("prerequisites", ["calls"]))
    return _course(root, "calls")


def _wrong_folder(root: Path) -> Path:
    path = _course(root, "calls")
    edit_yaml(path, lambda d: d.__setitem__("slug", "phone-calls"))
    return path


def _psych_item(index: int, change: Callable[[dict[str, Any]], Any]) -> Callable[[Path], Path]:
    def breaker(root: Path) -> Path:
        edit_yaml(_psych(root), lambda d: change(d["items"][index]))
        return _psych(root)

    return breaker


def _psych_without_patience_items(root: Path) -> Path:
    edit_yaml(_psych(root), lambda d: d.__setitem__("items", [i for i in d["items"] if i["dimension"] != "patience"]))
    return _psych(root)


def _career_unknown_track(root: Path) -> Path:
    edit_yaml(_career(root), lambda d: d["dimensions"][0].__setitem__("tracks", ["no-such-course"]))
    return _career(root)


def _psych_with_tracks(root: Path) -> Path:
    edit_yaml(_psych(root), lambda d: d["dimensions"][0].__setitem__("tracks", ["shop"]))
    return _psych(root)


def _options(*specs: tuple[str, bool]) -> Callable[[dict[str, Any]], None]:
    def change(q: dict[str, Any]) -> None:
        q["options"] = [{"id": oid, "zh": f"选项{oid}", "en": f"Option {oid}", "correct": ok} for oid, ok in specs]

    return change


BROKEN: list[tuple[str, Callable[[Path], Path], str]] = [
    ("missing required key", _delete(_course, "pass_mark"), "missing required key 'pass_mark'"),
    ("unknown key", _set(_course, "colour", "blue"), "unknown key 'colour'"),
    ("string instead of int", _set(_course, "pass_mark", "80"), "pass_mark: must be an integer 1..100"),
    ("bool instead of int", _set(_course, "xp", True), "xp: must be an integer >= 0"),
    ("pass mark out of range", _set(_course, "pass_mark", 101), "pass_mark: must be an integer 1..100"),
    ("bad track", _set(_course, "track", "optional"), "track: must be one of required, industry, skill"),
    ("required without required track", _set(_course, "required", False), "required: must be true exactly when"),
    ("bad review", _set(_course, "review", "video"), "review: must be one of none, mock_call"),
    ("missing English title", _set(_course, "title", {"zh": "标题"}), "title.en: must be a non-empty string"),
    ("empty Chinese summary", _set(_course, "summary", {"zh": "  ", "en": "x"}), "summary.zh: must be a non-empty"),
    ("third language", _set(_course, "title", {"zh": "a", "en": "b", "fr": "c"}), "unknown key 'fr'"),
    ("slug differs from folder", _wrong_folder, "must equal the folder name 'calls'"),
    ("pool too small", _shorter_pool, "pool has 14 questions, needs at least 15"),
    ("more per attempt than pool", _set(_course, "questions_per_attempt", 16), "more than the pool of 15"),
    (
        "renewal bigger than pool",
        _set(_course, "renewal", {"questions": 20, "pass_mark": 80, "time_limit_minutes": 5}),
        "renewal.questions: 20 is more than the pool",
    ),
    (
        "renewal with unknown key",
        _set(_course, "renewal", {"questions": 5, "pass_mark": 80, "time_limit_minutes": 5, "xp": 3}),
        "renewal: unknown key 'xp'",
    ),
    ("expiring course without renewal", _set(_course, "validity_days", 30), "renewal: must be set when validity_days"),
    ("unknown tag", _set(_course, "grants_tags", ["industry.space"]), "unknown tag code 'industry.space'"),
    ("unknown prerequisite", _set(_course, "prerequisites", ["nope"]), "prerequisites: unknown course 'nope'"),
    ("own prerequisite", _set(_course, "prerequisites", ["basics"]), "cannot be its own prerequisite"),
    ("prerequisite cycle", _cycle, "cycle calls -> shop -> calls"),
    (
        "min assessment dimension unknown",
        _set(_course, "min_assessment", {"dimension": "courage", "score": 50}),
        "'courage' is not a dimension of the psych assessment",
    ),
    (
        "min assessment score out of range",
        _set(_course, "min_assessment", {"dimension": "empathy", "score": 120}),
        "min_assessment.score: must be an integer 0..100",
    ),
    ("lesson listed twice", _set(_course, "lessons", ["01-intro", "01-intro"]), "'01-intro' is listed twice"),
    ("lesson file missing", _remove(_lesson("01-intro.en.md")), "file is missing (lesson '01-intro' is listed"),
    ("lesson without title line", _write(_lesson("01-intro.zh.md"), "正文没有标题。\n"), "first line must be"),
    ("lesson with title only", _write(_lesson("01-intro.zh.md"), "# 标题\n\n"), "has a title but no content"),
    ("invalid YAML", _write(_course, "slug: [unclosed\n"), "invalid YAML"),
    ("duplicate YAML key", _write(_course, "slug: basics\nslug: basics\n"), "found duplicate key 'slug'"),
    ("course file missing", _remove(_course), "file is missing"),
    ("questions not a list", _write(_questions, "id: q01\n"), "must be a list of questions"),
    ("duplicate question id", _duplicate_question_id, "id 'q03' is used twice"),
    ("bad question id", _question(0, lambda q: q.__setitem__("id", "Q 1")), "id: must match [a-z0-9_]+"),
    (
        "unknown question key",
        _question(0, lambda q: q.__setitem__("hint", {"zh": "提示", "en": "hint"})),
        "unknown key 'hint'",
    ),
    ("unknown question kind", _question(0, lambda q: q.__setitem__("kind", "essay")), "kind: must be one of"),
    ("question lesson unknown", _question(0, lambda q: q.__setitem__("lesson", "09-x")), "not one of the course's"),
    ("prompt missing English", _question(0, lambda q: q["prompt"].pop("en")), "prompt.en: must be a non-empty"),
    ("option missing Chinese", _question(0, lambda q: q["options"][1].pop("zh")), "option 'b': zh: must be"),
    (
        "single with two correct",
        _question(0, _options(("a", True), ("b", True), ("c", False))),
        "a single question needs exactly one correct option, got 2",
    ),
    (
        "single without a correct option",
        _question(0, _options(("a", False), ("b", False), ("c", False))),
        "exactly one correct option, got 0",
    ),
    (
        "multiple with one correct",
        _question(5, _options(("a", True), ("b", False), ("c", False))),
        "a multiple question needs at least two correct options, got 1",
    ),
    ("single with two options", _question(0, _options(("a", True), ("b", False))), "needs 3 to 5 options, got 2"),
    (
        "multiple with six options",
        _question(5, _options(*[(o, o in "ab") for o in "abcdef"])),
        "needs 3 to 5 options, got 6",
    ),
    (
        "duplicate option id",
        _question(0, _options(("a", True), ("a", False), ("c", False))),
        "option 'a': id is used twice",
    ),
    (
        "true_false with other ids",
        _question(10, _options(("yes", True), ("no", False))),
        "exactly the options 'true' and 'false'",
    ),
    (
        "true_false with both correct",
        _question(10, _options(("true", True), ("false", True))),
        "a true_false question needs exactly one correct option, got 2",
    ),
    ("correct not a bool", _question(0, lambda q: q["options"][0].__setitem__("correct", "yes")), "correct: must be"),
    ("psych file missing", _remove(_psych), "the psych assessment is required"),
    ("career file missing", _remove(_career), "the career assessment is required"),
    (
        "assessment item unknown dimension",
        _psych_item(0, lambda i: i.__setitem__("dimension", "grit")),
        "'grit' is not",
    ),
    ("assessment item reverse not bool", _psych_item(0, lambda i: i.__setitem__("reverse", "no")), "reverse: must be"),
    ("assessment duplicate item id", _psych_item(1, lambda i: i.__setitem__("id", "i01")), "id: 'i01' is used twice"),
    ("assessment dimension without items", _psych_without_patience_items, "dimension 'patience': has no items"),
    ("assessment bad kind", _set(_psych, "kind", "multiple_choice"), "kind: must be one of likert"),
    ("assessment slug mismatch", _set(_psych, "slug", "career"), "slug: 'career' must equal the file name 'psych'"),
    ("career track unknown course", _career_unknown_track, "tracks: unknown course 'no-such-course'"),
    ("psych dimension with tracks", _psych_with_tracks, "unknown key 'tracks'"),
]


@pytest.mark.parametrize(("breaker", "expected"), [(b, e) for _, b, e in BROKEN], ids=[n for n, _, _ in BROKEN])
def test_each_kind_of_broken_file_is_reported_with_its_path(root: Path, breaker, expected: str) -> None:
    broken_path = breaker(root)
    with pytest.raises(CatalogueError) as excinfo:
        load_catalogue(root)
    matching = [p for p in excinfo.value.problems if p.startswith(f"{broken_path}: ")]
    assert any(expected in p for p in matching), excinfo.value.problems
    assert str(broken_path) in str(excinfo.value)


def test_every_problem_in_every_file_is_listed_at_once(root: Path) -> None:
    edit_yaml(root / "courses" / "basics" / "course.yaml", lambda d: d.__setitem__("xp", -1))
    edit_yaml(root / "courses" / "shop" / "course.yaml", lambda d: d.__setitem__("grants_tags", ["bogus"]))
    (root / "assessments" / "career.yaml").unlink()
    problems = check(root)
    assert len(problems) == 3
    assert all(": " in p for p in problems)
    assert {Path(p.split(": ")[0]).name for p in problems} == {"course.yaml", "career.yaml"}


def test_check_returns_an_empty_list_for_a_valid_catalogue(root: Path) -> None:
    assert check(root) == []


def test_missing_catalogue_folder_is_reported(tmp_path: Path) -> None:
    problems = check(tmp_path / "nowhere")
    assert problems == [f"{tmp_path / 'nowhere'}: catalogue directory is missing"]


def test_known_tags_argument_replaces_the_default_tag_list(root: Path) -> None:
    tags = frozenset(KNOWN_TAG_CODES - {"skill.after_sales"})
    problems = check(root, known_tags=tags)
    assert problems == [
        f"{root / 'courses' / 'shop' / 'course.yaml'}: grants_tags: unknown tag code 'skill.after_sales'"
    ]


def test_catalogue_orders_courses_with_prerequisites_first_then_by_track(catalogue) -> None:
    # required first; shop (industry) before calls (skill) once both prerequisites are placed
    assert list(catalogue.courses) == ["basics", "safety", "shop", "calls"]


def test_loaded_course_exposes_typed_fields(catalogue) -> None:
    shop = catalogue.courses["shop"]
    assert shop.grants_tags == ("industry.ecommerce", "skill.after_sales")
    assert shop.prerequisites == ("basics", "safety")
    assert shop.min_assessment is not None and shop.min_assessment.dimension == "empathy"
    assert shop.rules(renewal=True).questions == 5
    assert shop.rules().questions == 10
    assert catalogue.required_slugs == ("basics", "safety")
    assert catalogue.psych.dimension_codes == ("empathy", "patience")
    assert catalogue.career.dimension("persuasion").tracks == ("calls", "shop")
    assert shop.question("q06").correct_option_ids == frozenset({"a", "b"})
    assert shop.question("q11").kind == "true_false"


def test_lessons_have_titles_and_rendered_html_in_both_languages(catalogue) -> None:
    lesson = catalogue.courses["basics"].lessons[0]
    assert lesson.name == "01-intro"
    assert lesson.title.zh == "第一课" and lesson.title.en == "Lesson one"
    assert lesson.title.get("en_GB") == "Lesson one" and lesson.title.get("zh_CN") == "第一课"
    assert "<li>要点一</li>" in lesson.html.zh
    assert "<li>Point one</li>" in lesson.html.en
    assert "<h1>" not in lesson.html.en  # the title is separate from the body


def test_lesson_html_is_sanitised() -> None:
    html = render_markdown(
        'Hi <script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3)) '
        '<a href="https://example.com" onclick="evil()">ok</a>\n'
    )
    assert "<script" not in html and "onerror" not in html and "onclick" not in html
    assert "javascript:" not in html
    assert 'href="https://example.com"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_lists_directly_under_a_paragraph_are_rendered_as_lists() -> None:
    html = render_markdown("Steps:\n1. one\n2. two\nAfter the list.\n\n```\nPlain:\n- not a list\n```\n")
    assert "<ol>\n<li>one</li>\n<li>two</li>\n</ol>" in html
    assert "<p>After the list.</p>" in html
    assert "- not a list" in html


def test_unquoted_true_false_option_ids_and_default_texts_are_accepted(root: Path) -> None:
    questions = root / "courses" / "basics" / "questions.yaml"
    content = questions.read_text(encoding="utf-8")
    content += (
        "- id: q99\n  kind: true_false\n  prompt: {zh: 题目, en: Prompt}\n"
        "  options:\n  - {id: true}\n  - {id: false, correct: true}\n"
        "  explanation: {zh: 解释, en: Why}\n"
    )
    questions.write_text(content, encoding="utf-8")
    q = load_catalogue(root).courses["basics"].question("q99")
    assert q.option_ids == ("true", "false")
    assert q.correct_option_ids == frozenset({"false"})
    assert q.option("true").text.zh == "正确" and q.option("false").text.en == "False"


def test_content_hash_is_stable_and_changes_only_with_graded_content(root: Path) -> None:
    first = load_catalogue(root).content_hash("basics")
    assert first == load_catalogue(root).content_hash("basics")
    assert len(first) == 64

    (root / "courses" / "basics" / "lessons" / "01-intro.en.md").write_text("# New title\n\nNew body.\n")
    edit_yaml(root / "courses" / "basics" / "course.yaml", lambda d: d.__setitem__("xp", 999))
    assert load_catalogue(root).content_hash("basics") == first

    edit_yaml(
        root / "courses" / "basics" / "questions.yaml", lambda qs: qs[0]["options"][0].__setitem__("correct", False)
    )
    edit_yaml(
        root / "courses" / "basics" / "questions.yaml", lambda qs: qs[0]["options"][1].__setitem__("correct", True)
    )
    changed = load_catalogue(root).content_hash("basics")
    assert changed != first

    edit_yaml(root / "courses" / "basics" / "course.yaml", lambda d: d.__setitem__("pass_mark", 90))
    assert load_catalogue(root).content_hash("basics") not in {first, changed}


def test_question_order_in_the_file_does_not_change_the_hash(root: Path) -> None:
    first = load_catalogue(root).content_hash("basics")
    edit_yaml(root / "courses" / "basics" / "questions.yaml", lambda qs: qs.reverse())
    assert load_catalogue(root).content_hash("basics") == first


def test_folders_starting_with_a_dot_or_underscore_are_ignored(root: Path) -> None:
    (root / "courses" / "_drafts").mkdir()
    (root / "courses" / ".cache").mkdir()
    assert check(root) == []


def test_a_new_course_folder_with_valid_files_is_picked_up(root: Path) -> None:
    write_course(root, "extra", {**load_yaml(root / "courses" / "calls" / "course.yaml"), "slug": "extra"})
    assert "extra" in load_catalogue(root).courses


def test_fixture_assessments_match_the_helpers(catalogue) -> None:
    assert [d.code for d in catalogue.psych.dimensions] == [d["code"] for d in PSYCH["dimensions"]]
    assert [d.code for d in catalogue.career.dimensions] == [d["code"] for d in CAREER["dimensions"]]
