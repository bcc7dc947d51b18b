"""Small SQL expressions that differ between SQLite and PostgreSQL, compiled per dialect.

They let set-based statements (sweeps, settlement) do time arithmetic in the database on both
backends instead of loading rows into Python.
"""

from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.core.db import UTCDateTime


class whole_minutes(FunctionElement):
    """Whole minutes from `start` to `end`: seconds rounded to the nearest second, then floored to minutes.

    Matches app.work.policies.whole_minutes in Python. Negative spans give a negative number;
    callers clamp with later_of/earlier_of first.
    """

    type = Integer()
    inherit_cache = True
    name = "whole_minutes"


@compiles(whole_minutes, "sqlite")
def _whole_minutes_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(CAST(ROUND((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
            f" * 86400) AS INTEGER) / 60)")


@compiles(whole_minutes, "postgresql")
def _whole_minutes_pg(element, compiler, **kw):
    start, end = list(element.clauses)
    return (f"(CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)})))"
            f" AS INTEGER) / 60)")


class later_of(FunctionElement):
    """The later of two timestamps (GREATEST on PostgreSQL, scalar MAX on SQLite)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "later_of"


@compiles(later_of, "sqlite")
def _later_sqlite(element, compiler, **kw):
    return f"MAX({compiler.process(element.clauses, **kw)})"


@compiles(later_of, "postgresql")
def _later_pg(element, compiler, **kw):
    return f"GREATEST({compiler.process(element.clauses, **kw)})"


class earlier_of(FunctionElement):
    """The earlier of two timestamps (LEAST on PostgreSQL, scalar MIN on SQLite)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "earlier_of"


@compiles(earlier_of, "sqlite")
def _earlier_sqlite(element, compiler, **kw):
    return f"MIN({compiler.process(element.clauses, **kw)})"


@compiles(earlier_of, "postgresql")
def _earlier_pg(element, compiler, **kw):
    return f"LEAST({compiler.process(element.clauses, **kw)})"
