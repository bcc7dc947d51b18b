"""Showing UTC times in the member's zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context


def display_tz() -> ZoneInfo:
    name = current_app.config.get("DISPLAY_TIMEZONE", "Asia/Shanghai") if has_app_context() else "Asia/Shanghai"
    return ZoneInfo(name)


def local(dt: datetime) -> datetime:
    return dt.astimezone(display_tz())


def local_range(start: datetime, end: datetime) -> str:
    """'11-11 08:00–10:00' (end shown as 24:00 at midnight)."""
    s, e = local(start), local(end)
    end_text = "24:00" if e.time() == time(0) and e.date() == s.date() + timedelta(days=1) else e.strftime("%H:%M")
    if e.date() != s.date() and end_text != "24:00":
        end_text = e.strftime("%m-%d %H:%M")
    return f"{s.strftime('%m-%d %H:%M')}–{end_text}"


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """UTC bounds of a local calendar day."""
    tz = display_tz()
    start = datetime.combine(day, time(0), tz)
    return start.astimezone(ZoneInfo("UTC")), (start + timedelta(days=1)).astimezone(ZoneInfo("UTC"))


def local_today(now: datetime) -> date:
    return local(now).date()
