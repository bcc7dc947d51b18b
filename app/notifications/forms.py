from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from app.auth.forms import MultiCheckboxField
from app.notifications.services import CATEGORIES


class EmailPreferencesForm(FlaskForm):
    email_enabled = BooleanField(_l("Send me email copies of my notifications"))
    categories = MultiCheckboxField(_l("Email me about"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = [(code, str(label)) for code, label in CATEGORIES.items()]
