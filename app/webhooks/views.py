"""The client's webhook settings: endpoints (URL, events, secret), disable/enable, delete, test, deliveries."""

from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.core.db import db
from app.core.web import form_status, now, role_required, run
from app.webhooks import queries, services
from app.webhooks.forms import CreateEndpointForm

bp = Blueprint("webhooks", __name__, url_prefix="/client/settings/webhooks")


def _page(form, status: int = 200):
    org_id = current_user.organisation_id
    return render_template("webhooks/settings.html", form=form, endpoints=queries.endpoints_of(db.session, org_id),
                           deliveries=queries.recent_deliveries(db.session, org_id)), status


@bp.route("", methods=["GET", "POST"])
@role_required("client")
def settings():
    form = CreateEndpointForm()
    error = None
    if form.validate_on_submit():
        endpoint, error = run(lambda: services.create_endpoint(
            db.session, organisation_id=current_user.organisation_id, user_id=current_user.id, url=form.url.data,
            events=form.events.data or [], allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"],
            now=now()), form=form)
        if error is None:
            flash(_("Endpoint added. Use its secret to verify the signature of every request."), "success")
            return redirect(url_for("webhooks.settings"))
    return _page(form, form_status(error))


def _endpoint_action(endpoint_id: int, action, message: str):
    """One button on an endpoint of the member's organisation (another organisation's id is a 404), then back."""
    organisation_id = current_user.organisation_id
    services.get_endpoint_for_org(db.session, endpoint_id, organisation_id)
    _result, error = run(lambda: action(db.session, endpoint_id=endpoint_id, organisation_id=organisation_id))
    if error is not None:
        raise error
    flash(message, "success")
    return redirect(url_for("webhooks.settings"))


@bp.route("/<int:endpoint_id>/disable", methods=["POST"])
@role_required("client")
def disable(endpoint_id):
    return _endpoint_action(endpoint_id, partial(services.set_active, active=False),
                            _("Endpoint disabled: no new events are sent to it."))


@bp.route("/<int:endpoint_id>/enable", methods=["POST"])
@role_required("client")
def enable(endpoint_id):
    return _endpoint_action(endpoint_id, partial(services.set_active, active=True), _("Endpoint enabled."))


@bp.route("/<int:endpoint_id>/delete", methods=["POST"])
@role_required("client")
def delete(endpoint_id):
    return _endpoint_action(endpoint_id, services.delete_endpoint, _("Endpoint deleted, with its delivery history."))


@bp.route("/<int:endpoint_id>/test", methods=["POST"])
@role_required("client")
def send_test(endpoint_id):
    return _endpoint_action(endpoint_id, partial(services.send_test_event, now=now()),
                            _("Test event queued. Its result appears under Recent deliveries."))
