"""Landing page, language switch, notifications and health checks."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import text

from app.core.db import db
from app.core.web import home_endpoint, now, safe_next
from app.notifications import services as notifications

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    return render_template("main/index.html")


@bp.route("/language", methods=["POST"])
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
            db.session.commit()
    return redirect(safe_next("main.index"))


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications_page():
    if request.method == "POST":
        notifications.mark_all_read(db.session, current_user.id, now())
        db.session.commit()
        return redirect(url_for("main.notifications_page"))
    items = notifications.list_for(db.session, current_user.id)
    return render_template("main/notifications.html", items=items, render=notifications.render)


@bp.route("/healthz")
def healthz():
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers, and Redis when configured."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
        checks["database"] = "ok"
    except Exception:
        db.session.rollback()
        checks["database"] = "down"
    if current_app.config.get("REDIS_URL"):
        try:
            from app.core.redisq import redis_connection

            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "down"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503
