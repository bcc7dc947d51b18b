"""The admin area: members, verification, tags, suspension, campaigns and the audit log."""

from datetime import datetime, time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.admin.forms import ReasonForm, TagGrantForm, TierForm
from app.campaigns import queries as campaign_queries
from app.campaigns.forms import ConfirmForm
from app.campaigns.models import CampaignStatus
from app.core.db import db
from app.core.timefmt import display_tz
from app.core.web import form_status, now, role_required, run
from app.members import queries, services
from app.members.models import Role, Status, Tier, User
from app.members.tags import TAG_CODES

bp = Blueprint("admin", __name__, url_prefix="/admin")
CAMPAIGN_STATUSES = {s.value for s in CampaignStatus}


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        return 1


@bp.route("/")
@role_required("admin")
def index():
    return render_template("admin/index.html", counts=queries.counts(db.session),
                           queue=queries.verification_queue(db.session, limit=10), confirm=ConfirmForm())


def _search_text(value: str | None, limit: int) -> str | None:
    """Typed search text: trimmed, capped, without NUL bytes (PostgreSQL refuses them in a query)."""
    return (value or "").replace("\x00", "").strip()[:limit] or None


@bp.route("/members")
@role_required("admin")
def members():
    args = request.args
    tier = args.get("tier", "")
    filters = queries.MemberFilters(
        q=_search_text(args.get("q"), 80),
        role=args.get("role") if args.get("role") in {r.value for r in Role} else None,
        status=args.get("status") if args.get("status") in {s.value for s in Status} else None,
        tier=int(tier) if tier in {str(t.value) for t in Tier} else None,  # not isdigit(): int("²") fails
        tag=args.get("tag") if args.get("tag") in TAG_CODES else None,
        city=_search_text(args.get("city"), 40),
    )
    per_page = current_app.config["ADMIN_PAGE_SIZE"]
    page = _page()
    users, total = queries.search_members(db.session, filters, page=page, per_page=per_page)
    return render_template("admin/members.html", users=users, total=total, page=page, per_page=per_page,
                           filters=filters, cities=queries.cities(db.session), tag_codes=sorted(TAG_CODES))


@bp.route("/verification")
@role_required("admin")
def verification():
    return render_template("admin/verification.html", queue=queries.verification_queue(db.session),
                           confirm=ConfirmForm())


def _member(user_id: int) -> User:
    from app.core.errors import NotFound

    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such member."))
    return user


def _member_page(user: User, status: int = 200, **forms):
    forms.setdefault("grant", TagGrantForm(formdata=None))
    forms.setdefault("revoke", ReasonForm(formdata=None, prefix="revoke"))
    forms.setdefault("status_form", ReasonForm(formdata=None, prefix="status"))
    forms.setdefault("tier_form", TierForm(formdata=None, prefix="tier", tier=user.tier))
    from app.training.queries import member_summary

    academy = member_summary(db.session, user.id) if user.is_agent else None
    return render_template("admin/member.html", user=user, tags=queries.tags_of(db.session, user.id),
                           audit=queries.audit_entries(db.session, page=1, per_page=20, target_id=user.id),
                           confirm=ConfirmForm(), academy=academy, **forms), status


@bp.route("/members/<int:user_id>")
@role_required("admin")
def member(user_id):
    return _member_page(_member(user_id))


def _done(user_id: int, error, message: str, **forms):
    if error is None:
        flash(message, "success")
        return redirect(url_for("admin.member", user_id=user_id))
    return _member_page(_member(user_id), form_status(error), **forms)


@bp.route("/members/<int:user_id>/verify", methods=["POST"])
@role_required("admin")
def verify(user_id):
    _member(user_id)
    from app.training.services import certify_if_ready

    def verify_and_certify():
        agent = services.verify_agent(db.session, admin=current_user, agent_id=user_id, now=now())
        # A trainee who passed the required Academy courses while pending is certified by the verification.
        certify_if_ready(db.session, user_id, now())
        return agent

    result, error = run(verify_and_certify)
    if error is None:
        from app.notifications.services import notify

        run(lambda: notify(db.session, user_ids=[user_id], kind="member.verified", payload={}, now=now()))
        if request.form.get("back") == "queue":
            flash(_("Agent verified."), "success")
            return redirect(url_for("admin.verification"))
    return _done(user_id, error, _("Agent verified."))


@bp.route("/members/<int:user_id>/tags", methods=["POST"])
@role_required("admin")
def grant_tag(user_id):
    _member(user_id)
    form = TagGrantForm()
    if not form.validate_on_submit():
        return _member_page(_member(user_id), 400, grant=form)
    expires = datetime.combine(form.expires_on.data, time(23, 59), display_tz()) if form.expires_on.data else None
    result, error = run(lambda: services.grant_tag(db.session, admin=current_user, agent_id=user_id,
                                                   tag_code=form.tag.data, reason=form.reason.data,
                                                   expires_at=expires, now=now()), form=form)
    return _done(user_id, error, _("Tag granted."), grant=form)


@bp.route("/members/<int:user_id>/tags/<tag_code>/revoke", methods=["POST"])
@role_required("admin")
def revoke_tag(user_id, tag_code):
    _member(user_id)
    form = ReasonForm(prefix="revoke")
    if not form.validate_on_submit():
        return _member_page(_member(user_id), 400, revoke=form)
    result, error = run(lambda: services.revoke_tag(db.session, admin=current_user, agent_id=user_id, tag_code=tag_code,
                                               reason=form.reason.data, now=now()), form=form)
    return _done(user_id, error, _("Tag revoked."), revoke=form)


@bp.route("/members/<int:user_id>/status/<status>", methods=["POST"])
@role_required("admin")
def set_status(user_id, status):
    _member(user_id)
    form = ReasonForm(prefix="status")
    if not form.validate_on_submit():
        return _member_page(_member(user_id), 400, status_form=form)
    result, error = run(lambda: services.set_status(db.session, admin=current_user, user_id=user_id, status=status,
                                               reason=form.reason.data, now=now()), form=form)
    return _done(user_id, error, _("Status changed."), status_form=form)


@bp.route("/members/<int:user_id>/tier", methods=["POST"])
@role_required("admin")
def set_tier(user_id):
    _member(user_id)
    form = TierForm(prefix="tier")
    if not form.validate_on_submit():
        return _member_page(_member(user_id), 400, tier_form=form)
    result, error = run(lambda: services.set_tier(db.session, actor_id=current_user.id, agent_id=user_id,
                                             tier=form.tier.data, reason=form.reason.data, now=now()), form=form)
    return _done(user_id, error, _("Tier changed."), tier_form=form)


@bp.route("/campaigns")
@role_required("admin")
def campaigns():
    page = _page()
    status = request.args.get("status") if request.args.get("status") in CAMPAIGN_STATUSES else None
    rows = campaign_queries.all_campaigns(db.session, status=status, page=page,
                                          per_page=current_app.config["ADMIN_PAGE_SIZE"])
    return render_template("admin/campaigns.html", rows=rows, page=page, status=status)


@bp.route("/audit")
@role_required("admin")
def audit():
    page = _page()
    return render_template("admin/audit.html", entries=queries.audit_entries(
        db.session, page=page, per_page=current_app.config["ADMIN_PAGE_SIZE"]), page=page)
