"""Database plumbing: the declarative base, UTC timestamps and engine settings per dialect."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

from app.core.errors import Conflict, DomainError

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC in Python on every database (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC."""
    return value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL, a busy timeout and foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # Let SQLAlchemy's begin event emit BEGIN IMMEDIATE (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: every transaction takes the write lock up front.

    SQLite allows one writer. A deferred transaction that reads and then writes can fail
    halfway with "database is locked" when another writer got in between; BEGIN IMMEDIATE
    waits (busy_timeout) instead, so a unit of work either runs whole or not at all.
    PostgreSQL is untouched: it uses row locks and constraints.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def driver_url(url: str) -> str:
    """postgres:// and postgresql:// URLs as SQLAlchemy's psycopg 3 dialect names them; others unchanged."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


RETRYABLE_PG_CODES = {"40001", "40P01"}


def is_retryable(exc: BaseException) -> bool:
    """Serialization failures, deadlocks and SQLite lock time-outs may be retried."""
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code in RETRYABLE_PG_CODES:
            return True
        if isinstance(exc, OperationalError) and "database is locked" in str(exc.orig):
            return True
    return False


# SQLSTATEs of a database that went away or is not taking connections: class 08 (connection exception),
# 57P01-57P03 (administrator / crash shutdown, "the database system is starting up"), 53300 (too many connections).
UNAVAILABLE_PG_CODES = {"57P01", "57P02", "57P03", "53300"}
UNAVAILABLE_MESSAGES = ("server closed the connection unexpectedly", "connection refused", "could not connect",
                        "connection failed", "terminating connection", "the database system is",
                        "consuming input failed", "connection is closed", "connection is lost",
                        "ssl connection has been closed unexpectedly")


def is_unavailable(exc: BaseException) -> bool:
    """The database cannot be reached right now (restarting, down, out of connections, pool exhausted).

    A request that hits this is answered 503 ("busy, try again"); the pool recovers on its own (pool_pre_ping,
    and SQLAlchemy invalidates the pool on a disconnect). Not a reason to rerun a unit of work by itself: a
    connection lost during COMMIT leaves it unknown whether the commit happened.
    """
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or ""
    if code.startswith("08") or code in UNAVAILABLE_PG_CODES:
        return True
    if isinstance(exc, OperationalError):
        message = str(exc.orig).lower()
        return any(text in message for text in UNAVAILABLE_MESSAGES)
    return False


def commit_with_retry(session: Session, unit: Callable[[], object], attempts: int = 3):
    """Run a hot-path unit of work and commit, rerunning it after a lost race (unique index, deadlock,
    serialization failure). Domain errors roll back and propagate at once."""
    for attempt in range(attempts):
        try:
            result = unit()
            session.commit()
            return result
        except DomainError:
            session.rollback()
            raise
        except IntegrityError:
            session.rollback()
            if attempt == attempts - 1:
                raise Conflict(_l("Someone else was quicker. Try again.")) from None
        except Exception as exc:
            session.rollback()
            if not is_retryable(exc) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
