"""SQL expressions for the dashboards that differ between SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class utc_hour(FunctionElement):
    """The UTC hour a timestamp falls in, as text 'YYYY-MM-DD HH' (the same on both databases).

    Grouping by UTC hour keeps the number of buckets small and lets Python map each hour to the local
    day (Asia/Shanghai is a whole number of hours from UTC).
    """

    type = String()
    inherit_cache = True
    name = "utc_hour"


@compiles(utc_hour, "sqlite")
def _utc_hour_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m-%d %H', {compiler.process(element.clauses, **kw)})"


@compiles(utc_hour, "postgresql")
def _utc_hour_pg(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"


def parse_hour(text: str) -> datetime:
    """'2026-11-11 14' -> 2026-11-11 14:00 UTC."""
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)
