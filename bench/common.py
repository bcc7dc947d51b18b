"""Shared bench plumbing: a scratch database built by the migrations, timing, percentiles."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from app.core.db import driver_url


def database_url() -> str:
    """BENCH_DATABASE_URL (PostgreSQL) when set, else a fresh SQLite file in a temp dir."""
    url = os.environ.get("BENCH_DATABASE_URL")
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="surgeline-bench-")) / "bench.sqlite3"
    return f"sqlite:///{path}"


def logger(bench: str):
    """A progress printer to stderr (stdout's last line is the bench's JSON)."""

    def log(message: str) -> None:
        print(f"[{bench} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    return log


def plain_url(url: str) -> str:
    """A libpq URI for psycopg.connect."""
    return driver_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def ensure_database(url: str) -> None:
    """CREATE DATABASE when the PostgreSQL database named by the URL is missing."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    parsed = make_url(driver_url(url))
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(plain_url(admin), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(parsed.database)))


def reset_postgres(url: str) -> None:
    """An empty public schema: each run creates and drops its own data."""
    engine = create_engine(driver_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(url: str | None = None, **overrides):
    """An app on a scratch database that the migrations built (bench data is created and dropped by each run)."""
    from flask_migrate import upgrade

    from app import create_app
    from config import TestConfig

    url = url or database_url()
    if not url.startswith("sqlite"):
        reset_postgres(url)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, **overrides)
    with app.app_context():
        upgrade(revision="heads")
    return app


@contextmanager
def timed(figures: dict, key: str):
    start = time.perf_counter()
    yield
    figures[key] = round(time.perf_counter() - start, 4)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def summary_ms(latencies: list[float]) -> dict:
    return {
        "p50_ms": round(percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
    }
