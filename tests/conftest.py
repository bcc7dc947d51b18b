"""Fixtures: an app per database backend, built by running the migrations; tables emptied after each test.

The suite always runs on SQLite. When TEST_DATABASE_URL (PostgreSQL) is set, every integration test
runs on it as well; TEST_REDIS_URL adds the Redis-backed job tests. `--backends=postgresql` limits a
run to one backend (CI uses it for the second pass).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from flask import g, request_started, request_tearing_down
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text

from app import create_app
from app.core import clock
from app.core.db import db, driver_url
from config import TestConfig

KEEP_TABLES = {"tags", "alembic_version"}


def pytest_addoption(parser):
    parser.addoption("--backends", default=None, help="comma-separated: sqlite,postgresql")


def _backends(config) -> list[str]:
    chosen = config.getoption("--backends")
    available = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
    if chosen:
        return [b for b in chosen.split(",") if b in available]
    return available


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backends(metafunc.config), scope="session")


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    url = driver_url(os.environ["TEST_DATABASE_URL"])
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def _fresh_g(sender, **extra) -> None:
    g.__dict__.clear()


@pytest.fixture(scope="session")
def migrated_app(database_url):
    """One app per backend whose database was built by the migrations."""
    from flask_migrate import upgrade

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade(revision="heads")
    # Test requests reuse the test's app context (so they share its db.session). In production every
    # request gets a fresh `g`; without this, the logged-in user, the chosen locale and the CSRF token
    # cached in `g` by one request would leak into the next one, even from another browser.
    request_started.connect(_fresh_g, app)
    request_tearing_down.connect(_fresh_g, app)
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # TRUNCATE costs ~10 ms a table even when empty; most tests touch a few of ~35 tables.
                probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
                used = list(conn.execute(text(probe)).scalars())
                if used:
                    conn.execute(text("TRUNCATE " + ", ".join(used) + " RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def app(migrated_app):
    clock.freeze(datetime(2026, 11, 1, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai, ten days before Double 11
    ctx = migrated_app.app_context()
    ctx.push()
    try:
        yield migrated_app
    finally:
        db.session.remove()
        ctx.pop()
        clock.freeze(None)
        _empty_tables(migrated_app)


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch):
    """Real scrypt costs ~60 ms a user; tests create hundreds. Same code path, cheaper parameters."""
    from app.members import services

    monkeypatch.setattr(services, "PASSWORD_METHOD", "pbkdf2:sha256:1000")


def csrf_token(client, app) -> str:
    """The token a rendered form would carry for this client's session (as Flask-WTF makes it)."""
    import hashlib

    with client.session_transaction() as sess:
        if "csrf_token" not in sess:
            sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
        raw = sess["csrf_token"]
    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps(raw)


class Browser:
    """A test client that fills in CSRF tokens and logs in like a person."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, *, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", csrf_token(self.client, self.app))
        return self.client.post(url, data=data, **kw)

    def login(self, email, password="password123"):
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 302, response.text[:500]
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def browser(app, client):
    return Browser(app, client)


@pytest.fixture
def make_browser(app):
    return lambda: Browser(app, app.test_client())


@pytest.fixture
def factory(session):
    from tests.factories import Factory

    return Factory(session)
