"""Money pages: the client's wallet, the agent's earnings, the admin's payouts, disputes and ledger check."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.campaigns.forms import ConfirmForm
from app.core.db import db
from app.core.money import parse_yuan
from app.core.web import now, role_required, run
from app.ledger import accounts, queries, services
from app.ledger.forms import DisputeForm, PayoutForm, TopUpForm
from app.ledger.journal import balance_of
from app.ledger.payments import get_provider

bp = Blueprint("ledger", __name__)

TRANSACTION_KIND_NAMES = {
    "topup": _l("Top-up"), "escrow": _l("Escrow for a campaign"), "escrow_release": _l("Budget lowered"),
    "settle": _l("Settlement"), "refund": _l("Refund of unused escrow"), "payout": _l("Payout requested"),
    "payout_sent": _l("Payout sent"), "reversal": _l("Reversal"),
}
DISPUTE_STATUS_NAMES = {"open": _l("Contested"), "upheld": _l("Dispute upheld"), "rejected": _l("Dispute rejected")}
PAYOUT_STATUS_NAMES = {"pending": _l("Waiting for approval"), "approved": _l("Sent"), "rejected": _l("Rejected")}


@bp.app_context_processor
def money_names():
    return {"TRANSACTION_KIND_NAMES": TRANSACTION_KIND_NAMES, "DISPUTE_STATUS_NAMES": DISPUTE_STATUS_NAMES,
            "PAYOUT_STATUS_NAMES": PAYOUT_STATUS_NAMES}


# ---- client -----------------------------------------------------------------------------------------------------

def _wallet_page(form: TopUpForm | None = None, status: int = 200):
    org_id = current_user.organisation_id
    if form is None:
        form = TopUpForm(formdata=None)
    form.reference.data = uuid.uuid4().hex  # a fresh one-time reference for the next top-up
    return render_template(
        "ledger/wallet.html", form=form, dispute_form=DisputeForm(formdata=None),
        balance=balance_of(db.session, accounts.client_wallet(org_id)),
        escrow=queries.escrow_rows(db.session, org_id), settlements=queries.settlements_for_org(db.session, org_id),
        activity=queries.wallet_activity(db.session, org_id), now=now(),
        window_hours=current_app.config["DISPUTE_WINDOW_HOURS"],
    ), status


@bp.route("/client/wallet")
@role_required("client")
def wallet():
    return _wallet_page()


@bp.route("/client/wallet/top-up", methods=["POST"])
@role_required("client")
def top_up():
    form = TopUpForm()
    if not form.validate_on_submit():
        return _wallet_page(form, 400)

    def unit():
        amount = parse_yuan(form.amount.data, field="amount", allow_zero=False)
        # The charge happens before the write transaction; its payment id makes the credit idempotent.
        payment = get_provider(current_app.config["PAYMENT_PROVIDER"]).charge(
            organisation_id=current_user.organisation_id, amount_fen=amount, reference=form.reference.data)
        return services.top_up(db.session, organisation_id=current_user.organisation_id, payment=payment, now=now())

    posted, error = run(unit, form=form)
    if error is not None:
        return _wallet_page(form, error.status)
    flash(_("Wallet topped up.") if posted.created else _("This top-up was already credited."), "success")
    return redirect(url_for("ledger.wallet"))


@bp.route("/client/settlements/<int:settlement_id>/dispute", methods=["POST"])
@role_required("client")
def dispute(settlement_id):
    services.get_settlement_for_org(db.session, settlement_id, current_user.organisation_id)  # 404 for others
    form = DisputeForm()
    if not form.validate_on_submit():
        flash(_("Say what is wrong with this settlement."), "error")
        return _wallet_page(status=400)
    result, error = run(lambda: services.contest_settlement(
        db.session, organisation_id=current_user.organisation_id, user_id=current_user.id,
        settlement_id=settlement_id, reason=form.reason.data, now=now()))
    if error is not None:
        return _wallet_page(status=error.status)
    flash(_("Settlement contested. An admin will decide."), "success")
    return redirect(url_for("ledger.wallet"))


# ---- agent ------------------------------------------------------------------------------------------------------

def _earnings_page(form: PayoutForm | None = None, status: int = 200):
    agent_id = current_user.id
    current = now()
    earnings = queries.earnings_of(db.session, agent_id, current)
    if form is None:
        form = PayoutForm(formdata=None)
    return render_template(
        "ledger/earnings.html", form=form, earnings=earnings,
        settlements=queries.settlements_for_agent(db.session, agent_id),
        unsettled=queries.unsettled_work(db.session, agent_id), payouts=queries.payouts_of(db.session, agent_id),
        min_fen=current_app.config["PAYOUT_MIN_FEN"], now=current,
    ), status


@bp.route("/agent/earnings")
@role_required("agent")
def earnings():
    return _earnings_page()


@bp.route("/agent/payouts", methods=["POST"])
@role_required("agent")
def request_payout():
    form = PayoutForm()
    if not form.validate_on_submit():
        return _earnings_page(form, 400)
    result, error = run(lambda: services.request_payout(
        db.session, agent_id=current_user.id, amount_fen=parse_yuan(form.amount.data, field="amount",
                                                                     allow_zero=False),
        now=now(), min_fen=current_app.config["PAYOUT_MIN_FEN"]), form=form)
    if error is not None:
        return _earnings_page(form, error.status)
    flash(_("Payout requested. An admin will approve it."), "success")
    return redirect(url_for("ledger.earnings"))


# ---- admin ------------------------------------------------------------------------------------------------------

@bp.route("/admin/money")
@role_required("admin")
def admin_money():
    check = request.args.get("check") == "1"
    return render_template(
        "ledger/admin.html", totals=queries.totals_by_group(db.session),
        payouts=queries.pending_payouts(db.session), disputes=queries.open_disputes(db.session),
        short=queries.short_settlements(db.session),
        problems=queries.check_invariants(db.session) if check else None, confirm=ConfirmForm(),
    )


def _admin_action(unit, success: str):
    ConfirmForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    result, error = run(unit)
    if error is None:
        flash(success, "success")
    return redirect(url_for("ledger.admin_money")) if error is None else (admin_money(), error.status)


@bp.route("/admin/payouts/<int:payout_id>/approve", methods=["POST"])
@role_required("admin")
def approve_payout(payout_id):
    return _admin_action(lambda: services.approve_payout(db.session, admin_id=current_user.id, payout_id=payout_id,
                                                         now=now()), _("Payout approved and sent."))


@bp.route("/admin/payouts/<int:payout_id>/reject", methods=["POST"])
@role_required("admin")
def reject_payout(payout_id):
    return _admin_action(lambda: services.reject_payout(db.session, admin_id=current_user.id, payout_id=payout_id,
                                                        now=now()), _("Payout rejected; the money is back in "
                                                                      "the agent's earnings."))


@bp.route("/admin/disputes/<int:dispute_id>/uphold", methods=["POST"])
@role_required("admin")
def uphold_dispute(dispute_id):
    return _admin_action(lambda: services.uphold_dispute(db.session, admin_id=current_user.id,
                                                         dispute_id=dispute_id, now=now()),
                         _("Dispute upheld; the settlement was reversed."))


@bp.route("/admin/disputes/<int:dispute_id>/reject", methods=["POST"])
@role_required("admin")
def reject_dispute(dispute_id):
    return _admin_action(lambda: services.reject_dispute(db.session, admin_id=current_user.id,
                                                         dispute_id=dispute_id, now=now()),
                         _("Dispute rejected; the settlement stands."))
