"""The client's area: campaigns, shift generation and editing, publishing and cancelling."""

from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns import queries, services
from app.campaigns.forms import CampaignForm, ConfirmForm, ShiftForm, ShiftPatternForm
from app.claims import services as claims
from app.claims.queries import shifts_of
from app.core.db import db
from app.core.money import format_fen, parse_yuan
from app.core.timefmt import display_tz, local, local_today
from app.core.web import form_status, now, role_required, run
from app.ledger import services as ledger

bp = Blueprint("campaigns", __name__, url_prefix="/client")


def _own(campaign_id: int):
    return services.get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)


def _campaign_input(form: CampaignForm) -> services.CampaignInput:
    return services.CampaignInput(
        name=form.name.data, kind=form.kind.data, industry=form.industry.data,
        description=form.description.data or "", script=form.script.data or "",
        required_tags=tuple(form.required_tags.data or ()), min_tier=form.min_tier.data,
        rate_fen_per_hour=parse_yuan(form.rate.data, field="rate", allow_zero=False),
        bonus_fen_per_contact=parse_yuan(form.bonus.data or "0", field="bonus"),
        bonus_fen_per_success=parse_yuan(form.success_bonus.data or "0", field="success_bonus"),
        budget_fen=parse_yuan(form.budget.data, field="budget", allow_zero=False),
        starts_on=form.starts_on.data, ends_on=form.ends_on.data,
    )


@bp.route("/")
@role_required("client")
def index():
    rows = queries.campaigns_of(db.session, current_user.organisation_id)
    return render_template("campaigns/index.html", rows=rows)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required("client")
def new():
    form = CampaignForm()
    error = None
    if form.validate_on_submit():
        campaign, error = run(lambda: services.create_campaign(
            db.session, user=current_user, data=_campaign_input(form), now=now(), today=local_today(now())),
            form=form)
        if campaign:
            flash(_("Campaign created as a draft. Add shifts, then publish."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None), form_status(error)


@bp.route("/campaigns/<int:campaign_id>")
@role_required("client")
def detail(campaign_id):
    campaign = _own(campaign_id)
    tomorrow = local_today(now()) + timedelta(days=1)
    pattern = ShiftPatternForm(formdata=None, first_day=max(tomorrow, campaign.starts_on),
                               last_day=max(tomorrow, campaign.starts_on))
    return render_template("campaigns/detail.html", campaign=campaign, shifts=shifts_of(db.session, campaign.id),
                           pattern=pattern, confirm=ConfirmForm(), now=now())


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required("client")
def edit(campaign_id):
    campaign = _own(campaign_id)
    form = CampaignForm(obj=campaign)
    error = None
    if request.method == "GET":
        form.required_tags.data = [t.code for t in campaign.required_tags]
        form.rate.data = format_fen(campaign.rate_fen_per_hour).replace(",", "")
        form.bonus.data = format_fen(campaign.bonus_fen_per_contact).replace(",", "")
        form.success_bonus.data = format_fen(campaign.bonus_fen_per_success).replace(",", "")
        form.budget.data = format_fen(campaign.budget_fen).replace(",", "")
    elif form.validate_on_submit():
        # On a live campaign a budget change reserves more escrow (or releases what is unused).
        result, error = run(lambda: ledger.update_and_fund(
            db.session, campaign, data=_campaign_input(form), today=local_today(now()), now=now(),
            commission_bps=current_app.config["PLATFORM_COMMISSION_BPS"]), form=form)
        if error is None:
            flash(_("Campaign saved."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign), form_status(error)


@bp.route("/campaigns/<int:campaign_id>/shifts/generate", methods=["POST"])
@role_required("client")
def generate(campaign_id):
    campaign = _own(campaign_id)
    form = ShiftPatternForm()
    error = None
    if form.validate_on_submit():
        pattern = services.ShiftPattern(
            first_day=form.first_day.data, last_day=form.last_day.data, day_start=form.day_start.data,
            day_end=form.day_end.data, block_minutes=form.block_minutes.data, seats=form.seats.data)
        count, error = run(lambda: services.generate_shifts(db.session, campaign, pattern, tz=display_tz(),
                                                            now=now()), form=form)
        if error is None:
            flash(_("%(n)d shifts added.", n=count) if count else _("Those shifts already exist."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/detail.html", campaign=campaign, shifts=shifts_of(db.session, campaign.id),
                           pattern=form, confirm=ConfirmForm(), now=now()), form_status(error)


@bp.route("/shifts/<int:shift_id>/edit", methods=["GET", "POST"])
@role_required("client")
def edit_shift(shift_id):
    shift = services.get_shift_for_org(db.session, shift_id, current_user.organisation_id)
    start, end = local(shift.starts_at), local(shift.ends_at)
    form = ShiftForm(data={"day": start.date(), "start": start.time(), "end": end.time(), "seats": shift.seats}
                     if request.method == "GET" else None)
    error = None
    if form.validate_on_submit():
        tz = display_tz()
        starts_at = datetime.combine(form.day.data, form.start.data, tz)
        end_day = form.day.data + timedelta(days=1) if form.end.data <= form.start.data else form.day.data
        ends_at = datetime.combine(end_day, form.end.data, tz)
        result, error = run(lambda: services.edit_shift(db.session, shift, starts_at=starts_at, ends_at=ends_at,
                                                   seats=form.seats.data, now=now()), form=form)
        if error is None:
            run(lambda: claims.promote_waitlist(db.session, shift_id=shift.id, now=now()))
            flash(_("Shift saved."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=shift.campaign_id))
    return render_template("campaigns/shift_form.html", form=form, shift=shift, confirm=ConfirmForm()), \
        form_status(error)


def _action(campaign_id: int, unit, success: str):
    """A one-button POST: run it, then show the campaign (with the error and its 4xx status if it failed)."""
    ConfirmForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    result, error = run(unit)
    if error is None:
        flash(success, "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign_id))
    campaign = _own(campaign_id)
    return render_template("campaigns/detail.html", campaign=campaign, shifts=shifts_of(db.session, campaign.id),
                           pattern=ShiftPatternForm(formdata=None), confirm=ConfirmForm(), now=now()), error.status


@bp.route("/shifts/<int:shift_id>/remove", methods=["POST"])
@role_required("client")
def remove_shift(shift_id):
    shift = services.get_shift_for_org(db.session, shift_id, current_user.organisation_id)
    return _action(shift.campaign_id,
                   lambda: claims.remove_shift(db.session, shift=shift, actor_id=current_user.id, now=now()),
                   _("Shift removed; agents holding seats were told."))


@bp.route("/campaigns/<int:campaign_id>/publish", methods=["POST"])
@role_required("client")
def publish(campaign_id):
    campaign = _own(campaign_id)
    # Publishing moves the budget into escrow (app/ledger); an empty wallet refuses it with a 409.
    return _action(campaign.id, lambda: ledger.publish_and_fund(db.session, campaign, now()),
                   _("Published: the budget is in escrow and eligible agents can now grab seats."))


@bp.route("/campaigns/<int:campaign_id>/cancel", methods=["POST"])
@role_required("client")
def cancel(campaign_id):
    campaign = _own(campaign_id)
    return _action(campaign.id,
                   lambda: claims.cancel_campaign(db.session, campaign=campaign, actor_id=current_user.id, now=now()),
                   _("Campaign cancelled; agents holding seats were told."))
