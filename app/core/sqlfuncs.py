"""Small SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect.

They let set-based statements (sweeps, settlement, dashboards) do time arithmetic in the database on
both backends instead of loading rows into Python. Each is a FunctionElement with one SQL template per
dialect (`_compile_as`): `{args}` is the compiled argument list, `{0}`, `{1}` … the single arguments.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.db import UTCDateTime


def _compile_as(cls: type[FunctionElement], **templates: str) -> type[FunctionElement]:
    """Register the SQL of `cls` for each dialect (keyword = dialect name, value = template)."""
    for dialect, template in templates.items():
        def compile_(element, compiler, _template=template, **kw):
            # Each argument is compiled once (twice would register its bound parameters twice).
            if "{args}" in _template:
                return _template.format(args=compiler.process(element.clauses, **kw))
            return _template.format(*(compiler.process(clause, **kw) for clause in element.clauses))

        compiles(cls, dialect)(compile_)
    return cls


class whole_minutes(FunctionElement):
    """Whole minutes from `start` to `end`: seconds rounded to the nearest second, then floored to minutes.

    Matches app.work.policies.whole_minutes in Python. Negative spans give a negative number;
    callers clamp with later_of/earlier_of first.
    """

    type = Integer()
    inherit_cache = True
    name = "whole_minutes"


_compile_as(whole_minutes,
            sqlite="(CAST(ROUND((julianday({1}) - julianday({0})) * 86400) AS INTEGER) / 60)",
            postgresql="(CAST(ROUND(EXTRACT(EPOCH FROM ({1} - {0}))) AS INTEGER) / 60)")


class later_of(FunctionElement):
    """The later of two timestamps (GREATEST on PostgreSQL, scalar MAX on SQLite)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "later_of"


_compile_as(later_of, sqlite="MAX({args})", postgresql="GREATEST({args})")


class earlier_of(FunctionElement):
    """The earlier of two timestamps (LEAST on PostgreSQL, scalar MIN on SQLite)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "earlier_of"


_compile_as(earlier_of, sqlite="MIN({args})", postgresql="LEAST({args})")


class utc_hour(FunctionElement):
    """The UTC hour a timestamp falls in, as text 'YYYY-MM-DD HH' (the same on both databases).

    Grouping by UTC hour keeps the number of buckets small and lets Python map each hour to the local
    day (Asia/Shanghai is a whole number of hours from UTC).
    """

    type = String()
    inherit_cache = True
    name = "utc_hour"


_compile_as(utc_hour, sqlite="strftime('%Y-%m-%d %H', {0})",
            postgresql="to_char(({0}) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')")


def parse_hour(text: str) -> datetime:
    """'2026-11-11 14' -> 2026-11-11 14:00 UTC (the text of utc_hour)."""
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


class plus_days(FunctionElement):
    """A UTC timestamp column plus a whole number of days, comparable with the column on both databases.

    SQLite keeps naive UTC text with microseconds ('2026-11-01 02:00:00.000000'); strftime's %f keeps
    milliseconds, so the last three digits are padded to compare as text with the stored values.
    """

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_days"


_compile_as(plus_days, sqlite="(strftime('%Y-%m-%d %H:%M:%f', {0}, '+' || {1} || ' days') || '999')",
            postgresql="(({0}) + make_interval(days => {1}))")
