"""Real-browser tests: a live server over the test app, driven by headless Chromium at a phone's width.

Every test gets phones (`phone("agent")`): Playwright pages at 375×812 in one language whose every visited page is
checked after it loads — it fits the screen, raised no JavaScript or console error (CSP violations are console
errors) and was no 5xx — and photographed to test-artifacts/browser/<test>/<lang>/NN-<who>-<step>.png.

Chromium: /usr/bin/chromium (Debian), or SURGELINE_CHROMIUM. Missing → the tests skip, unless
SURGELINE_REQUIRE_BROWSER=1 (CI), then they fail. They run on the SQLite backend only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.browser.phone import LOCALES, VIEWPORT, Phone

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def _require_browser() -> bool:
    return os.environ.get("SURGELINE_REQUIRE_BROWSER") == "1"


def _unavailable(reason: str):
    if _require_browser():
        pytest.fail(f"SURGELINE_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(f"browser tests need Chromium: {reason} (set SURGELINE_CHROMIUM to its path)")


def chromium_path() -> str | None:
    chosen = os.environ.get("SURGELINE_CHROMIUM")
    if chosen:
        return chosen if os.access(chosen, os.X_OK) else None
    return next((p for p in CANDIDATES if os.access(p, os.X_OK)), None)


def pytest_collection_modifyitems(config, items):
    """The journeys run once, on SQLite: the PostgreSQL pass adds time, not coverage of the pages."""
    here = Path(__file__).parent
    chosen = config.getoption("--backends")
    sqlite_pass = not chosen or "sqlite" in chosen.split(",")

    def elsewhere(item) -> bool:
        callspec = getattr(item, "callspec", None)
        return not sqlite_pass or (callspec is not None and callspec.params.get("backend", "sqlite") != "sqlite")

    dropped = [item for item in items if here in Path(str(item.path)).parents and elsewhere(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture(scope="module")
def chromium():
    """Headless Chromium for one test module. Not for the session: a running Playwright keeps its asyncio loop
    marked as running, which would break asyncio.run() in the tests collected after these."""
    path = chromium_path()
    if path is None:
        chosen = os.environ.get("SURGELINE_CHROMIUM")
        _unavailable(f"SURGELINE_CHROMIUM={chosen} is not executable" if chosen
                     else "no Chromium executable found in " + ", ".join(CANDIDATES))
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - the pinned dev requirements include it
        _unavailable(f"playwright is not installed ({exc})")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=path, headless=True,
                                          args=["--no-sandbox", "--disable-dev-shm-usage"])
    except Exception as exc:
        manager.stop()
        _unavailable(f"{path} did not start: {exc}")
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture(scope="session")
def live_server(migrated_app):
    """The test app on a real port, one thread per request (the phones of one test talk to it at once)."""
    server = make_server("127.0.0.1", 0, migrated_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(params=sorted(LOCALES))
def lang(request):
    """Every journey runs in each language: Chinese (the default) and English."""
    return request.param


@pytest.fixture
def phone(request, chromium, app, session, live_server, lang):
    """phone(who) → a fresh phone (its own browser context: cookies, language) checked after every page."""
    catalogue = ROOT / "app" / "translations" / "zh" / "LC_MESSAGES" / "messages"
    compiled = catalogue.with_suffix(".mo")
    if not compiled.exists() or compiled.stat().st_mtime < catalogue.with_suffix(".po").stat().st_mtime:
        pytest.fail("the zh catalogue is not compiled or older than messages.po: run `make translations` "
                    "(make test does it)", pytrace=False)
    shots = ARTIFACTS / request.node.originalname / lang
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    counter = iter(range(1, 1000))
    contexts, phones = [], []

    def make(who: str) -> Phone:
        context = chromium.new_context(viewport=VIEWPORT, screen=VIEWPORT, is_mobile=True, has_touch=True,
                                       device_scale_factor=1, locale=LOCALES[lang], timezone_id="Asia/Shanghai")
        context.set_default_timeout(30_000)
        contexts.append(context)
        # The database is SQLite with BEGIN IMMEDIATE: the test's own session must not hold a transaction
        # while the server answers the phone.
        device = Phone(context.new_page(), who=who, lang=lang, base_url=live_server, shots=shots, counter=counter,
                       before_request=session.rollback)
        phones.append(device)
        return device

    yield make
    failed = request.node.stash.get(_FAILED, True)
    try:
        if failed:
            for device in phones:
                with contextlib.suppress(Exception):  # the picture helps; the test's own error is what counts
                    device.snapshot("failure")
        else:
            for device in phones:
                device.assert_every_page_checked()
    finally:
        for context in contexts:
            context.close()
