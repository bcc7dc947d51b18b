"""The agent working a shift: check in, check out (buttons live on My shifts)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns.forms import ConfirmForm
from app.core.db import db
from app.core.web import now, role_required, run
from app.work import policies, services

bp = Blueprint("work", __name__, url_prefix="/agent")


def _window() -> tuple[timedelta, timedelta]:
    config = current_app.config
    return timedelta(minutes=config["CHECKIN_OPENS_MINUTES"]), timedelta(minutes=config["NO_SHOW_GRACE_MINUTES"])


@bp.app_context_processor
def attendance_helpers():
    """`attendance(claim, now)` for templates: which button a claim shows, and when check-in opens."""

    def attendance(claim, at):
        opens, grace = _window()
        first, last = policies.check_in_window(claim.starts_at, claim.ends_at, opens=opens, grace=grace,
                                               claimed_at=claim.claimed_at)
        return {
            "can_check_in": bool(policies.can_check_in(status=claim.status, starts_at=claim.starts_at,
                                                       ends_at=claim.ends_at, now=at, opens=opens, grace=grace,
                                                       claimed_at=claim.claimed_at)),
            "can_check_out": bool(policies.can_check_out(status=claim.status)),
            "opens_at": first, "closes_at": last, "early": at < claim.ends_at,
        }

    return {"attendance": attendance}


def _back(error, success: str):
    """Back to My shifts; a refusal shows there with its 4xx status."""
    if error is None:
        flash(success, "success")
        return redirect(url_for("claims.my_shifts"))
    from app.claims.views import my_shifts

    return my_shifts(), error.status


@bp.route("/claims/<int:claim_id>/check-in", methods=["POST"])
@role_required("agent")
def check_in(claim_id):
    ConfirmForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    opens, grace = _window()
    result, error = run(lambda: services.check_in(db.session, agent_id=current_user.id, claim_id=claim_id, now=now(),
                                             opens=opens, grace=grace))
    return _back(error, _("Checked in. Have a good shift!"))


@bp.route("/claims/<int:claim_id>/check-out", methods=["POST"])
@role_required("agent")
def check_out(claim_id):
    ConfirmForm().validate_on_submit()
    claim, error = run(lambda: services.check_out(db.session, agent_id=current_user.id, claim_id=claim_id,
                                                  now=now()))
    if error is None and claim.left_early:
        return _back(None, _("Checked out early: %(n)d minutes worked.", n=claim.worked_minutes))
    return _back(error, _("Checked out: %(n)d minutes worked.", n=claim.worked_minutes if claim else 0))
