"""Settings for every way Surgeline runs. The only module that reads os.environ."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


DEV_SECRET_KEY = "dev-only-not-secret"  # nosec B105  # a marker for development; production refuses it
# Development and tests only: production refuses it (ProductionConfig.validate).
DEV_CONTACT_ENCRYPTION_KEY = "dev-only-contact-key-not-secret-0123456789"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Defaults shared by all configurations."""

    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'surgeline.sqlite3'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Seats can be released for free until this many hours before the shift starts.
    RELEASE_CUTOFF_HOURS = _env_int("RELEASE_CUTOFF_HOURS", 2)
    DISPLAY_TIMEZONE = os.environ.get("DISPLAY_TIMEZONE", "Asia/Shanghai")
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    WTF_CSRF_TIME_LIMIT = None
    # Call lists (docs/contacts.md): the upload limit, rows per list, where uploads wait for the importer.
    CALL_LIST_MAX_BYTES = _env_int("CALL_LIST_MAX_BYTES", 64 * 1024 * 1024)
    CALL_LIST_MAX_ROWS = _env_int("CALL_LIST_MAX_ROWS", 1_000_000)
    CALL_LIST_FILE_RETENTION_DAYS = _env_int("CALL_LIST_FILE_RETENTION_DAYS", 7)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    # Phone numbers at rest are encrypted and hashed with keys derived from this secret.
    CONTACT_ENCRYPTION_KEY = os.environ.get("CONTACT_ENCRYPTION_KEY") or None
    # The largest request body is a call-list upload: its file plus the form around it.
    MAX_CONTENT_LENGTH = max(16 * 1024 * 1024, CALL_LIST_MAX_BYTES + 1024 * 1024)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    # Off: the X-RateLimit-* headers cost a second storage round trip per limited request (docs/performance.md);
    # a 429 still carries Retry-After (app.extensions.retry_after_seconds).
    RATELIMIT_HEADERS_ENABLED = False
    # Rate limits (docs/security.md): login POSTs per address; quiz starts and submissions per agent.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    QUIZ_RATE_LIMIT = os.environ.get("QUIZ_RATE_LIMIT", "20 per hour")
    # The API (docs/api.md): requests per token (per address without a valid token).
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120 per minute")
    # Seat grabs per agent (docs/performance.md, claim_storm): far above what a person taps, stops a script.
    CLAIM_RATE_LIMIT = os.environ.get("CLAIM_RATE_LIMIT", "30 per minute")
    # Redis down: rate limits go on in each process's memory instead of failing the request (docs/deploy.md).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # After this many wrong passwords in a row an account is locked for LOGIN_LOCK_MINUTES.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
    # Cookies and headers (docs/security.md). Production adds Secure to both cookies and sends HSTS.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    CONTENT_SECURITY_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
    HSTS_HEADER = "max-age=31536000; includeSubDomains"
    DEMO_PASSWORD_ALLOWED = True
    BOARD_PAGE_SIZE = 20
    ADMIN_PAGE_SIZE = 50
    JOBS_IN_PROCESS = REDIS_URL is None
    PRODUCTION = False
    # The Academy: catalogue folder (default: the bundled academy/catalogue) and mock-call uploads.
    ACADEMY_CATALOGUE_DIR = os.environ.get("ACADEMY_CATALOGUE_DIR") or None
    ACADEMY_UPLOAD_DIR = os.environ.get("ACADEMY_UPLOAD_DIR") or None  # default: instance/uploads
    ACADEMY_UPLOAD_MAX_BYTES = _env_int("ACADEMY_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
    # Email: SMTP when MAIL_SERVER is set, the log otherwise.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = _env_int("MAIL_PORT", 587)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "1") not in ("0", "false", "no")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Surgeline <no-reply@surgeline.cn>")
    # Attendance: check-in opens this long before a shift starts and closes this long after it.
    CHECKIN_OPENS_MINUTES = _env_int("CHECKIN_OPENS_MINUTES", 15)
    NO_SHOW_GRACE_MINUTES = _env_int("NO_SHOW_GRACE_MINUTES", 10)
    # Money (integer fen; basis points: 1000 = 10 %).
    PLATFORM_COMMISSION_BPS = _env_int("PLATFORM_COMMISSION_BPS", 1000)
    DISPUTE_WINDOW_HOURS = _env_int("DISPUTE_WINDOW_HOURS", 48)
    PAYOUT_MIN_FEN = _env_int("PAYOUT_MIN_FEN", 10_000)
    SETTLE_BATCH_SIZE = _env_int("SETTLE_BATCH_SIZE", 2000)
    PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "simulated")
    # Webhooks (docs/webhooks.md): seconds per attempt, attempts before a delivery is marked failed, and whether
    # endpoints may point at private/loopback addresses (off in production: SSRF; on for local development/tests).
    WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
    WEBHOOK_MAX_ATTEMPTS = _env_int("WEBHOOK_MAX_ATTEMPTS", 7)
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = os.environ.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "0") in ("1", "true", "yes")


class DevelopmentConfig(Config):
    """`make run`: SQLite under instance/, jobs in-process, nothing else installed."""

    CONTACT_ENCRYPTION_KEY = os.environ.get("CONTACT_ENCRYPTION_KEY") or DEV_CONTACT_ENCRYPTION_KEY
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # a receiver on this machine, for trying webhooks locally


class TestConfig(Config):
    """The test suite; the database URL is chosen by tests/conftest.py."""

    TESTING = True
    WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the tests' receiver listens on 127.0.0.1
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    REDIS_URL = None
    JOBS_IN_PROCESS = True
    SERVER_NAME = None
    CONTACT_ENCRYPTION_KEY = DEV_CONTACT_ENCRYPTION_KEY


class ProductionConfig(Config):
    """PostgreSQL + Redis + gunicorn; refuses to start without real secrets."""

    PRODUCTION = True
    DEMO_PASSWORD_ALLOWED = False
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}

    @classmethod
    def validate(cls) -> None:
        """Fail fast on settings that would be unsafe in production."""
        problems = []
        if not os.environ.get("SECRET_KEY") or os.environ["SECRET_KEY"] == DEV_SECRET_KEY:
            problems.append("SECRET_KEY must be set")
        if not os.environ.get("DATABASE_URL"):
            problems.append("DATABASE_URL must be set")
        contact_key = os.environ.get("CONTACT_ENCRYPTION_KEY") or ""
        if len(contact_key) < 32 or contact_key == DEV_CONTACT_ENCRYPTION_KEY:
            problems.append("CONTACT_ENCRYPTION_KEY must be set (32+ random characters)")
        if problems:
            raise RuntimeError("Production configuration is incomplete: " + "; ".join(problems))


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Pick the configuration named by SURGELINE_ENV (development by default)."""
    return CONFIGS[os.environ.get("SURGELINE_ENV", "development")]
