"""The Academy's pages (/academy) and its admin pages (/admin/academy). Thin: parse, call a service, commit once."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from academy import Catalogue, CatalogueError, Course, Localized
from academy import policy as rules
from academy.gamification import BADGES
from app.core.db import db
from app.core.errors import DomainError, NotFound
from app.core.web import now, role_required, run
from app.extensions import limiter, member_or_address
from app.members.models import Role, User
from app.training import current_catalogue, queries, services
from app.training.forms import AnswerForm, ArticleForm, AskQuestionForm, RecordingForm, RejectForm
from app.training.models import (
    Attempt,
    AttemptStatus,
    Certification,
    CertificationStatus,
    ExpertArticle,
    KnowledgeQuestion,
)

bp = Blueprint("training", __name__, url_prefix="/academy")
admin_bp = Blueprint("training_admin", __name__, url_prefix="/admin/academy")

BADGE_BY_CODE = {b.code: b for b in BADGES}
CERT_STATUS_NAMES = {
    CertificationStatus.AWAITING_UPLOAD: _l("waiting for the mock call"),
    CertificationStatus.PENDING_REVIEW: _l("in review"),
    CertificationStatus.GRANTED: _l("granted"),
    CertificationStatus.REJECTED: _l("rejected"),
}
LIKERT = (1, 2, 3, 4, 5)
POST_LIMIT = "30 per hour"


def _quiz_limit() -> str:
    """Quiz starts and submissions per agent (QUIZ_RATE_LIMIT): a person never needs more; a script guessing does."""
    return current_app.config["QUIZ_RATE_LIMIT"]


class AcademyUnavailable(DomainError):
    status = 503
    code = "academy_unavailable"


def _lang() -> str:
    return str(get_locale() or "zh")


@bp.app_context_processor
def academy_globals() -> dict:
    return {"CERT_STATUS_NAMES": CERT_STATUS_NAMES}


@bp.app_template_filter("loc")
def localized(value) -> str:
    """A catalogue text in the page's language."""
    return value.get(_lang()) if isinstance(value, Localized) else (value or "")


@bp.app_template_filter("age")
def age(moment: datetime | None) -> str:
    """How long ago, for the review queue: 40 min, 5 h, 3 d."""
    if moment is None:
        return ""
    minutes = max(0, int((now() - moment).total_seconds() // 60))
    if minutes < 60:
        return _("%(n)d min", n=minutes)
    if minutes < 48 * 60:
        return _("%(n)d h", n=minutes // 60)
    return _("%(n)d d", n=minutes // (24 * 60))


@bp.app_template_global("academy_dimension")
def dimension_name(assessment_slug: str, code: str) -> str:
    """A dimension's name in the page's language (the admin's member page shows results)."""
    try:
        return current_catalogue().assessments[assessment_slug].dimension(code).name.get(_lang())
    except (CatalogueError, KeyError):
        return code


@bp.app_template_global("academy_title")
def academy_title(kind: str, slug: str) -> str:
    """A course's or an assessment's title in the page's language (its slug if unknown)."""
    try:
        catalogue = current_catalogue()
        item = catalogue.courses[slug] if kind == "course" else catalogue.assessments[slug]
        return item.title.get(_lang())
    except (CatalogueError, KeyError):
        return slug


def _catalogue() -> Catalogue:
    try:
        return current_catalogue()
    except CatalogueError:
        raise AcademyUnavailable(_("The Academy is being updated. Try again later.")) from None


def _course(catalogue: Catalogue, slug: str) -> Course:
    course = catalogue.courses.get(slug)
    if course is None:
        raise NotFound(_("There is no such course."))
    return course


def _upload_dir() -> Path:
    configured = current_app.config.get("ACADEMY_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def _max_upload() -> int:
    return int(current_app.config.get("ACADEMY_UPLOAD_MAX_BYTES", 10 * 1024 * 1024))


def _badges(codes) -> list:
    return [BADGE_BY_CODE[c] for c in codes if c in BADGE_BY_CODE]


def path_text(step, catalogue: Catalogue) -> str:
    """"2 courses to unlock 14 open shifts this week" for one learning-path step."""
    return ngettext("%(num)d course to unlock %(shifts)d open shifts this week",
                    "%(num)d courses to unlock %(shifts)d open shifts this week",
                    len(step.courses_needed), shifts=step.unlocks_shifts)


# ---------------------------------------------------------------- the member's Academy


@bp.route("/")
@role_required("agent", "admin")
def index():
    if current_user.role == Role.ADMIN:
        return redirect(url_for("training_admin.index"))
    catalogue = _catalogue()
    current = now()
    steps = queries.path_for(db.session, current_user.id, catalogue, current)
    return render_template(
        "training/index.html", catalogue=catalogue, cards=queries.course_cards(db.session, current_user.id,
                                                                                catalogue, current),
        level=queries.level_of(db.session, current_user.id),
        streak=queries.current_streak(db.session, current_user.id, current),
        badges=_badges(queries.badge_codes(db.session, current_user.id)), all_badges=BADGES,
        steps=[s for s in steps if s.unlocks_shifts > 0][:3], path_text=path_text,
        open_attempt=queries.open_attempt_of(db.session, current_user.id),
        results=queries.latest_results(db.session, current_user.id), now=current)


def _course_page(slug: str, *, status: int = 200, error: str | None = None, upload: RecordingForm | None = None):
    catalogue = _catalogue()
    course = _course(catalogue, slug)
    context = {"catalogue": catalogue, "course": course, "error": error, "now": now(),
               "upload": upload or RecordingForm(formdata=None), "max_mb": _max_upload() // (1024 * 1024)}
    if current_user.role == Role.AGENT:
        context.update(
            state=services.course_state(db.session, current_user.id, course, now()),
            attempts=queries.attempts_at(db.session, current_user.id, slug),
            certifications=queries.certifications_of(db.session, current_user.id, slug),
            passed=services.passed_slugs(db.session, current_user.id, now()),
            psych=queries.latest_results(db.session, current_user.id).get("psych"))
    return render_template("training/course.html", **context), status


@bp.route("/courses/<slug>")
@role_required("agent", "admin")
def course(slug):
    return _course_page(slug)


@bp.route("/courses/<slug>/lessons/<name>")
@role_required("agent", "admin")
def lesson(slug, name):
    catalogue = _catalogue()
    course = _course(catalogue, slug)
    names = [lesson.name for lesson in course.lessons]
    if name not in names:
        raise NotFound(_("There is no such lesson."))
    if current_user.role == Role.AGENT:
        run(lambda: services.open_lesson(db.session, agent_id=current_user.id, now=now(), catalogue=catalogue))
    index = names.index(name)
    return render_template("training/lesson.html", course=course, lesson=course.lesson(name), number=index + 1,
                           previous=names[index - 1] if index else None,
                           next=names[index + 1] if index + 1 < len(names) else None)


@bp.route("/courses/<slug>/start", methods=["POST"])
@role_required("agent")
@limiter.limit(_quiz_limit, key_func=member_or_address)
def start(slug):
    catalogue = _catalogue()
    _course(catalogue, slug)
    renewal = request.form.get("renewal") == "1"
    try:
        attempt = services.start_attempt(db.session, agent_id=current_user.id, slug=slug, now=now(),
                                         renewal=renewal, catalogue=catalogue)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.code == rules.ATTEMPT_ACTIVE and exc.detail.get("attempt_id"):
            flash(str(exc.message), "warning")
            return redirect(url_for("training.attempt", attempt_id=exc.detail["attempt_id"]))
        return _course_page(slug, status=exc.status, error=str(exc.message))
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


def _quiz_items(course: Course, attempt: Attempt) -> list[dict]:
    """What the quiz page may show: prompts and options in the drawn order, nothing about correctness."""
    lang = _lang()
    items = []
    for number, drawn in enumerate(attempt.questions, start=1):
        question = course.question(drawn["question_id"])
        items.append({
            "number": number, "id": question.id, "kind": question.kind, "prompt": question.prompt.get(lang),
            "options": [{"id": oid, "text": question.option(oid).text.get(lang)} for oid in drawn["option_order"]],
        })
    return items


def _quiz_page(course: Course, attempt: Attempt, *, status: int = 200, error: str | None = None,
               chosen: dict | None = None):
    return render_template("training/quiz.html", course=course, attempt=attempt, items=_quiz_items(course, attempt),
                           error=error, chosen=chosen or {}, now=now()), status


def _result_items(course: Course | None, attempt: Attempt) -> list[dict]:
    """Per question: the prompt, each option marked chosen/right, whether the answer was right, the explanation."""
    lang = _lang()
    answers = queries.answers_of(db.session, attempt.id)
    items = []
    for number, drawn in enumerate(attempt.questions, start=1):
        question = None
        if course is not None:
            try:
                question = course.question(drawn["question_id"])
            except KeyError:
                question = None
        answer = answers.get(drawn["question_id"])
        chosen = set(answer.chosen) if answer else set()
        if question is None:
            items.append({"number": number, "missing": True, "correct": bool(answer and answer.is_correct)})
            continue
        right = question.correct_option_ids
        items.append({
            "number": number, "missing": False, "prompt": question.prompt.get(lang), "kind": question.kind,
            "correct": bool(answer and answer.is_correct), "answered": bool(chosen),
            "explanation": question.explanation.get(lang),
            "options": [{"id": oid, "text": question.option(oid).text.get(lang), "chosen": oid in chosen,
                         "right": oid in right} for oid in drawn["option_order"] if oid in question.option_ids],
        })
    return items


@bp.route("/attempts/<int:attempt_id>")
@role_required("agent")
def attempt(attempt_id):
    catalogue = _catalogue()
    attempt = services.own_attempt(db.session, current_user.id, attempt_id)
    course = catalogue.courses.get(attempt.course_slug)
    if attempt.is_open:
        if course is None or course.content_hash != attempt.course_version.content_hash:
            # The course changed under the attempt: close it as void, the way a submission would.
            outcome, _error = run(lambda: services.submit_attempt(db.session, agent_id=current_user.id,
                                                                  attempt_id=attempt_id, answers={}, now=now(),
                                                                  catalogue=catalogue))
            if outcome is not None:
                _flash_outcome(outcome, catalogue)
            return redirect(url_for("training.attempt", attempt_id=attempt_id))
        if now() > attempt.deadline_at + timedelta(seconds=rules.DEFAULT_GRACE_SECONDS):
            run(lambda: services.close_overdue_attempts(db.session, now=now(), agent_id=current_user.id))
            flash(_("Time was up before the quiz was submitted, so it is recorded as failed (expired)."), "error")
            return redirect(url_for("training.attempt", attempt_id=attempt_id))
        return _quiz_page(course, attempt)
    changed = course is None or course.content_hash != attempt.course_version.content_hash
    certification = db.session.query(Certification).filter_by(attempt_id=attempt.id).one_or_none()
    return render_template("training/result.html", attempt=attempt, course=course, changed=changed,
                           items=_result_items(course, attempt), certification=certification,
                           slug=attempt.course_slug, catalogue=catalogue)


def _flash_outcome(outcome, catalogue: Catalogue) -> None:
    attempt = outcome.attempt
    if outcome.void:
        flash(_("This course was updated while you took the quiz, so this attempt does not count. Start again."),
              "warning")
    elif outcome.late:
        flash(_("Time was up: the quiz was submitted after the time limit and is recorded as failed (expired)."),
              "error")
    elif attempt.status == AttemptStatus.PASSED:
        cert = outcome.certification
        if cert is not None and cert.status == CertificationStatus.AWAITING_UPLOAD:
            flash(_("Passed with %(score)d%%! Now upload your recorded mock call for review.",
                    score=attempt.score_percent), "success")
        else:
            flash(_("Passed with %(score)d%%! Your certification is granted.", score=attempt.score_percent),
                  "success")
    else:
        flash(_("%(score)d%%: the pass mark is %(mark)d%%. Read the explanations below, then try again after the "
                "break.", score=attempt.score_percent, mark=attempt.pass_mark), "warning")


@bp.route("/attempts/<int:attempt_id>", methods=["POST"])
@role_required("agent")
@limiter.limit(_quiz_limit, key_func=member_or_address)
def submit(attempt_id):
    catalogue = _catalogue()
    # Only the answers are read: a score, a pass flag or any other field in the form is ignored.
    answers = {key[2:]: request.form.getlist(key) for key in request.form if key.startswith("q-")}
    tier_before = current_user.tier
    try:
        outcome = services.submit_attempt(db.session, agent_id=current_user.id, attempt_id=attempt_id,
                                          answers=answers, now=now(), catalogue=catalogue)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        if exc.code == "invalid_answer":
            attempt = services.own_attempt(db.session, current_user.id, attempt_id)
            course = catalogue.courses.get(attempt.course_slug)
            if attempt.is_open and course is not None:
                return _quiz_page(course, attempt, status=exc.status, error=str(exc.message), chosen=answers)
        raise
    _flash_outcome(outcome, catalogue)
    db.session.refresh(current_user)
    if current_user.tier > tier_before:
        flash(_("You passed every required course and are now certified: you can claim shifts."), "success")
    return redirect(url_for("training.attempt", attempt_id=attempt_id))


# ---------------------------------------------------------------- mock-call recordings


@bp.route("/certifications/<int:certification_id>/recording", methods=["POST"])
@role_required("agent")
def upload_recording(certification_id):
    cert = services.own_certification(db.session, current_user.id, certification_id)
    form = RecordingForm()
    file = form.recording.data
    if not form.validate_on_submit() or file is None or not getattr(file, "filename", ""):
        form.recording.errors = list(form.recording.errors) + [_("Choose an audio file to upload.")]
        return _course_page(cert.course_slug, status=400, upload=form)
    _result, error = run(lambda: services.upload_recording(
        db.session, agent_id=current_user.id, certification_id=certification_id, filename=file.filename,
        stream=file.stream, upload_dir=_upload_dir(), max_bytes=_max_upload(), now=now()), form=form)
    if error is not None:
        return _course_page(cert.course_slug, status=error.status, upload=form)
    flash(_("Recording uploaded. An admin will review it; you will get a notification."), "success")
    return redirect(url_for("training.course", slug=cert.course_slug))


@bp.route("/certifications/<int:certification_id>/recording")
@role_required("agent", "admin")
def recording(certification_id):
    """The recording, only to its owner and to admins (everyone else: 404)."""
    cert = db.session.get(Certification, certification_id)
    if cert is None or not (current_user.role == Role.ADMIN or cert.agent_id == current_user.id):
        raise NotFound(_("There is no such recording."))
    path = services.recording_path(cert, _upload_dir())
    if path is None or not path.is_file():
        raise NotFound(_("There is no such recording."))
    response = send_file(path, mimetype=services.AUDIO_MIME.get(cert.recording_type, "application/octet-stream"),
                         conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---------------------------------------------------------------- assessments


@bp.route("/assessments/<slug>", methods=["GET", "POST"])
@role_required("agent")
def assessment(slug):
    catalogue = _catalogue()
    questionnaire = catalogue.assessments.get(slug)
    if questionnaire is None:
        raise NotFound(_("There is no such assessment."))
    status, error, given = 200, None, {}
    if request.method == "POST":
        for item in questionnaire.items:
            raw = request.form.get(f"i-{item.id}", "")
            if raw:
                given[item.id] = int(raw) if raw in {"1", "2", "3", "4", "5"} else raw
        result, exc = run(lambda: services.submit_assessment(db.session, agent_id=current_user.id, slug=slug,
                                                             responses=given, now=now(), catalogue=catalogue))
        if exc is None:
            flash(_("Thank you! Your results are below."), "success")
            return redirect(url_for("training.assessment", slug=slug))
        status, error = exc.status, None  # flashed by run()
    history = queries.assessment_history(db.session, current_user.id, slug)
    return render_template("training/assessment.html", assessment=questionnaire, history=history,
                           latest=history[0] if history else None, catalogue=catalogue, given=given, likert=LIKERT,
                           error=error), status


# ---------------------------------------------------------------- leaderboard


@bp.route("/leaderboard")
@role_required("agent", "admin")
def leaderboard():
    top, mine = queries.weekly_leaderboard(db.session, agent_id=current_user.id, now=now())
    return render_template("training/leaderboard.html", top=top, mine=mine, public_name=queries.public_name,
                           week_start=queries.week_start(now()))


# ---------------------------------------------------------------- Q&A


@bp.route("/questions")
@role_required("agent", "admin")
def questions():
    catalogue = _catalogue()
    course = request.args.get("course")
    course = course if course in catalogue.courses else None
    return render_template("training/questions.html", rows=queries.list_questions(db.session, course=course),
                           catalogue=catalogue, course=course)


@bp.route("/questions/new", methods=["GET", "POST"])
@role_required("agent", "admin")
@limiter.limit(POST_LIMIT, methods=["POST"])
def ask():
    catalogue = _catalogue()
    form = AskQuestionForm()
    form.set_courses(catalogue, _lang())
    if form.validate_on_submit():
        question, error = run(lambda: services.ask_question(
            db.session, author=current_user, title=form.title.data, body=form.body.data,
            course_slug=form.course.data or None, now=now(), catalogue=catalogue), form=form)
        if error is None:
            return redirect(url_for("training.question", question_id=question.id))
        return render_template("training/ask.html", form=form), error.status
    return render_template("training/ask.html", form=form), 400 if form.errors else 200


def _question_page(question_id: int, *, form: AnswerForm | None = None, status: int = 200):
    question = db.session.get(KnowledgeQuestion, question_id)
    if question is None:
        raise NotFound(_("There is no such question."))
    catalogue = _catalogue()
    return render_template("training/question.html", question=question, catalogue=catalogue,
                           answers=queries.answers_to(db.session, question_id), form=form or AnswerForm(formdata=None),
                           can_accept=services.is_expert(current_user)), status


@bp.route("/questions/<int:question_id>")
@role_required("agent", "admin")
def question(question_id):
    return _question_page(question_id)


@bp.route("/questions/<int:question_id>/answers", methods=["POST"])
@role_required("agent", "admin")
@limiter.limit(POST_LIMIT)
def answer(question_id):
    form = AnswerForm()
    if not form.validate_on_submit():
        return _question_page(question_id, form=form, status=400)
    _result, error = run(lambda: services.answer_question(db.session, author=current_user, question_id=question_id,
                                                    body=form.body.data, now=now()), form=form)
    if error is not None:
        return _question_page(question_id, form=form, status=error.status)
    flash(_("Thank you for answering!"), "success")
    return redirect(url_for("training.question", question_id=question_id))


@bp.route("/answers/<int:answer_id>/accept", methods=["POST"])
@role_required("agent", "admin")
def accept(answer_id):
    from app.training.models import KnowledgeAnswer

    answer = db.session.get(KnowledgeAnswer, answer_id)
    if answer is None:
        raise NotFound(_("There is no such answer."))
    question_id = answer.question_id
    _result, error = run(lambda: services.accept_answer(db.session, actor=current_user, answer_id=answer_id, now=now()))
    if error is not None:
        return _question_page(question_id, status=error.status)
    flash(_("Marked as the best answer."), "success")
    return redirect(url_for("training.question", question_id=question_id))


# ---------------------------------------------------------------- expert articles


@bp.route("/articles")
@role_required("agent", "admin")
def articles():
    return render_template("training/articles.html", articles=queries.list_articles(db.session),
                           catalogue=_catalogue(), can_write=services.is_expert(current_user))


@bp.route("/articles/new", methods=["GET", "POST"])
@role_required("agent", "admin")
def new_article():
    if not services.is_expert(current_user):
        from flask import abort

        abort(403)
    catalogue = _catalogue()
    form = ArticleForm()
    form.set_courses(catalogue, _lang())
    if form.validate_on_submit():
        article, error = run(lambda: services.publish_article(
            db.session, author=current_user, kind=form.kind.data, title=form.title.data,
            body_markdown=form.body.data, course_slug=form.course.data or None, now=now(), catalogue=catalogue),
            form=form)
        if error is None:
            flash(_("Article published."), "success")
            return redirect(url_for("training.article", article_id=article.id))
        return render_template("training/article_form.html", form=form), error.status
    return render_template("training/article_form.html", form=form), 400 if form.errors else 200


@bp.route("/articles/<int:article_id>")
@role_required("agent", "admin")
def article(article_id):
    from academy.catalogue import render_markdown

    item = db.session.get(ExpertArticle, article_id)
    if item is None:
        raise NotFound(_("There is no such article."))
    return render_template("training/article.html", article=item, html=render_markdown(item.body_markdown),
                           catalogue=_catalogue())


# ---------------------------------------------------------------- admin


@admin_bp.route("/", endpoint="index")
@role_required("admin")
def admin_index():
    catalogue = _catalogue()
    return render_template("training/admin/index.html", queue=queries.review_queue(db.session),
                           stats=queries.course_stats(db.session), catalogue=catalogue, now_utc=now())


def _review(certification_id: int) -> Certification:
    cert = db.session.get(Certification, certification_id)
    if cert is None:
        raise NotFound(_("There is no such certification."))
    return cert


def _review_page(certification_id: int, *, reject: RejectForm | None = None, status: int = 200):
    cert = _review(certification_id)
    catalogue = _catalogue()
    attempt = db.session.get(Attempt, cert.attempt_id)
    return render_template("training/admin/review.html", cert=cert, attempt=attempt,
                           course=catalogue.courses.get(cert.course_slug), agent=db.session.get(User, cert.agent_id),
                           reject=reject or RejectForm(formdata=None)), status


@admin_bp.route("/reviews/<int:certification_id>")
@role_required("admin")
def review(certification_id):
    return _review_page(certification_id)


@admin_bp.route("/reviews/<int:certification_id>/approve", methods=["POST"])
@role_required("admin")
def approve(certification_id):
    _review(certification_id)
    _result, error = run(lambda: services.approve_certification(db.session, admin=current_user,
                                                          certification_id=certification_id, now=now()))
    if error is not None:
        return _review_page(certification_id, status=error.status)
    flash(_("Approved: the course's tags are granted."), "success")
    return redirect(url_for("training_admin.index"))


@admin_bp.route("/reviews/<int:certification_id>/reject", methods=["POST"])
@role_required("admin")
def reject(certification_id):
    _review(certification_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _review_page(certification_id, reject=form, status=400)
    _result, error = run(lambda: services.reject_certification(db.session, admin=current_user,
                                                         certification_id=certification_id, reason=form.reason.data,
                                                         now=now()), form=form)
    if error is not None:
        return _review_page(certification_id, reject=form, status=error.status)
    flash(_("Rejected. The member sees your reason and can upload a new recording."), "success")
    return redirect(url_for("training_admin.index"))


@admin_bp.route("/courses/<slug>")
@role_required("admin")
def course_stats(slug):
    catalogue = _catalogue()
    course = _course(catalogue, slug)
    hardest = []
    for row in queries.hardest_questions(db.session, slug):
        try:
            prompt = course.question(row.question_id).prompt.get(_lang())
        except KeyError:
            prompt = row.question_id
        hardest.append((row, prompt))
    return render_template("training/admin/course.html", course=course, stats=queries.course_stats(db.session)
                           .get(slug), hardest=hardest)
