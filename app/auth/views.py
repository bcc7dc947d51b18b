"""Login, logout, registration of agents and client businesses, colleague invitations."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import AcceptInvitationForm, AgentRegisterForm, ClientRegisterForm, InviteForm, LoginForm
from app.core.db import db
from app.core.web import form_status, home_endpoint, now, role_required, run, safe_next
from app.extensions import limiter
from app.members import queries, services

bp = Blueprint("auth", __name__)


def _login_limit():
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            cfg = current_app.config
            try:
                user = services.authenticate(
                    db.session, email=form.email.data, password=form.password.data, now=now(),
                    max_failures=cfg["LOGIN_MAX_FAILURES"], lock_minutes=cfg["LOGIN_LOCK_MINUTES"])
            except services.LoginFailed as exc:
                db.session.commit()  # keep the failure count
                form.password.errors = [str(exc.message)]
            else:
                if cfg["PRODUCTION"] and user.email.endswith("@demo.local"):
                    form.email.errors = [_("Demo accounts are disabled on this server.")]
                else:
                    db.session.commit()
                    login_user(user, remember=form.remember.data)
                    return redirect(safe_next(home_endpoint(user)))
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.end_sessions(db.session, current_user.id)
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


@bp.route("/register/agent", methods=["GET", "POST"])
def register_agent():
    form = AgentRegisterForm()
    error = None
    if form.validate_on_submit():
        signup = services.AgentSignup(
            name=form.name.data, email=form.email.data, phone=form.phone.data, city=form.city.data,
            languages=tuple(form.languages.data), password=form.password.data)
        user, error = run(lambda: services.register_agent(db.session, signup, now=now()), form=form)
        if user:
            login_user(user)
            flash(_("Welcome! An admin will verify your account. Meanwhile, start the Academy."), "success")
            return redirect(url_for("claims.board"))
    return render_template("auth/register_agent.html", form=form), form_status(error)


@bp.route("/register/business", methods=["GET", "POST"])
def register_client():
    form = ClientRegisterForm()
    error = None
    if form.validate_on_submit():
        signup = services.ClientSignup(
            organisation=form.organisation.data, industry=form.industry.data, name=form.name.data,
            email=form.email.data, phone=form.phone.data, password=form.password.data)
        user, error = run(lambda: services.register_client(db.session, signup, now=now()), form=form)
        if user:
            login_user(user)
            flash(_("Your business account is ready. Create your first campaign."), "success")
            return redirect(url_for("campaigns.index"))
    return render_template("auth/register_client.html", form=form), form_status(error)


@bp.route("/team", methods=["GET", "POST"])
@role_required("client")
def team():

    form = InviteForm()
    link = error = None
    if form.validate_on_submit():
        result, error = run(lambda: services.invite_colleague(db.session, inviter=current_user,
                                                               email=form.email.data, now=now()), form=form)
        if result:
            link = url_for("auth.accept_invitation", token=result[1], _external=True)
            flash(_("Invitation created. Send this link to your colleague; it works once, for 7 days."), "success")
            form = InviteForm(formdata=None)
    members = queries.team_of(db.session, current_user.organisation_id)
    invitations = queries.open_invitations(db.session, current_user.organisation_id)
    status = 200 if link else form_status(error)
    return render_template("auth/team.html", form=form, members=members, invitations=invitations,
                           link=link), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation = services.find_invitation(db.session, token, now=now())
    form = AcceptInvitationForm()
    error = None
    if form.validate_on_submit():
        user, error = run(lambda: services.accept_invitation(
            db.session, token=token, name=form.name.data, phone=form.phone.data, password=form.password.data,
            now=now()), form=form)
        if user:
            login_user(user)
            return redirect(url_for("campaigns.index"))
    return render_template("auth/accept_invitation.html", form=form, invitation=invitation), form_status(error)
