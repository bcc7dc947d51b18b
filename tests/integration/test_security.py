"""The hardened surface (docs/security.md): headers, templates fit for the CSP, cookies, sessions that really
end, production settings, body size limits and rate limits (shared through Redis between app instances)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from app import create_app
from app.core import clock
from app.core.db import db
from app.members import services as members
from app.members.models import Status
from config import BASE_DIR, DEV_SECRET_KEY, ProductionConfig, TestConfig
from tests.conftest import Browser
from tests.factories import PASSWORD
from tests.integration.web import english, logged_in, text_of

TEMPLATES = Path(BASE_DIR) / "app" / "templates"


def to_login(response) -> bool:
    return response.status_code == 302 and "/login" in response.headers.get("Location", "")


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/login", "/healthz", "/no-such-page", "/static/app.css"])
def test_every_answer_carries_the_security_headers(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"  # no inline code at all
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["base-uri"] == "'self'"
    assert "unsafe" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in response.headers  # plain-HTTP development: HSTS would stick
    response.close()


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> block"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=\s*[\"']", re.I), "inline event handler"),
    (re.compile(r"(?:href|src|action)\s*=\s*[\"']\s*javascript:", re.I), "javascript: URL"),
]


JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)


def test_no_template_has_inline_script_or_style_the_csp_would_block():
    found = []
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    for path in templates:
        text = JINJA_COMMENT.sub(lambda m: "\n" * m.group().count("\n"), path.read_text(encoding="utf-8"))
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []


def test_the_template_scan_catches_what_it_looks_for():
    samples = ['<script>alert(1)</script>', '<style>p{}</style>', '<p style="color:red">', '<a onclick="x()">',
               '<a href="javascript:x()">']
    for sample, (pattern, _what) in zip(samples, INLINE, strict=True):
        assert pattern.search(sample), sample
    allowed = '<script src="/static/js/app.js" defer></script><script type="application/json" id="d">{}</script>'
    assert not any(pattern.search(allowed) for pattern, _ in INLINE)


# --- sessions end on the server ------------------------------------------------------------------


def _replay(app, cookies: dict) -> Browser:
    """A different browser that was handed copies of these cookies."""
    thief = Browser(app, app.test_client())
    for name, value in cookies.items():
        thief.client.set_cookie(name, value)
    return thief


def _cookies(browser, *names) -> dict:
    return {name: browser.client.get_cookie(name).value for name in names if browser.client.get_cookie(name)}


def test_a_copied_session_cookie_stops_working_after_logout(app, make_browser, factory):
    agent = factory.agent()
    browser = logged_in(make_browser, agent)
    copied = _cookies(browser, "session")
    assert _replay(app, copied).get("/agent/shifts").status_code == 200  # the copy works while the session lives
    assert browser.logout().status_code == 302
    assert to_login(_replay(app, copied).get("/agent/shifts"))


def test_a_copied_remember_me_cookie_stops_working_after_logout(app, make_browser, factory):
    agent = factory.agent()
    browser = english(make_browser())
    assert browser.post("/login", {"email": agent.email, "password": PASSWORD, "remember": "y"}).status_code == 302
    remembered = _cookies(browser, "remember_token")
    assert remembered, "remember me sets its cookie"
    assert _replay(app, remembered).get("/agent/shifts").status_code == 200  # no session cookie, only remember
    browser.logout()
    assert to_login(_replay(app, remembered).get("/agent/shifts"))


def test_suspension_ends_every_live_session_of_the_member(app, session, make_browser, factory):
    agent = factory.agent()
    phone, laptop = logged_in(make_browser, agent), logged_in(make_browser, agent)
    copied = _cookies(laptop, "session")
    members.set_status(session, admin=factory.admin(), user_id=agent.id, status=Status.SUSPENDED, reason="test",
                       now=clock.now())
    session.commit()
    for browser in (phone, laptop, _replay(app, copied)):
        assert to_login(browser.get("/agent/shifts"))
    assert browser.post("/login", {"email": agent.email, "password": PASSWORD}).status_code == 400


def test_ending_sessions_is_what_a_password_change_must_call_and_it_ends_them(app, session, make_browser, factory):
    """There is no password-change page yet; members.end_sessions is the server-side switch it must use."""
    client = factory.client()
    browser = logged_in(make_browser, client)
    copied = _cookies(browser, "session")
    members.end_sessions(session, client.id)
    session.commit()
    assert to_login(_replay(app, copied).get("/client/"))
    assert to_login(browser.get("/client/"))


# --- production settings -------------------------------------------------------------------------


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret-key-for-this-test-only-0123456789")
    monkeypatch.setenv("DATABASE_URL", "postgresql://example/db")
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", "k" * 43)


def test_production_refuses_to_start_without_a_real_secret_key(production_env, monkeypatch):
    ProductionConfig.validate()  # complete: no complaint
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        ProductionConfig.validate()
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(RuntimeError, match="SECRET_KEY must be set"):
        ProductionConfig.validate()
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_cookies_are_secure_httponly_samesite_and_https_is_pinned(production_env, database_url,
                                                                              monkeypatch, factory):
    from app.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)  # one limiter per process: put its switch back
    prod = create_app(ProductionConfig, SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="s" * 48,
                      RATELIMIT_STORAGE_URI="memory://", RATELIMIT_ENABLED=False, JOBS_IN_PROCESS=True)
    try:
        email = factory.agent().email
        db.session.rollback()  # end this session's read: SQLite lets the other app's engine write
        browser = Browser(prod, prod.test_client())
        page = browser.get("/login")
        assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
        response = browser.post("/login", {"email": email, "password": PASSWORD, "remember": "y"})
        assert response.status_code == 302, response.text[:300]
        cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
        for name in ("session", "remember_token"):
            flags = [part.strip().lower() for part in cookies[name].split(";")]
            assert "secure" in flags and "httponly" in flags and "samesite=lax" in flags, cookies[name]
    finally:
        with prod.app_context():
            db.session.remove()
            db.engine.dispose()


def test_development_cookies_stay_usable_over_plain_http(client):
    cookie = client.get("/login").headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


# --- body size limits ----------------------------------------------------------------------------


def test_a_body_over_the_limit_gets_the_413_page_and_nothing_else_happens(app, make_browser, factory, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    browser = english(make_browser())
    response = browser.post("/login", {"email": "x@example.cn", "password": "p" * 10_000})
    assert response.status_code == 413
    assert "The upload is too large." in text_of(response)
    assert '<meta name="viewport"' in response.get_data(as_text=True)


def test_the_default_body_limit_fits_the_largest_upload_and_no_more():
    largest_upload = max(16 * 1024 * 1024, TestConfig.CALL_LIST_MAX_BYTES + 1024 * 1024)
    assert largest_upload == TestConfig.MAX_CONTENT_LENGTH
    assert TestConfig.ACADEMY_UPLOAD_MAX_BYTES < TestConfig.MAX_CONTENT_LENGTH


def test_an_upload_over_the_limit_is_refused_with_413_not_saved(app, make_browser, factory, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    owner = factory.client()
    campaign = factory.campaign(owner, tags=(), kind="outbound_marketing")
    browser = logged_in(make_browser, owner)
    big = io.BytesIO(b"name,phone\n" + b"x,13900000000\n" * 10_000)
    response = browser.post(f"/client/campaigns/{campaign.id}/call-lists", {"file": (big, "list.csv")},
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").rglob("*.csv"))


# --- rate limits ---------------------------------------------------------------------------------


@pytest.fixture
def limited(app, database_url, monkeypatch):
    """A second app on the same database with limiting on (TestConfig turns it off)."""
    from app.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", limiter.enabled)

    def make(reset: bool = True, **overrides):
        fresh = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=True, **overrides)
        if reset:
            limiter.reset()
        made.append(fresh)
        return fresh

    made: list = []
    yield make
    limiter.reset()
    for fresh in made:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_login_attempts_are_limited_per_address(limited):
    fresh = limited(LOGIN_RATE_LIMIT="3 per minute")
    browser = english(Browser(fresh, fresh.test_client()))
    for _ in range(3):
        assert browser.post("/login", {"email": "nobody@example.cn", "password": "wrong-password"}).status_code == 400
    refused = browser.post("/login", {"email": "nobody@example.cn", "password": "wrong-password"})
    assert refused.status_code == 429
    assert "Too many attempts" in text_of(refused)
    assert browser.get("/login").status_code == 200  # only the POSTs count


def test_quiz_submissions_and_starts_are_limited_per_agent(limited, factory):
    fresh = limited(QUIZ_RATE_LIMIT="2 per minute")
    emails = factory.agent().email, factory.agent().email
    db.session.rollback()  # end this session's read: SQLite lets the other app's engine write
    web, office_mate = Browser(fresh, fresh.test_client()), Browser(fresh, fresh.test_client())
    web.login(emails[0], PASSWORD)
    office_mate.login(emails[1], PASSWORD)
    for _ in range(2):
        assert web.post("/academy/attempts/987654321").status_code == 404
    assert web.post("/academy/attempts/987654321").status_code == 429
    assert web.post("/academy/attempts/987654322").status_code == 429  # the limit is the agent's, any attempt
    assert office_mate.post("/academy/attempts/987654321").status_code == 404  # same address, another agent
    for _ in range(2):
        assert web.post("/academy/courses/no-such-course/start").status_code == 404
    assert web.post("/academy/courses/no-such-course/start").status_code == 429


def test_rate_limits_are_stored_in_redis_when_redis_is_configured():
    """RATELIMIT_STORAGE_URI defaults to REDIS_URL (read at import, hence a fresh interpreter)."""
    env = {**os.environ, "REDIS_URL": "redis://10.0.0.7:6379/0"}
    env.pop("RATELIMIT_STORAGE_URI", None)
    code = "import config; print(config.ProductionConfig.RATELIMIT_STORAGE_URI)"
    probe = subprocess.run([sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True,
                           timeout=60, check=True)
    assert probe.stdout.strip() == "redis://10.0.0.7:6379/0"


SECOND_INSTANCE = """
import sys
from app import create_app
from config import TestConfig
from tests.conftest import Browser
app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=sys.argv[1], RATELIMIT_ENABLED=True,
                 RATELIMIT_STORAGE_URI=sys.argv[2], RATELIMIT_KEY_PREFIX=sys.argv[3],
                 RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False, LOGIN_RATE_LIMIT="3 per minute", WTF_CSRF_ENABLED=False)
web = Browser(app, app.test_client())
print(" ".join(str(web.post("/login", {"email": "nobody@example.cn", "password": "x"}, csrf=False).status_code)
               for _ in range(2)))
"""


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL (Redis)")
def test_two_app_instances_share_the_login_limit_through_redis(limited, database_url):
    """Another process (a second gunicorn worker or web node) spends 2 of the 3 attempts; this one has 1 left."""
    import redis

    redis_url, prefix = os.environ["TEST_REDIS_URL"], f"surgeline-test-{uuid.uuid4().hex[:8]}"
    try:
        other = subprocess.run([sys.executable, "-c", SECOND_INSTANCE, database_url, redis_url, prefix],
                               cwd=BASE_DIR, capture_output=True, text=True, timeout=120, check=True)
        assert other.stdout.split()[-2:] == ["400", "400"], other.stdout + other.stderr
        fresh = limited(reset=False, RATELIMIT_STORAGE_URI=redis_url, RATELIMIT_KEY_PREFIX=prefix,
                        WTF_CSRF_ENABLED=False, RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False,
                        LOGIN_RATE_LIMIT="3 per minute")
        web = Browser(fresh, fresh.test_client())
        answers = [web.post("/login", {"email": "nobody@example.cn", "password": "x"}, csrf=False).status_code
                   for _ in range(2)]
        assert answers == [400, 429]
    finally:
        store = redis.Redis.from_url(redis_url)
        keys = list(store.scan_iter(f"{prefix}*")) + list(store.scan_iter(f"*{prefix}*"))
        if keys:
            store.delete(*set(keys))


# --- make audit: pip-audit's report is read honestly ---------------------------------------------


def _audit_report():
    import importlib.util

    spec = importlib.util.spec_from_file_location("audit_report", Path(BASE_DIR) / ".ci" / "audit_report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_audit_fails_on_a_known_vulnerability():
    report = {"dependencies": [
        {"name": "flask", "version": "3.1.3", "vulns": []},
        {"name": "jinja2", "version": "2.10", "vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"]}]}]}
    lines, code = _audit_report().summarise(report, 1)
    assert code == 1
    assert "VULNERABLE jinja2==2.10: PYSEC-2019-217 (fixed in: 2.10.1)" in lines
    assert "2 pinned packages, 2 audited, 1 vulnerable, 0 not audited" in lines[-1]


def test_the_audit_says_loudly_when_nothing_could_be_audited():
    reason = "Dependency not found on PyPI and could not be audited: flask (3.1.3)"
    report = {"dependencies": [{"name": "flask", "skip_reason": reason}, {"name": "rq", "skip_reason": reason}]}
    lines, code = _audit_report().summarise(report, 0)
    assert code == 0  # pip-audit's own verdict; AUDIT_STRICT=1 makes pip-audit itself fail
    text = "\n".join(lines)
    assert "0 audited" in text and "DEPENDENCIES NOT AUDITED" in text and reason in text


def test_the_audit_lists_the_packages_it_could_not_check_next_to_the_clean_ones():
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []},
                               {"name": "private-pkg", "skip_reason": "not on PyPI"}]}
    lines, code = _audit_report().summarise(report, 0)
    assert code == 0 and lines[-1] == "not audited: private-pkg"
    assert not any("DEPENDENCIES NOT AUDITED" in line for line in lines)
