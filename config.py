"""Settings for every way Surgeline runs. The only module that reads os.environ."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Defaults shared by all configurations."""

    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
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
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # After this many wrong passwords in a row an account is locked for LOGIN_LOCK_MINUTES.
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCK_MINUTES = _env_int("LOGIN_LOCK_MINUTES", 15)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    DEMO_PASSWORD_ALLOWED = True
    BOARD_PAGE_SIZE = 20
    ADMIN_PAGE_SIZE = 50
    JOBS_IN_PROCESS = REDIS_URL is None
    PRODUCTION = False


class DevelopmentConfig(Config):
    """`make run`: SQLite under instance/, jobs in-process, nothing else installed."""


class TestConfig(Config):
    """The test suite; the database URL is chosen by tests/conftest.py."""

    TESTING = True
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    REDIS_URL = None
    JOBS_IN_PROCESS = True
    SERVER_NAME = None


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
        if not os.environ.get("SECRET_KEY") or cls.SECRET_KEY == Config.SECRET_KEY:
            problems.append("SECRET_KEY must be set")
        if not os.environ.get("DATABASE_URL"):
            problems.append("DATABASE_URL must be set")
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
