"""The client's API token form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField
from wtforms.validators import DataRequired, Length, Optional

from app.api.models import TokenScope


class CreateTokenForm(FlaskForm):
    name = StringField(_l("Name (what uses it)"), validators=[DataRequired(message=_l("This field is required.")),
                                                            Length(max=80)])
    scope = RadioField(_l("Access"), default=TokenScope.READ.value,
                       validators=[DataRequired(message=_l("Choose read or write."))])
    expires_on = DateField(_l("Expires on (optional)"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.scope.choices = [(TokenScope.READ.value, _l("Read: campaigns, statistics, contact outcomes")),
                              (TokenScope.WRITE.value, _l("Write: also create campaigns, shifts, call lists"))]


class RevokeTokenForm(FlaskForm):
    """A one-button POST: CSRF only."""
