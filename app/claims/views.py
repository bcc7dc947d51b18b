"""The agent's area: the shift board, a shift's page, grabbing and releasing seats, the waitlist."""

from datetime import date, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app.campaigns.forms import ConfirmForm
from app.campaigns.models import CampaignKind, CampaignStatus, Shift
from app.claims import queries, services
from app.core.db import db
from app.core.errors import DomainError, NotFound
from app.core.timefmt import day_bounds
from app.core.web import cutoff, now, role_required, run
from app.extensions import limiter
from app.members.tags import INDUSTRY_CODES

bp = Blueprint("claims", __name__, url_prefix="/agent")


def _filters() -> queries.BoardFilters:
    """Board filters from the query string; unknown values are ignored, not errors."""
    kind = request.args.get("kind") or None
    industry = request.args.get("industry") or None
    day_start = day_end = None
    try:
        day = date.fromisoformat(request.args.get("day", ""))
        day_start, day_end = day_bounds(day)
    except (ValueError, OverflowError):  # not a date, or 0001-01-01 / 9999-12-31 (no UTC bounds)
        day = None
    return queries.BoardFilters(
        kind=kind if kind in {k.value for k in CampaignKind} else None,
        industry=industry if industry in INDUSTRY_CODES else None,
        day_start=day_start, day_end=day_end, show_all=request.args.get("show") == "all",
    )


def _cursor():
    raw = request.args.get("after", "")
    try:
        stamp, shift_id = raw.rsplit("_", 1)
        return datetime.fromisoformat(stamp), int(shift_id)
    except ValueError:
        return None


@bp.route("/shifts")
@role_required("agent")
def board():
    filters = _filters()
    rows, cursor = queries.shift_board(db.session, agent=current_user, now=now(), filters=filters,
                                       after=_cursor(), limit=current_app.config["BOARD_PAGE_SIZE"])
    next_after = f"{cursor[0].isoformat()}_{cursor[1]}" if cursor else None
    return render_template("claims/board.html", rows=rows, filters=filters, next_after=next_after,
                           kinds=list(CampaignKind), industries=INDUSTRY_CODES, confirm=ConfirmForm())


def _shift(shift_id: int) -> Shift:
    from app.campaigns.models import CampaignStatus

    shift = db.session.get(Shift, shift_id)
    # Drafts are invisible to agents: only offered (or once-offered) campaigns have public shifts.
    if shift is None or shift.campaign.status == CampaignStatus.DRAFT:
        raise NotFound(_("No such shift."))
    return shift


@bp.route("/shifts/<int:shift_id>")
@role_required("agent")
def shift_page(shift_id):
    shift = _shift(shift_id)
    standing = queries.shift_standing(db.session, agent=current_user, shift=shift, now=now())
    return render_template("claims/shift.html", shift=shift, standing=standing, confirm=ConfirmForm(), now=now())


def _after_action(shift_id: int, error, success: str):
    if error is None:
        flash(success, "success")
        return redirect(url_for("claims.shift_page", shift_id=shift_id))
    shift = _shift(shift_id)
    standing = queries.shift_standing(db.session, agent=current_user, shift=shift, now=now())
    return render_template("claims/shift.html", shift=shift, standing=standing, confirm=ConfirmForm(), now=now(),
                           error=error), error.status


def _claim_limit() -> str:
    return current_app.config["CLAIM_RATE_LIMIT"]


def _agent_key() -> str:
    """Claims are rate-limited per member, not per address (many agents of a call centre share one)."""
    return f"claim:{current_user.id}" if current_user.is_authenticated else get_remote_address()


@bp.route("/shifts/<int:shift_id>/claim", methods=["POST"])
@role_required("agent")
@limiter.limit(_claim_limit, key_func=_agent_key)
def claim(shift_id):
    # The hot path of a claim storm (docs/performance.md, claim_storm): no ORM reads, three statements for a
    # refusal (the member, the claim's UPDATE, one query explaining the refusal), a small refusal page.
    # The message is translated first: choosing the language reads the member, which after the commit
    # would be one more query.
    success = _("Seat grabbed! It is in My shifts.")
    try:
        services.claim_shift(db.session, agent=current_user, shift_id=shift_id, now=now())
        db.session.commit()
    except DomainError as error:
        facts = getattr(error, "facts", None)
        if facts is None:  # lost a race inside the INSERT (same agent, same or overlapping shift): ask afresh
            db.session.rollback()
            facts = queries.claim_facts(db.session, agent_id=current_user.id, shift_id=shift_id, now=now())
        if facts is None or facts.campaign_status == CampaignStatus.DRAFT:  # drafts are invisible to agents
            db.session.rollback()
            raise NotFound(_("No such shift.")) from None
        # Nothing was written; the transaction ends after the page is built (a rollback first would expire the
        # member, and the page would load it again). The small standalone page is rendered without the context
        # processors: it has no layout, so no unread count to query.
        page = current_app.jinja_env.get_template("claims/refused.html").render(facts=facts, error=error)
        db.session.rollback()
        return page, error.status
    flash(success, "success")
    return redirect(url_for("claims.shift_page", shift_id=shift_id))


@bp.route("/shifts/<int:shift_id>/waitlist", methods=["POST"])
@role_required("agent")
def join_waitlist(shift_id):
    _shift(shift_id)
    result, error = run(lambda: services.join_waitlist(db.session, agent=current_user, shift_id=shift_id, now=now()))
    return _after_action(shift_id, error, _("You are on the waitlist. We will give you the next free seat."))


@bp.route("/shifts/<int:shift_id>/waitlist/leave", methods=["POST"])
@role_required("agent")
def leave_waitlist(shift_id):
    _shift(shift_id)
    result, error = run(lambda: services.leave_waitlist(db.session, agent=current_user, shift_id=shift_id, now=now()))
    return _after_action(shift_id, error, _("You left the waitlist."))


@bp.route("/claims/<int:claim_id>/release", methods=["POST"])
@role_required("agent")
def release(claim_id):
    claim = services.get_own_claim(db.session, agent=current_user, claim_id=claim_id)
    result, error = run(lambda: services.release_claim(db.session, agent=current_user, claim_id=claim_id,
                                                       now=now(), cutoff=cutoff()))
    if error is None:
        late = result.status == "late_cancelled"
        flash(_("Seat released. This was a late cancellation and counts against your reliability.") if late
              else _("Seat released."), "warning" if late else "success")
        return redirect(url_for("claims.my_shifts"))
    return _after_action(claim.shift_id, error, "")


@bp.route("/my-shifts")
@role_required("agent")
def my_shifts():
    current = now()
    return render_template(
        "claims/my_shifts.html",
        upcoming=queries.my_claims(db.session, current_user.id, upcoming=True, now=current),
        past=queries.my_claims(db.session, current_user.id, upcoming=False, now=current, limit=30),
        waiting=queries.my_waitlist(db.session, current_user.id, current),
        confirm=ConfirmForm(), now=current, cutoff=cutoff(),
    )
