"""Fixtures for the Academy engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from academy import Catalogue, load_catalogue

from .helpers import build_catalogue


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fresh, valid catalogue on disk that the test may break."""
    return build_catalogue(tmp_path / "catalogue")


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    """The valid fixture catalogue, loaded once (read-only)."""
    return load_catalogue(build_catalogue(tmp_path_factory.mktemp("fixture") / "catalogue"))
