"""Knowledge-base pages: clients write their campaigns' articles, admins the platform's, agents read and search
them and get suggestions in the work console (JSON for app/static/js/assistant.js)."""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.campaigns.services import get_campaign_for_org
from app.contacts.models import InboundCategory
from app.contacts.services import console_claim
from app.core.db import db
from app.core.errors import DomainError, Invalid
from app.core.web import form_status, now, role_required, run
from app.kb import queries, services
from app.kb.forms import KIND_NAMES, ArticleForm, FeedbackForm, SearchForm

bp = Blueprint("kb", __name__)


@bp.app_context_processor  # also for the console's assistant, rendered by the contacts blueprint
def names():
    return {"KB_KIND_NAMES": KIND_NAMES}


def _markdown(text: str) -> str:
    from academy.catalogue import render_markdown  # the Academy's Markdown + nh3 sanitiser

    return render_markdown(text)


def _input(form: ArticleForm) -> services.ArticleInput:
    return services.ArticleInput(kind=form.kind.data or "", title=form.title.data or "", body=form.body.data or "",
                                 tags=form.tags.data or "", category=form.category.data or None)


def _query() -> str:
    form = SearchForm(request.args)
    return (form.q.data or "").strip() if form.validate() else ""


# --- clients ----------------------------------------------------------------------------------------

@bp.route("/client/campaigns/<int:campaign_id>/kb")
@role_required("client")
def campaign_articles(campaign_id):
    campaign = get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)
    q = _query()
    results = queries.search_articles(db.session, q, campaign_id=campaign.id) if q else None
    return render_template("kb/campaign_articles.html", campaign=campaign, q=q, results=results,
                           articles=queries.campaign_articles(db.session, campaign.id) if results is None else [])


@bp.route("/client/campaigns/<int:campaign_id>/kb/new", methods=["GET", "POST"])
@role_required("client")
def new_campaign_article(campaign_id):
    campaign = get_campaign_for_org(db.session, campaign_id, current_user.organisation_id)
    return _new(campaign, action=url_for("kb.new_campaign_article", campaign_id=campaign.id),
                back=url_for("kb.campaign_articles", campaign_id=campaign.id), shown="kb.client_article")


@bp.route("/client/kb/<int:article_id>")
@role_required("client")
def client_article(article_id):
    article = services.get_article_for_org(db.session, article_id, current_user.organisation_id)
    return _show(article, back=url_for("kb.campaign_articles", campaign_id=article.campaign_id),
                 edit="kb.edit_article", archive="kb.archive_article")


@bp.route("/client/kb/<int:article_id>/edit", methods=["GET", "POST"])
@role_required("client")
def edit_article(article_id):
    article = services.get_article_for_org(db.session, article_id, current_user.organisation_id)
    return _edit(article, shown="kb.client_article")


@bp.route("/client/kb/<int:article_id>/archive", methods=["POST"])
@role_required("client")
def archive_article(article_id):
    article = services.get_article_for_org(db.session, article_id, current_user.organisation_id)
    return _archive(article, back=url_for("kb.campaign_articles", campaign_id=article.campaign_id))


# The bodies shared by the clients' (campaign) and the admins' (platform) pages; the routes check who may see what.

def _new(campaign, *, action: str, back: str, shown: str):
    """Write a new article (campaign None: a platform article), then show it at the `shown` endpoint."""
    form = ArticleForm()
    error = None
    if form.validate_on_submit():
        article, error = run(lambda: services.create_article(db.session, author=current_user, campaign=campaign,
                                                             data=_input(form), now=now()), form=form)
        if error is None:
            flash(_("Article saved."), "success")
            return redirect(url_for(shown, article_id=article.id))
    return render_template("kb/edit.html", form=form, campaign=campaign, article=None, action=action,
                           back=back), form_status(error)


def _show(article, *, back: str, edit: str, archive: str):
    return render_template("kb/article.html", article=article, html=_markdown(article.body_markdown), back=back,
                           edit=url_for(edit, article_id=article.id), archive=url_for(archive, article_id=article.id))


def _edit(article, *, shown: str):
    """Change an article, then show it at the `shown` endpoint."""
    form = ArticleForm(obj=None if request.method == "POST" else article)
    if request.method == "GET":
        form.body.data = article.body_markdown
        form.category.data = article.category or ""
    error = None
    if form.validate_on_submit():
        _saved, error = run(lambda: services.update_article(db.session, article=article, editor=current_user,
                                                            data=_input(form), now=now()), form=form)
        if error is None:
            flash(_("Article saved."), "success")
            return redirect(url_for(shown, article_id=article.id))
    return render_template("kb/edit.html", form=form, campaign=article.campaign, article=article,
                           action=request.path, back=url_for(shown, article_id=article.id)), form_status(error)


def _archive(article, *, back: str):
    run(lambda: services.archive_article(db.session, article=article, editor=current_user, now=now()))
    flash(_("Article archived: agents no longer see it."), "success")
    return redirect(back)


# --- admins: platform-wide articles -----------------------------------------------------------------

@bp.route("/admin/kb")
@role_required("admin")
def admin_articles():
    q = _query()
    results = queries.search_articles(db.session, q, campaign_id=None) if q else None
    return render_template("kb/admin_articles.html", q=q, results=results,
                           articles=queries.platform_articles(db.session) if results is None else [])


@bp.route("/admin/kb/new", methods=["GET", "POST"])
@role_required("admin")
def admin_new():
    return _new(None, action=url_for("kb.admin_new"), back=url_for("kb.admin_articles"), shown="kb.admin_article")


@bp.route("/admin/kb/<int:article_id>")
@role_required("admin")
def admin_article(article_id):
    article = services.get_platform_article(db.session, article_id)
    return _show(article, back=url_for("kb.admin_articles"), edit="kb.admin_edit", archive="kb.admin_archive")


@bp.route("/admin/kb/<int:article_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def admin_edit(article_id):
    return _edit(services.get_platform_article(db.session, article_id), shown="kb.admin_article")


@bp.route("/admin/kb/<int:article_id>/archive", methods=["POST"])
@role_required("admin")
def admin_archive(article_id):
    return _archive(services.get_platform_article(db.session, article_id), back=url_for("kb.admin_articles"))


# --- agents -----------------------------------------------------------------------------------------

def _int_arg(name: str) -> int | None:
    try:
        value = int(request.values.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def _open_claim(claim_id: int | None):
    """The agent's own open (checked-in) claim, or None."""
    if claim_id is None:
        return None
    try:
        return console_claim(db.session, agent_id=current_user.id, claim_id=claim_id, now=now())[0]
    except DomainError:
        return None


@bp.route("/agent/kb/<int:article_id>")
@role_required("agent")
def agent_article(article_id):
    article = services.get_article_for_agent(db.session, agent_id=current_user.id, article_id=article_id)
    claim = _open_claim(_int_arg("claim"))
    if claim is not None and article.campaign_id not in (None, claim.campaign_id):
        claim = None
    back = url_for("contacts.console", claim_id=claim.id) if claim else url_for("claims.my_shifts")
    return render_template("kb/article.html", article=article, html=_markdown(article.body_markdown), back=back,
                           claim=claim, contact_id=_int_arg("contact"), feedback_form=FeedbackForm(formdata=None))


@bp.route("/agent/claims/<int:claim_id>/kb")
@role_required("agent")
def agent_search(claim_id):
    """The console's plain search (works without JavaScript)."""
    claim, campaign = console_claim(db.session, agent_id=current_user.id, claim_id=claim_id, now=now())
    q = _query()
    results = queries.suggest(db.session, campaign_id=campaign.id, query=q, limit=10) if q else []
    return render_template("kb/agent_search.html", claim=claim, campaign=campaign, q=q, results=results,
                           contact_id=_int_arg("contact"))


@bp.route("/agent/claims/<int:claim_id>/assist")
@role_required("agent")
def assist(claim_id):
    """Suggestions for what the agent is typing (JSON): the campaign's and the platform's articles."""
    _claim, campaign = console_claim(db.session, agent_id=current_user.id, claim_id=claim_id, now=now())
    q = (request.args.get("q") or "")[: queries.QUERY_MAX]
    category = request.args.get("category") or None
    if category not in {c.value for c in InboundCategory}:
        category = None
    contact_id = _int_arg("contact")
    items = queries.suggest(db.session, campaign_id=campaign.id, query=q, category=category)
    response = jsonify({
        "query": q,
        "suggestions": [{
            "id": s.article_id, "title": s.title, "snippet": s.snippet, "kind": str(KIND_NAMES[s.kind]),
            "platform": s.is_platform, "helped": s.helped, "not_helped": s.not_helped,
            "url": url_for("kb.agent_article", article_id=s.article_id, claim=claim_id, contact=contact_id),
            "feedback_url": url_for("kb.feedback", claim_id=claim_id, article_id=s.article_id),
        } for s in items],
    })
    response.headers["Cache-Control"] = "no-store"
    return response


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/agent/claims/<int:claim_id>/kb/<int:article_id>/feedback", methods=["POST"])
@role_required("agent")
def feedback(claim_id, article_id):
    """"Helped" / "did not help": once per article and contact (or day); repeating it changes nothing."""
    claim, _campaign = console_claim(db.session, agent_id=current_user.id, claim_id=claim_id, now=now())
    form = FeedbackForm()
    contact_id = _int_arg("contact_id")
    if request.form.get("contact_id") and contact_id is None:
        error = Invalid(_("This contact is not on your campaign."), field="contact_id")
    elif not form.validate_on_submit():
        error = Invalid(_("Choose whether the article helped."), field="helpful")
    else:
        try:
            services.record_feedback(db.session, claim=claim, article_id=article_id, helpful=form.helpful.data == "1",
                                     contact_id=contact_id, now=now())
            db.session.commit()
            error = None
        except DomainError as exc:
            db.session.rollback()
            error = exc
    if _wants_json():
        if error is not None:
            return jsonify({"ok": False, "error": str(error.message)}), error.status
        return jsonify({"ok": True, "message": _("Thanks: your feedback improves the suggestions.")})
    if error is not None:
        raise error  # the error page, with its 4xx status
    flash(_("Thanks: your feedback improves the suggestions."), "success")
    return redirect(url_for("kb.agent_article", article_id=article_id, claim=claim_id, contact=contact_id))
