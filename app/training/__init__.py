"""The Academy in the app: persistence, pages, admin review and jobs around the pure engine in academy/.

The catalogue is loaded and validated once per process (per catalogue folder) and kept in
`app.extensions["academy"]`. A broken catalogue does not stop the site: the Academy pages answer 503 and
`flask academy check` lists every problem.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app, has_app_context

from academy import DEFAULT_ROOT, Catalogue, CatalogueError, load_catalogue

log = logging.getLogger(__name__)

_CACHE: dict[Path, Catalogue | CatalogueError] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class AcademyState:
    """What start-up found: the catalogue, or the problems that keep it from loading."""

    root: Path
    catalogue: Catalogue | None
    problems: tuple[str, ...] = ()


def catalogue_root(app: Flask) -> Path:
    configured = app.config.get("ACADEMY_CATALOGUE_DIR")
    return Path(configured).resolve() if configured else DEFAULT_ROOT


def known_tags() -> frozenset[str]:
    from app.members.tags import TAG_CODES

    return frozenset(TAG_CODES)


def load_cached(root: Path) -> Catalogue:
    """Load and validate the catalogue under `root` once per process; raise CatalogueError when it is broken."""
    with _LOCK:
        if root not in _CACHE:
            try:
                _CACHE[root] = load_catalogue(root, known_tags())
            except CatalogueError as exc:
                _CACHE[root] = exc
        found = _CACHE[root]
    if isinstance(found, CatalogueError):
        raise found
    return found


def init_app(app: Flask) -> None:
    """Start-up: load the catalogue into app.extensions["academy"] (problems are logged, not fatal)."""
    root = catalogue_root(app)
    try:
        state = AcademyState(root, load_cached(root))
    except CatalogueError as exc:
        log.error("the Academy catalogue at %s is broken; the Academy is unavailable:\n%s", root, exc)
        state = AcademyState(root, None, exc.problems)
    app.extensions["academy"] = state


def current_catalogue() -> Catalogue:
    """The catalogue of the running app (or the bundled one outside an app); CatalogueError when broken."""
    if has_app_context():
        state: AcademyState | None = current_app.extensions.get("academy")
        if state is not None:
            if state.catalogue is None:
                raise CatalogueError(state.problems)
            return state.catalogue
    return load_cached(DEFAULT_ROOT)
