"""Public survey page; the client's quality page; admin flags; the agent's rating page."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns.services import get_campaign_for_org
from app.core.db import db
from app.core.web import form_status, now, role_required, run
from app.quality import services
from app.quality.forms import CampaignRatingForm, QaRulesForm, ShiftRatingForm, SurveyForm
from app.quality.models import FlagStatus, QaRules
from app.ratings import rules as rating_rules
from app.ratings import services as ratings

bp = Blueprint("quality", __name__)


def _secret() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _courses() -> dict:
    """The Academy's courses (none when its catalogue is broken: rules then cannot assign one)."""
    from academy.errors import CatalogueError
    from app.training import current_catalogue

    try:
        return current_catalogue().courses
    except CatalogueError:
        return {}


def _course_choices():
    lang = "zh" if str(get_locale()).startswith("zh") else "en"
    return [("", _("None"))] + [(c.slug, c.title.get(lang)) for c in _courses().values()]


@bp.route("/s/<token>", methods=["GET", "POST"])
def survey(token):
    """The end customer's one-time survey (in production the link goes out by SMS)."""
    item = services.find_survey(db.session, _secret(), token)
    form = SurveyForm()
    error = None
    if item.answered_at is None and form.validate_on_submit():
        _done, error = run(lambda: services.answer_survey(db.session, secret=_secret(), token=token,
                                                      score=form.score.data, comment=form.comment.data, now=now()),
                       form=form)
        if error is None:
            return render_template("quality/survey_thanks.html"), 200
    expired = item.answered_at is None and item.expires_at <= now()
    status = form_status(error) if request.method == "POST" else (410 if expired else 200)
    if request.method == "POST" and item.answered_at is not None:
        status = 409
    return render_template("quality/survey.html", form=form, survey=item, expired=expired), status


@bp.route("/client/campaigns/<int:campaign_id>/quality", methods=["GET", "POST"])
@role_required("client")
def campaign_quality(campaign_id):
    campaign = get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)
    rules = db.session.get(QaRules, campaign.id)
    form = QaRulesForm(obj=None if request.method == "POST" else rules)
    form.lesson_course.choices = _course_choices()
    if request.method == "GET" and rules:
        form.required_phrases.data = "\n".join(rules.required_phrases)
        form.forbidden_words.data = "\n".join(rules.forbidden_words)
        form.max_duration_minutes.data = rules.max_duration_seconds // 60 if rules.max_duration_seconds else None
    error = None
    if form.validate_on_submit():
        data = services.RulesInput(form.required_phrases.data or "", form.forbidden_words.data or "",
                                   form.max_duration_minutes.data, form.lesson_course.data or None)
        _done, error = run(lambda: services.set_qa_rules(
            db.session, campaign=campaign, data=data, now=now(),
            known_courses=set(_courses())), form=form)
        if error is None:
            flash(_("Quality rules saved. New contacts are inspected by the worker."), "success")
            return redirect(url_for("quality.campaign_quality", campaign_id=campaign.id))
    return render_template(
        "quality/campaign.html", campaign=campaign, form=form,
        surveys=services.surveys_for_campaign(db.session, campaign.id),
        flags=services.flags_for(db.session, campaign_ids=[campaign.id], status=None),
        worked=services.worked_claims_for_campaign(db.session, campaign.id),
        token=lambda sid: services.survey_token(_secret(), sid), rating_form=ShiftRatingForm(formdata=None),
        now=now(),
    ), form_status(error)


@bp.route("/client/claims/<int:claim_id>/rate", methods=["POST"])
@role_required("client")
def rate_shift(claim_id):
    form = ShiftRatingForm()
    from app.claims.models import Claim

    claim = db.session.get(Claim, claim_id)
    campaign_id = claim.campaign_id if claim else 0
    if form.validate_on_submit():
        _done, error = run(lambda: services.rate_shift(db.session, client=current_user, claim_id=claim_id,
                                                   score=form.score.data, comment=form.comment.data or "",
                                                   now=now()))
        if error is None:
            flash(_("Rating saved."), "success")
            return redirect(url_for("quality.campaign_quality", campaign_id=campaign_id))
        return render_template("error.html", code=error.status, message=error.message), error.status
    get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)
    return render_template("error.html", code=400, message=_("Choose a rating from 1 to 5.")), 400


@bp.route("/flags/<int:flag_id>/<decision>", methods=["POST"])
@role_required("client", "admin")
def decide_flag(flag_id, decision):
    if decision not in ("confirm", "dismiss"):
        message = _("This page does not exist, or you cannot see it.")
        return render_template("error.html", code=404, message=message), 404
    flag, error = run(lambda: services.decide_flag(db.session, user=current_user, flag_id=flag_id,
                                                   confirm=decision == "confirm", now=now()))
    if error is not None:
        return render_template("error.html", code=error.status, message=error.message), error.status
    flash(_("Flag confirmed: it lowers the agent's QA score.") if decision == "confirm" else _("Flag dismissed."),
          "success")
    if current_user.is_admin:
        return redirect(url_for("quality.admin_flags"))
    return redirect(url_for("quality.campaign_quality", campaign_id=flag.campaign_id))


@bp.route("/admin/quality/flags")
@role_required("admin")
def admin_flags():
    status = request.args.get("status", FlagStatus.OPEN)
    status = status if status in {s.value for s in FlagStatus} else FlagStatus.OPEN
    return render_template("quality/admin_flags.html", flags=services.flags_for(db.session, campaign_ids=None,
                                                                                 status=status), status=status)


@bp.route("/agent/rating")
@role_required("agent")
def my_rating():
    month, leaders = ratings.monthly_leaderboard(db.session, now=now())
    return render_template("quality/my_rating.html", rating=ratings.rating_of(db.session, current_user.id),
                           changes=ratings.changes_of(db.session, current_user.id), rules=rating_rules,
                           month=month, leaders=leaders)


@bp.route("/agent/campaigns/<int:campaign_id>/rate", methods=["GET", "POST"])
@role_required("agent")
def rate_campaign(campaign_id):
    from app.campaigns.models import Campaign
    from app.core.errors import NotFound

    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such campaign."))
    form = CampaignRatingForm()
    error = None
    if form.validate_on_submit():
        _r, error = run(lambda: services.rate_campaign(
            db.session, agent=current_user, campaign_id=campaign_id, script_quality=form.script_quality.data,
            list_quality=form.list_quality.data, comment=form.comment.data or "", now=now()), form=form)
        if error is None:
            flash(_("Thank you: your rating helps other agents choose campaigns."), "success")
            return redirect(url_for("claims.my_shifts"))
    return render_template("quality/rate_campaign.html", form=form, campaign=campaign), form_status(error)
