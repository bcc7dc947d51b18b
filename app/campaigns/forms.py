from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.auth.forms import REQUIRED, MultiCheckboxField
from app.members.tags import INDUSTRY_CODES, TAG_CATALOGUE

NUMBER = _l("Enter a whole number.")
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def plausible_date(form, field) -> None:
    """Years like 0001 or 9999 are typos, and 9999-12-31 plus a day would overflow."""
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.", first=EARLIEST.isoformat(),
                                 last=LATEST.isoformat()))


class CampaignForm(FlaskForm):
    name = StringField(_l("Campaign name"), validators=[REQUIRED, Length(max=120)])
    kind = SelectField(_l("Kind"), choices=[], validators=[REQUIRED])
    industry = SelectField(_l("Industry"), choices=[], validators=[REQUIRED])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    script = TextAreaField(_l("Call script"), validators=[Optional(), Length(max=20_000)])
    required_tags = MultiCheckboxField(_l("Required tags (agents need all of them)"), choices=[])
    min_tier = SelectField(_l("Minimum tier"), coerce=int, choices=[])
    rate = StringField(_l("Pay per seat-hour (yuan)"), validators=[REQUIRED, Length(max=20)],
                       render_kw={"inputmode": "decimal"})
    bonus = StringField(_l("Bonus per handled contact (yuan)"), default="0", validators=[Length(max=20)],
                        render_kw={"inputmode": "decimal"})
    success_bonus = StringField(_l("Bonus per success: converted or reactivated (yuan)"), default="0",
                                validators=[Length(max=20)], render_kw={"inputmode": "decimal"})
    budget = StringField(_l("Budget (yuan)"), validators=[REQUIRED, Length(max=20)],
                         render_kw={"inputmode": "decimal"})
    starts_on = DateField(_l("First day"), validators=[DataRequired(message=_l("Enter a valid date.")), plausible_date])
    ends_on = DateField(_l("Last day"), validators=[DataRequired(message=_l("Enter a valid date.")), plausible_date])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.core.templating import KIND_NAMES, TIER_NAMES, tag_name

        self.kind.choices = [(k, v) for k, v in KIND_NAMES.items()]
        self.industry.choices = [(c, tag_name(c)) for c in INDUSTRY_CODES]
        self.required_tags.choices = [(code, tag_name(code)) for code, *_ in TAG_CATALOGUE]
        self.min_tier.choices = [(k, v) for k, v in TIER_NAMES.items()]


class ShiftPatternForm(FlaskForm):
    first_day = DateField(_l("From day"), validators=[DataRequired(message=_l("Enter a valid date.")), plausible_date])
    last_day = DateField(_l("To day"), validators=[DataRequired(message=_l("Enter a valid date.")), plausible_date])
    day_start = TimeField(_l("Daily start"), validators=[DataRequired(message=_l("Enter a valid time."))])
    day_end = TimeField(_l("Daily end (00:00 = midnight)"),
                        validators=[InputRequired(message=_l("Enter a valid time."))])
    block_minutes = IntegerField(_l("Block length (minutes)"), default=120,
                                 validators=[InputRequired(message=NUMBER),
                                             NumberRange(min=30, max=720, message=_l("Between 30 and 720."))],
                                 render_kw={"inputmode": "numeric"})
    seats = IntegerField(_l("Seats per shift"), default=10,
                         validators=[InputRequired(message=NUMBER),
                                     NumberRange(min=1, max=5000, message=_l("Between 1 and 5000."))],
                         render_kw={"inputmode": "numeric"})


class ShiftForm(FlaskForm):
    day = DateField(_l("Day"), validators=[DataRequired(message=_l("Enter a valid date.")), plausible_date])
    start = TimeField(_l("Start"), validators=[DataRequired(message=_l("Enter a valid time."))])
    end = TimeField(_l("End (00:00 = midnight)"), validators=[InputRequired(message=_l("Enter a valid time."))])
    seats = IntegerField(_l("Seats"), validators=[InputRequired(message=NUMBER),
                                                 NumberRange(min=1, max=5000, message=_l("Between 1 and 5000."))],
                         render_kw={"inputmode": "numeric"})


class ConfirmForm(FlaskForm):
    """A one-button POST action (publish, cancel, remove, claim): CSRF only."""
