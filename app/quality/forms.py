from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

SCORE_CHOICES = [(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")]
PICK = _l("Choose a rating from 1 to 5.")


class ScoresForm(FlaskForm):
    """Fills every 1–5 radio group's choices (WTForms 3.3 wants choices set on the bound field)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self:
            if isinstance(field, RadioField):
                field.choices = SCORE_CHOICES


class SurveyForm(ScoresForm):
    score = RadioField(_l("How satisfied were you with the service?"), coerce=int,
                       validators=[InputRequired(message=PICK)])
    comment = TextAreaField(_l("Anything you want to tell us (optional)"), validators=[Optional(), Length(max=1000)])


class ShiftRatingForm(ScoresForm):
    score = RadioField(_l("Rating"), coerce=int, validators=[InputRequired(message=PICK)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


class CampaignRatingForm(ScoresForm):
    script_quality = RadioField(_l("Script quality"), coerce=int,
                                validators=[InputRequired(message=PICK)])
    list_quality = RadioField(_l("Call list quality"), coerce=int,
                              validators=[InputRequired(message=PICK)])
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=1000)])


class QaRulesForm(FlaskForm):
    required_phrases = TextAreaField(_l("Required phrases (one per line: greeting, identity check, closing)"),
                                     validators=[Optional(), Length(max=3000)])
    forbidden_words = TextAreaField(_l("Forbidden words (one per line)"), validators=[Optional(), Length(max=3000)])
    max_duration_minutes = IntegerField(_l("Maximum duration (minutes)"), validators=[
        Optional(), NumberRange(min=1, max=240, message=_l("Between 1 and 240 minutes."))],
        render_kw={"inputmode": "numeric"})
    lesson_course = SelectField(_l("Academy course to assign on a confirmed flag"), validators=[Optional()])
