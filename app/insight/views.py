"""The client's campaign dashboard (page, CSV, XLSX), the voice of the customer, the admins' platform dashboard."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user

from app.campaigns.services import get_campaign_for_org
from app.contacts.crypto import current_vault
from app.core.db import db
from app.core.timefmt import local
from app.core.web import now, role_required
from app.insight import exports, platform, voice
from app.insight.definitions import SECTIONS, shown
from app.insight.metrics import campaign_metrics

bp = Blueprint("insight", __name__)


def _own_campaign(campaign_id: int):
    """The client's own campaign; another organisation's (or a missing) one is a 404."""
    return get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)


def _metrics(campaign) -> dict:
    config = current_app.config
    return campaign_metrics(db.session, campaign_id=campaign.id, now=now(),
                            grace_minutes=config["NO_SHOW_GRACE_MINUTES"],
                            commission_bps=config["PLATFORM_COMMISSION_BPS"])


@bp.route("/client/campaigns/<int:campaign_id>/dashboard")
@role_required("client")
def campaign_dashboard(campaign_id):
    campaign = _own_campaign(campaign_id)
    m = _metrics(campaign)
    return render_template("insight/dashboard.html", campaign=campaign, m=m, sections=SECTIONS, shown=shown,
                           charts=_campaign_charts(m), now_local=local(now()).strftime("%m-%d %H:%M"))


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/client/campaigns/<int:campaign_id>/dashboard.csv")
@role_required("client")
def campaign_dashboard_csv(campaign_id):
    campaign = _own_campaign(campaign_id)
    return _download(exports.to_csv(_metrics(campaign)), "text/csv",
                     f"campaign-{campaign.id}-dashboard.csv")


@bp.route("/client/campaigns/<int:campaign_id>/dashboard.xlsx")
@role_required("client")
def campaign_dashboard_xlsx(campaign_id):
    campaign = _own_campaign(campaign_id)
    return _download(exports.to_xlsx(_metrics(campaign)),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"campaign-{campaign.id}-dashboard.xlsx")


def _campaign_charts(m: dict) -> dict:
    """Chart data for charts.js (read from <script type="application/json">); the page shows the same numbers."""
    from flask_babel import gettext

    days = m["days"]
    return {
        "fill": {"type": "bar", "percentAxis": "y2", "labels": [d["date"][5:] for d in days], "datasets": [
            {"label": gettext("Seats offered"), "data": [d["seats_offered"] for d in days], "color": "#c9cede"},
            {"label": gettext("Seats claimed"), "data": [d["seats_claimed"] for d in days], "color": "#e8483b"},
            {"label": gettext("Fill rate"), "type": "line", "yAxisID": "y2", "color": "#1e8e5a",
             "data": [None if d["fill_rate"] is None else round(d["fill_rate"] * 100, 1) for d in days]},
        ]},
        "contacts_daily": {"type": "bar", "labels": [d["date"][5:] for d in days], "datasets": [
            {"label": gettext("Contacts handled"), "data": [d["contacts"] for d in days], "color": "#e8483b"},
            {"label": gettext("No-shows"), "data": [d["no_shows"] for d in days], "color": "#b7791f"},
        ]},
        "contacts_hourly": {"type": "bar", "labels": [h["hour"][5:16].replace("T", " ") for h in m["hours"]],
                            "datasets": [{"label": gettext("Contacts handled"),
                                          "data": [h["contacts"] for h in m["hours"]], "color": "#e8483b"}]},
        "csat": {"type": "bar", "labels": ["1", "2", "3", "4", "5"], "datasets": [
            {"label": gettext("Surveys answered"), "data": [m["csat_distribution"][s] for s in "12345"],
             "colors": ["#c53030", "#dd6b20", "#b7791f", "#68a87f", "#1e8e5a"]}]},
    }


# ---- voice of the customer -------------------------------------------------------------------------------------

@bp.route("/client/campaigns/<int:campaign_id>/voice", endpoint="voice")
@role_required("client")
def voice_page(campaign_id):
    campaign = _own_campaign(campaign_id)
    period = request.args.get("period", "7")
    if period not in voice.PERIODS:
        period = "7"
    keyword = (request.args.get("keyword") or "").replace("\x00", "").strip()[:40] or None
    report = voice.keyword_report(db.session, campaign=campaign, period=period, now=now())
    drill = None
    if keyword:
        drill = voice.mentions(db.session, campaign=campaign, report=report, keyword=keyword,
                               vault=current_vault())
    return render_template("insight/voice.html", campaign=campaign, report=report, period=period,
                           periods=voice.PERIOD_NAMES, sources=voice.SOURCE_NAMES,
                           max_texts=voice.MAX_TEXTS_PER_SOURCE, keyword=keyword, drill=drill,
                           keyword_chart=voice.chart_data(report))


# ---- platform dashboard (admins) --------------------------------------------------------------------------------

@bp.route("/admin/dashboard")
@role_required("admin")
def admin_dashboard():
    figures = platform.platform_figures(db.session, now=now(),
                                        grace_minutes=current_app.config["NO_SHOW_GRACE_MINUTES"])
    return render_template("insight/admin_dashboard.html", f=figures, shown=shown,
                           charts=platform.chart_data(figures), now_local=local(now()).strftime("%m-%d %H:%M"))
