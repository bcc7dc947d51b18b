from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.contacts.labels import CATEGORY_NAMES
from app.kb.services import BODY_MAX, TAGS_MAX, TITLE_MAX

KIND_NAMES = {"faq": _l("FAQ"), "script": _l("Script"), "policy": _l("Policy")}


class ArticleForm(FlaskForm):
    kind = RadioField(_l("Kind"), validators=[InputRequired(message=_l("Choose a kind of article."))])
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=TITLE_MAX)])
    body = TextAreaField(_l("Text (Markdown: # headings, - lists, **bold**, [links](https://…))"),
                         validators=[InputRequired(), Length(max=BODY_MAX)], render_kw={"rows": 12})
    tags = StringField(_l("Keywords (separated by spaces or commas)"), validators=[Optional(), Length(max=TAGS_MAX)])
    category = SelectField(_l("Contact category it answers (optional)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = list(KIND_NAMES.items())
        self.category.choices = [("", _l("Any"))] + list(CATEGORY_NAMES.items())


class FeedbackForm(FlaskForm):
    helpful = RadioField(_l("Did it help?"), validators=[InputRequired()])
    contact_id = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helpful.choices = [("1", _l("Helped")), ("0", _l("Did not help"))]


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)])
