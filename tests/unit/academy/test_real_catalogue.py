"""The bundled catalogue: our required courses and assessments must load; the full catalogue once complete."""

from __future__ import annotations

import re
import shutil

import pytest

from academy import DEFAULT_ROOT, check, load_catalogue
from academy.models import Catalogue
from academy.tags import KNOWN_TAG_CODES

from .helpers import course, write_course

REQUIRED = ("onboarding", "privacy-security")
OTHERS = (
    "ecommerce-peak",
    "food-delivery",
    "banking-finance",
    "outbound-survey",
    "outbound-reactivation",
    "complaint-handling",
)
PSYCH_DIMENSIONS = {"stress_tolerance", "empathy", "patience", "emotional_stability"}


def _stub(slug: str) -> dict:
    extra = {"min_assessment": {"dimension": "empathy", "score": 60}, "review": "mock_call"}
    return course(
        slug,
        track="skill" if slug.startswith(("outbound", "complaint")) else "industry",
        required=False,
        prerequisites=list(REQUIRED),
        **(extra if slug == "complaint-handling" else {}),
    )


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The real required courses and assessments, with the other six courses replaced by minimal stubs."""
    root = tmp_path_factory.mktemp("real") / "catalogue"
    (root / "courses").mkdir(parents=True)
    shutil.copytree(DEFAULT_ROOT / "assessments", root / "assessments")
    for slug in REQUIRED:
        shutil.copytree(DEFAULT_ROOT / "courses" / slug, root / "courses" / slug)
    for slug in OTHERS:
        write_course(root, slug, _stub(slug))
    return load_catalogue(root)


def test_known_tag_codes_match_the_contract() -> None:
    assert len(KNOWN_TAG_CODES) == 16
    assert {t.split(".")[0] for t in KNOWN_TAG_CODES} == {"industry", "skill", "lang"}


def test_required_courses_and_assessments_load_from_the_real_catalogue(ours: Catalogue) -> None:
    assert ours.required_slugs == REQUIRED
    assert set(ours.assessments) == {"psych", "career"}


def test_the_whole_real_catalogue_loads() -> None:
    missing = [s for s in OTHERS if not (DEFAULT_ROOT / "courses" / s / "course.yaml").is_file()]
    if missing:
        pytest.skip(f"courses not written yet: {', '.join(missing)}")
    assert check() == []
    catalogue = load_catalogue()
    assert set(catalogue.courses) == set(REQUIRED) | set(OTHERS)
    assert list(catalogue.courses)[:2] == list(REQUIRED)
    for slug in OTHERS:
        assert catalogue.courses[slug].prerequisites == REQUIRED
    complaint = catalogue.courses["complaint-handling"]
    assert complaint.review == "mock_call"
    assert complaint.min_assessment is not None and complaint.min_assessment.score == 60


@pytest.mark.parametrize("slug", REQUIRED)
def test_required_courses_follow_the_contract(ours: Catalogue, slug: str) -> None:
    c = ours.courses[slug]
    assert (c.track, c.required, c.grants_tags, c.prerequisites, c.xp) == ("required", True, (), (), 100)
    assert c.review == "none" and c.min_assessment is None
    assert len(c.lessons) == 3
    assert len(c.questions) >= 16
    assert {q.kind for q in c.questions} == {"single", "multiple", "true_false"}
    assert all(q.lesson in {lesson.name for lesson in c.lessons} for q in c.questions)
    for lesson in c.lessons:
        assert {q.lesson for q in c.questions} >= {lesson.name}


def test_onboarding_never_expires_and_privacy_is_renewed_yearly(ours: Catalogue) -> None:
    assert ours.courses["onboarding"].validity_days is None
    privacy = ours.courses["privacy-security"]
    assert privacy.validity_days == 365
    assert privacy.renewal is not None and privacy.renewal.questions <= len(privacy.questions)


@pytest.mark.parametrize("slug", REQUIRED)
def test_required_lessons_have_the_contract_length(slug: str) -> None:
    for path in sorted((DEFAULT_ROOT / "courses" / slug / "lessons").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("\n", 1)[1]
        if path.name.endswith(".zh.md"):
            assert 400 <= len(re.sub(r"\s", "", body)) <= 900, path
        else:
            assert 250 <= len(re.findall(r"[\w'’-]+", body)) <= 600, path


@pytest.mark.parametrize("slug", REQUIRED)
def test_required_question_options_are_distinct_and_explained(ours: Catalogue, slug: str) -> None:
    for q in ours.courses[slug].questions:
        for lang in ("zh", "en"):
            texts = [o.text.get(lang) for o in q.options]
            assert len(set(texts)) == len(texts), q.id
        assert q.explanation.zh and q.explanation.en


def test_psych_assessment_has_the_core_dimensions_with_reverse_items(ours: Catalogue) -> None:
    psych = ours.psych
    assert set(psych.dimension_codes) >= PSYCH_DIMENSIONS
    for code in psych.dimension_codes:
        items = [i for i in psych.items if i.dimension == code]
        assert 4 <= len(items) <= 5, code
        assert any(i.reverse for i in items) and not all(i.reverse for i in items), code


def test_career_assessment_recommends_every_elective_course(ours: Catalogue) -> None:
    career = ours.career
    assert len(career.dimensions) == 5
    recommended = {slug for d in career.dimensions for slug in d.tracks}
    assert recommended == set(OTHERS)
    for code in career.dimension_codes:
        assert len([i for i in career.items if i.dimension == code]) >= 3, code
