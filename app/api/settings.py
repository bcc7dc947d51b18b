"""The client's settings page for API tokens: create (the secret is shown once), list, revoke."""

from datetime import date, datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.api import services
from app.api.forms import CreateTokenForm, RevokeTokenForm
from app.core.db import db
from app.core.errors import Invalid
from app.core.timefmt import display_tz
from app.core.web import form_status, now, role_required, run

bp = Blueprint("api_settings", __name__, url_prefix="/client/settings/api")


def _expiry(day) -> datetime | None:
    """A date means "valid through that day" in the display time zone."""
    if day is None:
        return None
    if day >= date.max:  # the day after would not exist (an OverflowError, a 500); far beyond any allowed expiry
        raise Invalid(_l("A token can be valid for at most a year."), field="expires_on")
    return datetime.combine(day + timedelta(days=1), time(0), display_tz())


@bp.route("", methods=["GET", "POST"])
@role_required("client")
def tokens():
    form = CreateTokenForm()
    secret = error = None
    if form.validate_on_submit():
        created, error = run(lambda: services.create_token(
            db.session, user=current_user, name=form.name.data, scope=form.scope.data,
            expires_at=_expiry(form.expires_on.data), now=now()), form=form)
        if created is not None:
            secret = created.secret
            flash(_("Token created. Copy it now: it is shown only once."), "success")
            form = CreateTokenForm(formdata=None)
    rows = services.tokens_of(db.session, current_user.organisation_id)
    response = render_template("api/tokens.html", form=form, tokens=rows, secret=secret, revoke=RevokeTokenForm(),
                               now=now())
    status = 200 if secret else form_status(error)
    return response, status, {"Cache-Control": "no-store"}


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@role_required("client")
def revoke(token_id):
    RevokeTokenForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    result, error = run(lambda: services.revoke_token(db.session, user=current_user, token_id=token_id, now=now()))
    if error is not None and error.status == 404:
        raise error
    if error is None:
        flash(_("Token revoked: requests with it are refused from now on."), "success")
    return redirect(url_for("api_settings.tokens"))
