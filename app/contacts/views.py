"""Call lists for clients (upload, import progress, error file, contacts) and the agent's work console."""

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns.services import get_campaign_for_org
from app.contacts import labels, phones, queries, services
from app.contacts.crypto import current_vault
from app.contacts.forms import CallListUploadForm, InboundContactForm, OutcomeForm
from app.contacts.models import Contact, ContactStatus
from app.core.db import commit_with_retry, db
from app.core.errors import NotFound
from app.core.timefmt import display_tz
from app.core.web import form_status, now, role_required, run
from app.kb.queries import console_suggestions

bp = Blueprint("contacts", __name__)

CONTACTS_PAGE_SIZE = 50


@bp.context_processor
def names():
    return {
        "OUTCOME_NAMES": labels.OUTCOME_NAMES, "CONTACT_STATUS_NAMES": labels.CONTACT_STATUS_NAMES,
        "CALL_LIST_STATUS_NAMES": labels.CALL_LIST_STATUS_NAMES, "CHANNEL_NAMES": labels.CHANNEL_NAMES,
        "CATEGORY_NAMES": labels.CATEGORY_NAMES, "RESOLUTION_NAMES": labels.RESOLUTION_NAMES,
    }


def _masked(contact: Contact) -> str:
    return phones.mask(current_vault().decrypt(contact.phone_ciphertext, campaign_id=contact.campaign_id))


# --- clients ----------------------------------------------------------------------------------------

def _own_campaign(campaign_id: int):
    return get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)


def _after_arg() -> int | None:
    try:
        value = int(request.args.get("after", ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def _contacts_page(campaign, form=None):
    status = request.args.get("status") or None
    status = status if status in {s.value for s in ContactStatus} else None
    rows, next_after = queries.contacts_page(db.session, campaign.id, status=status, after=_after_arg(),
                                             limit=CONTACTS_PAGE_SIZE)
    return render_template(
        "contacts/campaign_contacts.html", campaign=campaign, form=form or CallListUploadForm(),
        lists=queries.call_lists_of(db.session, campaign.id), counts=queries.status_counts(db.session, campaign.id),
        rows=[(c, _masked(c)) for c in rows], status=status, next_after=next_after,
        outbound=campaign.kind in services.OUTBOUND_KINDS,
        max_mb=current_app.config["CALL_LIST_MAX_BYTES"] // (1024 * 1024),
    )


@bp.route("/client/campaigns/<int:campaign_id>/contacts")
@role_required("client")
def campaign_contacts(campaign_id):
    return _contacts_page(_own_campaign(campaign_id))


@bp.route("/client/campaigns/<int:campaign_id>/call-lists", methods=["POST"])
@role_required("client")
def upload(campaign_id):
    campaign = _own_campaign(campaign_id)
    form = CallListUploadForm()
    error = None
    if form.validate_on_submit():
        upload = form.file.data
        call_list, error = run(lambda: services.upload_call_list(
            db.session, user_id=current_user.id, campaign=campaign, stream=upload.stream,
            filename=upload.filename or "", upload_dir=current_app.config["UPLOAD_DIR"],
            max_bytes=current_app.config["CALL_LIST_MAX_BYTES"], locale=str(get_locale() or "zh"), now=now()),
            form=form)
        if call_list is not None:
            flash(_("Uploaded. The import runs in the background; this page shows its progress."), "success")
            return redirect(url_for("contacts.call_list", call_list_id=call_list.id))
    return _contacts_page(campaign, form), form_status(error)


@bp.route("/client/call-lists/<int:call_list_id>")
@role_required("client")
def call_list(call_list_id):
    found = services.get_call_list_for_org(db.session, call_list_id, current_user.organisation_id)
    has_errors = (found.rows_rejected > 0 and not found.active and found.files_purged_at is None
                  and services.errors_path(current_app.config["UPLOAD_DIR"], found).exists())
    return render_template("contacts/call_list.html", call_list=found, campaign=found.campaign, has_errors=has_errors)


@bp.route("/client/call-lists/<int:call_list_id>/errors.csv")
@role_required("client")
def error_file(call_list_id):
    found = services.get_call_list_for_org(db.session, call_list_id, current_user.organisation_id)
    path = services.errors_path(current_app.config["UPLOAD_DIR"], found)
    if found.active or found.rows_rejected == 0 or not path.exists():
        raise NotFound(_("There is no error file for this list (it is deleted after %(days)d days).",
                         days=current_app.config["CALL_LIST_FILE_RETENTION_DAYS"]))
    stem = found.filename.rsplit(".", 1)[0] or "call-list"
    response = send_file(path, mimetype="text/csv", as_attachment=True, download_name=f"{stem}-errors.csv",
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- agents: the console ----------------------------------------------------------------------------

def _console(claim_id: int, *, outcome_form=None, inbound_form=None, revealed: str | None = None):
    current = now()
    claim, campaign = services.console_claim(db.session, agent_id=current_user.id, claim_id=claim_id, now=current)
    outbound = campaign.kind in services.OUTBOUND_KINDS
    contact = masked = next_callback = None
    if outbound:
        held = services.held_contact_id(db.session, agent_id=current_user.id)
        if held is not None and held[1] == claim.id:
            contact = db.session.get(Contact, held[0])
            masked = _masked(contact)
        else:
            next_callback = queries.next_callback_at(db.session, campaign.id)
    if outcome_form is None:
        outcome_form = OutcomeForm(formdata=None)
        if contact is not None and contact.assigned_at is not None:
            outcome_form.duration_seconds.data = max(0, min(services.MAX_DURATION_SECONDS,
                                                            int((current - contact.assigned_at).total_seconds())))
    return render_template(
        "contacts/console.html", claim=claim, campaign=campaign, outbound=outbound, contact=contact, masked=masked,
        revealed=revealed, dial=phones.dial_string(revealed) if revealed else None, next_callback=next_callback,
        outcome_form=outcome_form, inbound_form=inbound_form or InboundContactForm(formdata=None),
        tally=queries.handled_this_claim(db.session, claim.id),
        recent=[] if outbound else queries.recent_inbound(db.session, claim.id), now=current,
        kb_suggestions=console_suggestions(db.session, campaign_id=campaign.id, contact=contact),
    )


@bp.route("/agent/claims/<int:claim_id>/console")
@role_required("agent")
def console(claim_id):
    response = current_app.make_response(_console(claim_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/agent/claims/<int:claim_id>/console/next", methods=["POST"])
@role_required("agent")
def next_contact(claim_id):
    picked = commit_with_retry(db.session, lambda: services.next_contact(
        db.session, agent_id=current_user.id, claim_id=claim_id, now=now()))
    if picked is None:
        flash(_("No contact is due right now."), "info")
    return redirect(url_for("contacts.console", claim_id=claim_id))


@bp.route("/agent/claims/<int:claim_id>/console/contacts/<int:contact_id>/reveal", methods=["POST"])
@role_required("agent")
def reveal(claim_id, contact_id):
    number, error = run(lambda: services.reveal_phone(
        db.session, agent_id=current_user.id, claim_id=claim_id, contact_id=contact_id, ip=request.remote_addr,
        vault=current_vault(), now=now()))
    if error is not None:
        return _console(claim_id), error.status
    response = current_app.make_response(_console(claim_id, revealed=number))
    response.headers["Cache-Control"] = "no-store"
    return response


def _local(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=display_tz()) if value is not None else None


@bp.route("/agent/claims/<int:claim_id>/console/contacts/<int:contact_id>/outcome", methods=["POST"])
@role_required("agent")
def outcome(claim_id, contact_id):
    form = OutcomeForm()
    error = None
    if form.validate_on_submit():
        data = services.OutcomeInput(outcome=form.outcome.data, duration_seconds=form.duration_seconds.data,
                                     notes=form.notes.data or "", callback_at=_local(form.callback_at.data),
                                     transcript=form.transcript.data or "")
        result, error = run(lambda: services.record_outcome(db.session, agent_id=current_user.id, claim_id=claim_id,
                                                            contact_id=contact_id, data=data, now=now()), form=form)
        if error is None:
            flash(_("Saved: %(outcome)s.", outcome=labels.OUTCOME_NAMES[data.outcome]), "success")
            return redirect(url_for("contacts.console", claim_id=claim_id))
    return _console(claim_id, outcome_form=form), form_status(error)


@bp.route("/agent/claims/<int:claim_id>/console/inbound", methods=["POST"])
@role_required("agent")
def log_inbound(claim_id):
    form = InboundContactForm()
    error = None
    if form.validate_on_submit():
        data = services.InboundInput(channel=form.channel.data, category=form.category.data,
                                     resolution=form.resolution.data, duration_seconds=form.duration_seconds.data,
                                     notes=form.notes.data or "", transcript=form.transcript.data or "",
                                     customer_ref=form.customer_ref.data or "",
                                     customer_ref_kind=form.customer_ref_kind.data or "phone")
        result, error = run(lambda: services.log_inbound_contact(db.session, agent_id=current_user.id,
                                                                 claim_id=claim_id, data=data, now=now(),
                                                                 vault=current_vault()), form=form)
        if error is None:
            flash(_("Contact logged."), "success")
            return redirect(url_for("contacts.console", claim_id=claim_id))
    return _console(claim_id, inbound_form=form), form_status(error)
