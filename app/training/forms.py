"""Academy forms. The quiz and the questionnaires are plain HTML (their fields come from the catalogue); CSRF
protection covers them like every POST."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.auth.forms import REQUIRED
from app.training.services import ARTICLE_MAX, QUESTION_TITLE_MAX, TEXT_MAX


def _course_choices(catalogue, lang: str, blank) -> list[tuple[str, str]]:
    return [("", blank)] + [(slug, c.title.get(lang)) for slug, c in catalogue.courses.items()]


class AskQuestionForm(FlaskForm):
    title = StringField(_l("Your question in one line"), validators=[REQUIRED, Length(max=QUESTION_TITLE_MAX)])
    body = TextAreaField(_l("Details"), validators=[REQUIRED, Length(max=TEXT_MAX)])
    course = SelectField(_l("Course (optional)"), choices=[], validators=[Optional()])

    def set_courses(self, catalogue, lang: str) -> None:
        self.course.choices = _course_choices(catalogue, lang, _l("No particular course"))


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), validators=[REQUIRED, Length(max=TEXT_MAX)])


class ArticleForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[], validators=[REQUIRED])
    title = StringField(_l("Title"), validators=[REQUIRED, Length(max=QUESTION_TITLE_MAX)])
    body = TextAreaField(_l("Text (Markdown)"), validators=[REQUIRED, Length(max=ARTICLE_MAX)])
    course = SelectField(_l("Course (optional)"), choices=[], validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("talk", _l("Talk")), ("case", _l("Case write-up"))]

    def set_courses(self, catalogue, lang: str) -> None:
        self.course.choices = _course_choices(catalogue, lang, _l("No particular course"))


class RecordingForm(FlaskForm):
    recording = FileField(_l("Recorded mock call (mp3, m4a, wav, ogg, webm or amr)"),
                          render_kw={"accept": ".mp3,.m4a,.wav,.ogg,.webm,.amr,audio/*"})


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason (the member sees it)"), validators=[REQUIRED, Length(max=500)])
