"""Template filters and globals shared by every page."""

from __future__ import annotations

from flask import Flask, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.core.money import format_fen
from app.core.timefmt import local, local_range

TIER_NAMES = {0: _l("Trainee"), 1: _l("Certified"), 2: _l("Senior"), 3: _l("Gold")}
STATUS_NAMES = {"pending": _l("Pending verification"), "active": _l("Active"), "suspended": _l("Suspended")}
KIND_NAMES = {
    "inbound": _l("Inbound peak support"),
    "outbound_callback": _l("Outbound callback / survey"),
    "outbound_marketing": _l("Outbound marketing / reactivation"),
}
CAMPAIGN_STATUS_NAMES = {
    "draft": _l("Draft"), "published": _l("Published"), "running": _l("Running"),
    "completed": _l("Completed"), "cancelled": _l("Cancelled"),
}
CLAIM_STATUS_NAMES = {
    "claimed": _l("Claimed"), "checked_in": _l("Checked in"), "completed": _l("Completed"),
    "settled": _l("Settled"), "released": _l("Released"), "late_cancelled": _l("Late cancellation"),
    "cancelled": _l("Cancelled by client"), "no_show": _l("No-show"),
}


def tag_name(code: str) -> str:
    from app.members.tags import TAG_CATALOGUE

    for tag_code, _kind, zh, en in TAG_CATALOGUE:
        if tag_code == code:
            return zh if str(get_locale()).startswith("zh") else en
    return code


def blocker_text(blocker) -> str:
    from flask_babel import gettext

    if blocker.code == "tags":
        return gettext("Missing tags: %(tags)s", tags=", ".join(tag_name(c) for c in blocker.detail["missing"]))
    if blocker.code == "tier":
        return gettext("Needs tier %(tier)s or higher", tier=TIER_NAMES[blocker.detail["needed"]])
    texts = {
        "not_agent": _l("Only agents can claim shifts."),
        "not_active": _l("Your account is not active yet: an admin must verify it."),
        "not_open": _l("This shift is no longer offered."),
        "started": _l("This shift has already started."),
        "already": _l("You already hold a seat on this shift."),
        "overlap": _l("You hold another shift at this time."),
        "full": _l("All seats are taken."),
    }
    return str(texts.get(blocker.code, blocker.code))


def url_with(**changes) -> str:
    """The current page's URL with some query arguments changed (None removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return url_for(request.endpoint, **(request.view_args or {}), **args)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["yuan"] = format_fen
    app.jinja_env.filters["localtime"] = lambda dt, fmt="%Y-%m-%d %H:%M": local(dt).strftime(fmt) if dt else ""
    app.jinja_env.globals.update(
        local_range=local_range, tag_name=tag_name, blocker_text=blocker_text, url_with=url_with,
        TIER_NAMES=TIER_NAMES, STATUS_NAMES=STATUS_NAMES, KIND_NAMES=KIND_NAMES,
        CAMPAIGN_STATUS_NAMES=CAMPAIGN_STATUS_NAMES, CLAIM_STATUS_NAMES=CLAIM_STATUS_NAMES,
        get_locale=get_locale,
    )

    @app.context_processor
    def unread():
        from flask_login import current_user

        from app.core.db import db
        from app.notifications.services import unread_count

        if getattr(current_user, "is_authenticated", False):
            return {"unread_notifications": unread_count(db.session, current_user.id)}
        return {"unread_notifications": 0}
