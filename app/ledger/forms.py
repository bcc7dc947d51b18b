from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import Length

from app.auth.forms import REQUIRED


class TopUpForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), validators=[REQUIRED, Length(max=20)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    # One-time reference made when the form is shown: sending it twice credits once.
    reference = HiddenField()


class PayoutForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), validators=[REQUIRED, Length(max=20)],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("What is wrong?"), validators=[REQUIRED, Length(max=1000)])
