from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from app.auth.forms import REQUIRED
from app.members.tags import TAG_CATALOGUE


class TagGrantForm(FlaskForm):
    tag = SelectField(_l("Tag"), choices=[], validators=[REQUIRED])
    reason = StringField(_l("Reason"), validators=[REQUIRED, Length(max=500)])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.core.templating import tag_name

        self.tag.choices = [(code, tag_name(code)) for code, *_ in TAG_CATALOGUE]


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[REQUIRED, Length(max=500)])


class TierForm(FlaskForm):
    tier = SelectField(_l("Tier"), coerce=int, choices=[])
    reason = StringField(_l("Reason"), validators=[REQUIRED, Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.core.templating import TIER_NAMES

        self.tier.choices = [(k, v) for k, v in TIER_NAMES.items()]
