"""Surgeline Academy engine: catalogue loading/validation, quizzes, attempt rules, gamification, assessments.

Pure Python (stdlib, PyYAML, Markdown, nh3); it knows nothing about Flask or the database.
"""

from __future__ import annotations

from academy.catalogue import DEFAULT_ROOT, check, load_catalogue
from academy.errors import AcademyError, CatalogueError, InvalidAnswer
from academy.models import Assessment, Catalogue, Course, Lesson, Localized, Question
from academy.tags import KNOWN_TAG_CODES

__all__ = [
    "DEFAULT_ROOT",
    "KNOWN_TAG_CODES",
    "AcademyError",
    "Assessment",
    "Catalogue",
    "CatalogueError",
    "Course",
    "InvalidAnswer",
    "Lesson",
    "Localized",
    "Question",
    "check",
    "load_catalogue",
]
