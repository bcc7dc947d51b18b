from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.contacts.labels import CATEGORY_NAMES, CHANNEL_NAMES, OUTCOME_NAMES, RESOLUTION_NAMES
from app.contacts.services import MAX_CUSTOMER_REF_CHARS, MAX_DURATION_SECONDS, MAX_NOTES_CHARS

NUMBER = _l("Enter a whole number.")


def _choices(names: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in names.items()]


def no_nul(form, field):
    if field.data and "\x00" in field.data:
        raise ValidationError(_l("The notes contain characters that are not allowed."))


def _duration():
    return IntegerField(
        _l("Duration (seconds)"),
        validators=[InputRequired(message=NUMBER),
                    NumberRange(min=0, max=MAX_DURATION_SECONDS,
                                message=_l("Between 0 and %(n)d seconds.", n=MAX_DURATION_SECONDS))],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_DURATION_SECONDS},
    )


def _notes():
    return TextAreaField(_l("Notes"), validators=[Optional(), Length(max=MAX_NOTES_CHARS), no_nul],
                         render_kw={"rows": 3, "maxlength": MAX_NOTES_CHARS})


def _transcript():
    return TextAreaField(_l("Transcript (optional: paste it from the phone system)"),
                         validators=[Optional(), Length(max=20_000), no_nul], render_kw={"rows": 2})


class CallListUploadForm(FlaskForm):
    file = FileField(_l("Customer list (CSV)"), validators=[FileRequired(message=_l("Choose a CSV file."))],
                     render_kw={"accept": ".csv,text/csv"})


class OutcomeForm(FlaskForm):
    outcome = RadioField(_l("Outcome"), choices=_choices(OUTCOME_NAMES),
                         validators=[InputRequired(message=_l("Choose an outcome."))])
    callback_at = DateTimeLocalField(_l("Call back at (for a callback)"),
                                     format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
                                     validators=[Optional()])
    duration_seconds = _duration()
    notes = _notes()
    transcript = _transcript()


class InboundContactForm(FlaskForm):
    channel = RadioField(_l("Channel"), choices=_choices(CHANNEL_NAMES), default="phone",
                         validators=[InputRequired(message=_l("Choose a channel."))])
    category = SelectField(_l("Category"), choices=_choices(CATEGORY_NAMES),
                           validators=[InputRequired(message=_l("Choose a category."))])
    resolution = RadioField(_l("Result"), choices=_choices(RESOLUTION_NAMES), default="resolved",
                            validators=[InputRequired(message=_l("Choose resolved or escalated."))])
    customer_ref_kind = RadioField(_l("Customer reference (optional)"), default="phone", validators=[Optional()])
    customer_ref = StringField(
        _l("Phone or order/account number"),
        validators=[Optional(), Length(max=MAX_CUSTOMER_REF_CHARS, message=_l(
            "The customer reference is too long (at most %(n)d characters).", n=MAX_CUSTOMER_REF_CHARS))],
        render_kw={"autocomplete": "off", "maxlength": MAX_CUSTOMER_REF_CHARS, "spellcheck": "false"},
    )
    duration_seconds = _duration()
    notes = _notes()
    transcript = _transcript()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer_ref_kind.choices = [SelectChoice("phone", _l("Phone number")),
                                          SelectChoice("reference", _l("Order or account number"))]
