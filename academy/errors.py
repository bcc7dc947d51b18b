"""Errors raised by the Academy engine."""

from __future__ import annotations

from collections.abc import Iterable


class AcademyError(Exception):
    """Base class of every error the Academy engine raises on purpose."""


class CatalogueError(AcademyError):
    """The catalogue on disk is invalid; `problems` lists every "<file path>: <problem>" found."""

    def __init__(self, problems: Iterable[str]):
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        header = f"academy catalogue has {count} problem{'s' if count != 1 else ''}:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


class InvalidAnswer(AcademyError):
    """A submitted answer (quiz or assessment) is not acceptable as given."""
