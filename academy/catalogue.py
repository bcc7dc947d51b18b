"""Load and validate the Academy catalogue (courses, lessons, question pools, assessments) from YAML/Markdown."""

from __future__ import annotations

import heapq
import re
from pathlib import Path
from typing import Any

import markdown
import nh3
import yaml

from academy.errors import CatalogueError
from academy.models import (
    LANGUAGES,
    QUESTION_KINDS,
    REVIEWS,
    TRACKS,
    Assessment,
    AssessmentItem,
    Catalogue,
    Course,
    Dimension,
    Lesson,
    Localized,
    MinAssessment,
    Option,
    Question,
    QuizRules,
)
from academy.tags import KNOWN_TAG_CODES

__all__ = ["DEFAULT_ROOT", "MIN_POOL_SIZE", "check", "load_catalogue", "render_markdown"]

DEFAULT_ROOT: Path = Path(__file__).resolve().parent / "catalogue"
MIN_POOL_SIZE = 15
ASSESSMENT_SLUGS: tuple[str, ...] = ("psych", "career")

_SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ID_RE = re.compile(r"^[a-z0-9_]+$")
_LESSON_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

_COURSE_REQUIRED = (
    "slug", "version", "title", "summary", "track", "required", "pass_mark", "questions_per_attempt",
    "time_limit_minutes", "xp", "grants_tags", "prerequisites", "validity_days", "review", "cooldown_minutes",
    "max_attempts_per_day", "lessons",
)  # fmt: skip
_COURSE_OPTIONAL = ("renewal", "min_assessment")
_TRUE_FALSE_TEXT = {"true": Localized("正确", "True"), "false": Localized("错误", "False")}

_ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "a", "sup", "sub",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


# ---------------------------------------------------------------- public API


def load_catalogue(root: Path | None = None, known_tags: frozenset[str] = KNOWN_TAG_CODES) -> Catalogue:
    """Load and fully validate the catalogue under `root`; raise CatalogueError listing every problem."""
    loader = _Loader(Path(root) if root is not None else DEFAULT_ROOT, frozenset(known_tags))
    catalogue = loader.load()
    if loader.problems or catalogue is None:
        raise CatalogueError(loader.problems or [f"{loader.root}: catalogue could not be loaded"])
    return catalogue


def check(root: Path | None = None, known_tags: frozenset[str] = KNOWN_TAG_CODES) -> list[str]:
    """Validate the catalogue and return its problems as "<file path>: <problem>" lines (empty = ok)."""
    try:
        load_catalogue(root, known_tags)
    except CatalogueError as exc:
        return list(exc.problems)
    return []


def render_markdown(text: str) -> str:
    """Render lesson Markdown to HTML and sanitise it with nh3 (no scripts, styles or event handlers).

    A list may start right under a paragraph line, and a paragraph right under a list item, without a blank line.
    """
    html = markdown.markdown(
        _blank_line_before_lists(text), extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


_LIST_ITEM_RE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S")
_FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")


def _blank_line_before_lists(text: str) -> str:
    """Insert the blank lines Python-Markdown needs around a list written right under or above a paragraph.

    Lesson files keep one list item per line, so an unindented line after an item starts a new paragraph.
    """
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if _FENCE_RE.match(line):
            fenced = not fenced
        elif not fenced and out and out[-1].strip() and line.strip():
            previous_is_item = bool(_LIST_ITEM_RE.match(out[-1]))
            starts_list = bool(_LIST_ITEM_RE.match(line)) and not previous_is_item
            ends_list = previous_is_item and not _LIST_ITEM_RE.match(line) and not line.startswith((" ", "\t"))
            if (starts_list and not out[-1].startswith((" ", "\t", "#", "|"))) or ends_list:
                out.append("")
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


# ---------------------------------------------------------------- YAML with duplicate-key detection


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            continue
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------- validation helpers


_MISSING: Any = object()  # a required key that is absent (already reported by _File.keys)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _fmt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _File:
    """Collects problems for one file, prefixing each with the file path."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        self.ok = True

    def problem(self, message: str) -> None:
        self.ok = False
        self.problems.append(f"{self.path}: {message}")

    def load_yaml(self) -> Any:
        if not self.path.is_file():
            self.problem("file is missing")
            return None
        try:
            return yaml.load(self.path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # nosec B506  # SafeLoader subclass
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(f"cannot read file: {exc}")
        except yaml.YAMLError as exc:
            self.problem(f"invalid YAML: {' '.join(str(exc).split())}")
        return None

    def keys(self, at: str, data: Any, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        """Check `data` is a mapping with all required keys and no unknown ones."""
        if not isinstance(data, dict):
            got = "nothing (empty)" if data is None else type(data).__name__
            self.problem(f"{at.rstrip(': ') or 'top level'}: must be a mapping, got {got}")
            return False
        ok = True
        for key in required:
            if key not in data:
                self.problem(f"{at}missing required key {key!r}")
                ok = False
        unknown = [k for k in data if k not in required and k not in optional]
        for key in unknown:
            self.problem(f"{at}unknown key {_fmt(key)}")
        return ok

    def integer(self, at: str, key: str, value: Any, lo: int, hi: int | None = None) -> int | None:
        if value is _MISSING:
            return None
        if not _is_int(value) or value < lo or (hi is not None and value > hi):
            bound = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            self.problem(f"{at}{key}: must be an integer {bound}, got {_fmt(value)}")
            return None
        return int(value)

    def boolean(self, at: str, key: str, value: Any) -> bool | None:
        if value is _MISSING:
            return None
        if not isinstance(value, bool):
            self.problem(f"{at}{key}: must be true or false, got {_fmt(value)}")
            return None
        return value

    def choice(self, at: str, key: str, value: Any, allowed: tuple[str, ...]) -> str | None:
        if value is _MISSING:
            return None
        if not isinstance(value, str) or value not in allowed:
            self.problem(f"{at}{key}: must be one of {', '.join(allowed)}, got {_fmt(value)}")
            return None
        return value

    def text(self, at: str, key: str, value: Any) -> str | None:
        if value is _MISSING:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{at}{key}: must be a non-empty string, got {_fmt(value)}")
            return None
        return value.strip()

    def localized(self, at: str, key: str, value: Any) -> Localized | None:
        """A {zh, en} mapping with both texts present and non-empty."""
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.problem(f"{at}{key}: must be a mapping with 'zh' and 'en' texts, got {_fmt(value)}")
            return None
        texts = self.languages(f"{at}{key}.", value)
        for extra in value:
            if extra not in LANGUAGES:
                self.problem(f"{at}{key}: unknown key {_fmt(extra)} (only 'zh' and 'en')")
        return texts

    def languages(self, at: str, data: dict[Any, Any]) -> Localized | None:
        """Read the 'zh' and 'en' texts of a mapping that may hold other keys too."""
        zh = self.text(at, "zh", data.get("zh"))
        en = self.text(at, "en", data.get("en"))
        return Localized(zh, en) if zh is not None and en is not None else None

    def str_list(self, at: str, key: str, value: Any, pattern: re.Pattern[str], what: str) -> tuple[str, ...] | None:
        """A list of unique strings matching `pattern`."""
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.problem(f"{at}{key}: must be a list, got {_fmt(value)}")
            return None
        out: list[str] = []
        ok = True
        for item in value:
            if not isinstance(item, str) or not pattern.match(item):
                self.problem(f"{at}{key}: {_fmt(item)} is not a valid {what}")
                ok = False
            elif item in out:
                self.problem(f"{at}{key}: {item!r} is listed twice")
                ok = False
            else:
                out.append(item)
        return tuple(out) if ok else None


# ---------------------------------------------------------------- loader


class _Loader:
    """One validation run: parses every file, records problems, builds the Catalogue if possible."""

    def __init__(self, root: Path, known_tags: frozenset[str]):
        self.root = root
        self.known_tags = known_tags
        self.problems: list[str] = []
        self.course_files: dict[str, _File] = {}

    def load(self) -> Catalogue | None:
        if not self.root.is_dir():
            self.problems.append(f"{self.root}: catalogue directory is missing")
            return None
        courses = self._load_courses()
        assessments = self._load_assessments()
        self._cross_check(courses, assessments)
        if self.problems:
            return None
        ordered = {slug: courses[slug] for slug in _course_order(courses)}
        return Catalogue(root=self.root, courses=ordered, assessments=assessments)

    # ------------------------------------------------------------ courses

    def _load_courses(self) -> dict[str, Course]:
        courses_dir = self.root / "courses"
        if not courses_dir.is_dir():
            self.problems.append(f"{courses_dir}: courses directory is missing")
            return {}
        courses: dict[str, Course] = {}
        folders = sorted(p for p in courses_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        if not folders:
            self.problems.append(f"{courses_dir}: no course folders found")
        for folder in folders:
            course = self._load_course(folder)
            if course is not None:
                courses[course.slug] = course
        return courses

    def _load_course(self, folder: Path) -> Course | None:
        f = _File(folder / "course.yaml", self.problems)
        self.course_files[folder.name] = f
        data = f.load_yaml()
        if not f.ok or not isinstance(data, dict):
            if f.ok:
                f.keys("", data, _COURSE_REQUIRED, _COURSE_OPTIONAL)
            self._load_questions(folder, lesson_names=None)  # still report the pool's own problems
            return None
        f.keys("", data, _COURSE_REQUIRED, _COURSE_OPTIONAL)

        def get(key: str, default: Any = _MISSING) -> Any:
            return data.get(key, default)

        slug = get("slug")
        if slug is _MISSING:
            pass
        elif not isinstance(slug, str) or not _SLUG_RE.match(slug):
            f.problem(f"slug: must match [a-z0-9-]+, got {_fmt(slug)}")
        elif slug != folder.name:
            f.problem(f"slug: {slug!r} must equal the folder name {folder.name!r}")
        version = f.integer("", "version", get("version"), 1)
        title = f.localized("", "title", get("title"))
        summary = f.localized("", "summary", get("summary"))
        track = f.choice("", "track", get("track"), TRACKS)
        required = f.boolean("", "required", get("required"))
        if track is not None and required is not None and required != (track == "required"):
            f.problem("required: must be true exactly when track is 'required'")
        pass_mark = f.integer("", "pass_mark", get("pass_mark"), 1, 100)
        per_attempt = f.integer("", "questions_per_attempt", get("questions_per_attempt"), 1)
        time_limit = f.integer("", "time_limit_minutes", get("time_limit_minutes"), 1)
        xp = f.integer("", "xp", get("xp"), 0)
        grants = f.str_list("", "grants_tags", get("grants_tags"), re.compile(r"^\S+$"), "tag code")
        if grants is not None:
            for tag in grants:
                if tag not in self.known_tags:
                    f.problem(f"grants_tags: unknown tag code {tag!r}")
        prerequisites = f.str_list("", "prerequisites", get("prerequisites"), _SLUG_RE, "course slug")
        validity = get("validity_days")
        if validity is not None:
            validity = f.integer("", "validity_days", validity, 1)
        renewal = self._renewal(f, get("renewal", None))
        if get("validity_days", None) is not None and get("renewal", None) is None:
            f.problem("renewal: must be set when validity_days is set (courses that expire need a renewal quiz)")
        review = f.choice("", "review", get("review"), REVIEWS)
        min_assessment = self._min_assessment(f, get("min_assessment", None))
        cooldown = f.integer("", "cooldown_minutes", get("cooldown_minutes"), 0)
        max_per_day = f.integer("", "max_attempts_per_day", get("max_attempts_per_day"), 1)
        lesson_names = f.str_list("", "lessons", get("lessons"), _LESSON_RE, "lesson name ([a-z0-9_-]+)")
        if lesson_names is not None and not lesson_names and "lessons" in data:
            f.problem("lessons: a course needs at least one lesson")
        lessons = self._load_lessons(folder, lesson_names or ())
        questions = self._load_questions(folder, lesson_names)

        if questions is not None:
            if per_attempt is not None and per_attempt > len(questions):
                f.problem(f"questions_per_attempt: {per_attempt} is more than the pool of {len(questions)} questions")
            if renewal is not None and renewal.questions > len(questions):
                f.problem(f"renewal.questions: {renewal.questions} is more than the pool of {len(questions)} questions")
        if not f.ok or questions is None or lessons is None:
            return None
        return Course(
            slug=slug,
            version=version,
            title=title,
            summary=summary,
            track=track,
            required=required,
            pass_mark=pass_mark,
            questions_per_attempt=per_attempt,
            time_limit_minutes=time_limit,
            xp=xp,
            grants_tags=grants,
            prerequisites=prerequisites,
            validity_days=validity,
            renewal=renewal,
            review=review,
            min_assessment=min_assessment,
            cooldown_minutes=cooldown,
            max_attempts_per_day=max_per_day,
            lessons=lessons,
            questions=questions,
        )

    def _renewal(self, f: _File, value: Any) -> QuizRules | None:
        if value is None:
            return None
        if not f.keys("renewal: ", value, ("questions", "pass_mark", "time_limit_minutes")):
            return None
        questions = f.integer("renewal.", "questions", value["questions"], 1)
        pass_mark = f.integer("renewal.", "pass_mark", value["pass_mark"], 1, 100)
        minutes = f.integer("renewal.", "time_limit_minutes", value["time_limit_minutes"], 1)
        if questions is None or pass_mark is None or minutes is None:
            return None
        return QuizRules(questions, pass_mark, minutes)

    def _min_assessment(self, f: _File, value: Any) -> MinAssessment | None:
        if value is None:
            return None
        if not f.keys("min_assessment: ", value, ("dimension", "score")):
            return None
        dimension = value["dimension"]
        if not isinstance(dimension, str) or not _ID_RE.match(dimension):
            f.problem(f"min_assessment.dimension: must be a dimension code, got {_fmt(dimension)}")
            return None
        score = f.integer("min_assessment.", "score", value["score"], 0, 100)
        return MinAssessment(dimension, score) if score is not None else None

    def _load_lessons(self, folder: Path, names: tuple[str, ...]) -> tuple[Lesson, ...] | None:
        lessons: list[Lesson] = []
        ok = True
        for name in names:
            titles: dict[str, str] = {}
            bodies: dict[str, str] = {}
            for lang in LANGUAGES:
                path = folder / "lessons" / f"{name}.{lang}.md"
                lf = _File(path, self.problems)
                if not path.is_file():
                    lf.problem(
                        f"file is missing (lesson {name!r} is listed in course.yaml; each lesson needs zh and en)"
                    )
                    ok = False
                    continue
                try:
                    raw = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    lf.problem(f"cannot read file: {exc}")
                    ok = False
                    continue
                parsed = _split_title(raw)
                if parsed is None:
                    lf.problem("first line must be the lesson title as '# Title'")
                    ok = False
                    continue
                titles[lang], bodies[lang] = parsed
                if not bodies[lang].strip():
                    lf.problem("lesson has a title but no content")
                    ok = False
            if len(titles) == len(LANGUAGES) and ok:
                md = Localized(bodies["zh"], bodies["en"])
                lessons.append(
                    Lesson(
                        name=name,
                        title=Localized(titles["zh"], titles["en"]),
                        markdown=md,
                        html=Localized(render_markdown(md.zh), render_markdown(md.en)),
                    )
                )
        return tuple(lessons) if ok else None

    def _load_questions(self, folder: Path, lesson_names: tuple[str, ...] | None) -> tuple[Question, ...] | None:
        f = _File(folder / "questions.yaml", self.problems)
        data = f.load_yaml()
        if not f.ok:
            return None
        if not isinstance(data, list):
            f.problem(f"must be a list of questions, got {type(data).__name__}")
            return None
        if len(data) < MIN_POOL_SIZE:
            f.problem(f"pool has {len(data)} questions, needs at least {MIN_POOL_SIZE}")
        questions: list[Question] = []
        seen: set[str] = set()
        for index, raw in enumerate(data, start=1):
            q = self._question(f, index, raw, lesson_names)
            if q is None:
                continue
            if q.id in seen:
                f.problem(f"question #{index}: id {q.id!r} is used twice")
                continue
            seen.add(q.id)
            questions.append(q)
        return tuple(questions) if f.ok else None

    def _question(self, f: _File, index: int, raw: Any, lesson_names: tuple[str, ...] | None) -> Question | None:
        qid = raw.get("id") if isinstance(raw, dict) else None
        at = f"question #{index} ({qid}): " if isinstance(qid, str) else f"question #{index}: "
        if not f.keys(at, raw, ("id", "kind", "prompt", "options", "explanation"), ("lesson",)):
            return None
        before = len(f.problems)
        if not isinstance(qid, str) or not _ID_RE.match(qid):
            f.problem(f"{at}id: must match [a-z0-9_]+, got {_fmt(qid)}")
        kind = f.choice(at, "kind", raw["kind"], QUESTION_KINDS)
        prompt = f.localized(at, "prompt", raw["prompt"])
        explanation = f.localized(at, "explanation", raw["explanation"])
        lesson = raw.get("lesson")
        if lesson is not None and (
            not isinstance(lesson, str) or (lesson_names is not None and lesson not in lesson_names)
        ):
            f.problem(f"{at}lesson: {_fmt(lesson)} is not one of the course's lessons")
        options = self._options(f, at, raw["options"], kind) if kind is not None else None
        if len(f.problems) != before or options is None:
            return None
        return Question(qid, kind, prompt, options, explanation, lesson)

    def _options(self, f: _File, at: str, raw: Any, kind: str) -> tuple[Option, ...] | None:
        if not isinstance(raw, list):
            f.problem(f"{at}options: must be a list, got {_fmt(raw)}")
            return None
        options: list[Option] = []
        ok = True
        for n, item in enumerate(raw, start=1):
            oat = f"{at}option #{n}: "
            if not f.keys(oat, item, ("id",), ("zh", "en", "correct")):
                ok = False
                continue
            oid = item["id"]
            if kind == "true_false" and isinstance(oid, bool):
                oid = "true" if oid else "false"  # YAML reads unquoted true/false as booleans
            if not isinstance(oid, str) or not _ID_RE.match(oid):
                f.problem(f"{oat}id: must match [a-z0-9_]+, got {_fmt(oid)}")
                ok = False
                continue
            oat = f"{at}option {oid!r}: "
            if any(o.id == oid for o in options):
                f.problem(f"{oat}id is used twice in this question")
                ok = False
                continue
            correct = item.get("correct", False)
            if not isinstance(correct, bool):
                f.problem(f"{oat}correct: must be true or false, got {_fmt(correct)}")
                ok = False
                continue
            if kind == "true_false" and "zh" not in item and "en" not in item and oid in _TRUE_FALSE_TEXT:
                text: Localized | None = _TRUE_FALSE_TEXT[oid]
            else:
                text = f.languages(oat, item)
            if text is None:
                ok = False
                continue
            options.append(Option(oid, text, correct))
        if not ok:
            return None
        ids = [o.id for o in options]
        n_correct = sum(o.correct for o in options)
        if kind == "true_false":
            if sorted(ids) != ["false", "true"]:
                f.problem(f"{at}options: a true_false question needs exactly the options 'true' and 'false', got {ids}")
                return None
            if n_correct != 1:
                f.problem(f"{at}options: a true_false question needs exactly one correct option, got {n_correct}")
                return None
        else:
            if not 3 <= len(options) <= 5:
                f.problem(f"{at}options: a {kind} question needs 3 to 5 options, got {len(options)}")
                return None
            if kind == "single" and n_correct != 1:
                f.problem(f"{at}options: a single question needs exactly one correct option, got {n_correct}")
                return None
            if kind == "multiple" and n_correct < 2:
                f.problem(f"{at}options: a multiple question needs at least two correct options, got {n_correct}")
                return None
        return tuple(options)

    # ------------------------------------------------------------ assessments

    def _load_assessments(self) -> dict[str, Assessment]:
        folder = self.root / "assessments"
        if not folder.is_dir():
            self.problems.append(f"{folder}: assessments directory is missing")
            return {}
        assessments: dict[str, Assessment] = {}
        for path in sorted(folder.glob("*.yaml")):
            a = self._load_assessment(path)
            if a is not None:
                assessments[a.slug] = a
        for slug in ASSESSMENT_SLUGS:
            path = folder / f"{slug}.yaml"
            if not path.is_file():
                self.problems.append(f"{path}: file is missing (the {slug} assessment is required)")
        return assessments

    def _load_assessment(self, path: Path) -> Assessment | None:
        f = _File(path, self.problems)
        data = f.load_yaml()
        if not f.ok:
            return None
        keys = ("slug", "kind", "title", "summary", "dimensions", "items")
        if not f.keys("", data, keys) and not isinstance(data, dict):
            return None
        slug = data.get("slug")
        if slug not in ASSESSMENT_SLUGS:
            f.problem(f"slug: must be one of {', '.join(ASSESSMENT_SLUGS)}, got {_fmt(slug)}")
        elif slug != path.stem:
            f.problem(f"slug: {slug!r} must equal the file name {path.stem!r}")
        f.choice("", "kind", data.get("kind"), ("likert",))
        title = f.localized("", "title", data.get("title"))
        summary = f.localized("", "summary", data.get("summary"))
        is_career = slug == "career"
        dimensions: list[Dimension] = []
        raw_dims = data.get("dimensions")
        if not isinstance(raw_dims, list) or not raw_dims:
            f.problem(f"dimensions: must be a non-empty list, got {_fmt(raw_dims)}")
            raw_dims = []
        for n, raw in enumerate(raw_dims, start=1):
            code = raw.get("code") if isinstance(raw, dict) else None
            at = f"dimension #{n} ({code}): " if isinstance(code, str) else f"dimension #{n}: "
            if not f.keys(at, raw, ("code", "zh", "en", "tracks") if is_career else ("code", "zh", "en")):
                continue
            if not isinstance(code, str) or not _ID_RE.match(code):
                f.problem(f"{at}code: must match [a-z0-9_]+, got {_fmt(code)}")
                continue
            if any(d.code == code for d in dimensions):
                f.problem(f"{at}code: {code!r} is used twice")
                continue
            name = f.languages(at, raw)
            tracks: tuple[str, ...] | None = ()
            if is_career:
                tracks = f.str_list(at, "tracks", raw["tracks"], _SLUG_RE, "course slug")
                if tracks is not None and not tracks:
                    f.problem(f"{at}tracks: must list at least one course slug")
            if name is not None and tracks is not None:
                dimensions.append(Dimension(code, name, tracks))
        items: list[AssessmentItem] = []
        raw_items = data.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            f.problem(f"items: must be a non-empty list, got {_fmt(raw_items)}")
            raw_items = []
        codes = {d.code for d in dimensions}
        for n, raw in enumerate(raw_items, start=1):
            iid = raw.get("id") if isinstance(raw, dict) else None
            at = f"item #{n} ({iid}): " if isinstance(iid, str) else f"item #{n}: "
            if not f.keys(at, raw, ("id", "dimension", "zh", "en"), ("reverse",)):
                continue
            if not isinstance(iid, str) or not _ID_RE.match(iid):
                f.problem(f"{at}id: must match [a-z0-9_]+, got {_fmt(iid)}")
                continue
            if any(i.id == iid for i in items):
                f.problem(f"{at}id: {iid!r} is used twice")
                continue
            dim = raw["dimension"]
            if dim not in codes:
                f.problem(f"{at}dimension: {_fmt(dim)} is not one of the dimensions")
                continue
            reverse = f.boolean(at, "reverse", raw.get("reverse", False))
            text = f.languages(at, raw)
            if reverse is not None and text is not None:
                items.append(AssessmentItem(iid, dim, reverse, text))
        for d in dimensions:
            if not any(i.dimension == d.code for i in items):
                f.problem(f"dimension {d.code!r}: has no items")
        if not f.ok:
            return None
        return Assessment(slug, "likert", title, summary, tuple(dimensions), tuple(items))

    # ------------------------------------------------------------ cross references

    def _cross_check(self, courses: dict[str, Course], assessments: dict[str, Assessment]) -> None:
        known = set(self.course_files)  # folders that exist, even if their course is broken
        for slug, course in courses.items():
            f = self.course_files[slug]
            for pre in course.prerequisites:
                if pre == slug:
                    f.problem("prerequisites: a course cannot be its own prerequisite")
                elif pre not in known:
                    f.problem(f"prerequisites: unknown course {pre!r}")
            if course.min_assessment is not None:
                psych = assessments.get("psych")
                if psych is None:
                    f.problem("min_assessment: needs a valid psych assessment (assessments/psych.yaml)")
                elif course.min_assessment.dimension not in psych.dimension_codes:
                    f.problem(
                        f"min_assessment.dimension: {course.min_assessment.dimension!r} is not a dimension of the "
                        f"psych assessment ({', '.join(psych.dimension_codes)})"
                    )
        for cycle in _cycles({s: [p for p in c.prerequisites if p in courses and p != s] for s, c in courses.items()}):
            self.course_files[cycle[0]].problem(f"prerequisites: cycle {' -> '.join([*cycle, cycle[0]])}")
        career = assessments.get("career")
        if career is not None:
            path = self.root / "assessments" / "career.yaml"
            for d in career.dimensions:
                for track in d.tracks:
                    if track not in known:
                        self.problems.append(f"{path}: dimension {d.code!r}: tracks: unknown course {track!r}")


def _split_title(raw: str) -> tuple[str, str] | None:
    """Split a lesson file into its '# Title' and the Markdown body after it."""
    lines = raw.lstrip("\ufeff").lstrip("\n").splitlines()
    if not lines or not lines[0].startswith("# "):
        return None
    title = lines[0][2:].strip()
    if not title:
        return None
    return title, "\n".join(lines[1:]).strip() + "\n"


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each prerequisite cycle once (as a list of slugs starting at its smallest slug)."""
    found: dict[tuple[str, ...], list[str]] = {}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :]
                start = cycle.index(min(cycle))
                rotated = cycle[start:] + cycle[:start]
                found.setdefault(tuple(rotated), rotated)
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return list(found.values())


def _course_order(courses: dict[str, Course]) -> list[str]:
    """Prerequisites before dependants; ties by track (required, industry, skill) then slug."""

    def rank(slug: str) -> tuple[int, str]:
        return TRACKS.index(courses[slug].track), slug

    pending = {s: {p for p in c.prerequisites if p in courses} for s, c in courses.items()}
    heap = [rank(s) for s, pre in pending.items() if not pre]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        _, slug = heapq.heappop(heap)
        order.append(slug)
        for other, pre in pending.items():
            if slug in pre:
                pre.discard(slug)
                if not pre:
                    heapq.heappush(heap, rank(other))
    return order + sorted(s for s in courses if s not in order)
