from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from app.members.services import PASSWORD_MAX, PASSWORD_MIN
from app.members.tags import INDUSTRY_CODES, LANGUAGE_CODES

REQUIRED = DataRequired(message=_l("This field is required."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[REQUIRED, Length(max=254)])
    password = PasswordField(_l("Password"), validators=[REQUIRED, Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me logged in"))


def _password_fields():
    password = PasswordField(
        _l("Password"),
        validators=[REQUIRED, Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
                                     message=_l("Use %(min)d to %(max)d characters."))],
    )
    confirm = PasswordField(_l("Repeat password"),
                            validators=[REQUIRED, EqualTo("password", message=_l("The passwords differ."))])
    return password, confirm


class AgentRegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[REQUIRED, Length(max=80)])
    email = EmailField(_l("Email"), validators=[REQUIRED, Length(max=254)])
    phone = TelField(_l("Mobile phone"), validators=[REQUIRED, Length(max=32)])
    city = StringField(_l("City"), validators=[REQUIRED, Length(max=40)])
    languages = MultiCheckboxField(_l("Languages you speak"), choices=[], validators=[
        DataRequired(message=_l("Choose at least one language."))])
    password, confirm = _password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.core.templating import tag_name

        self.languages.choices = [(code, tag_name(code)) for code in LANGUAGE_CODES]


class ClientRegisterForm(FlaskForm):
    organisation = StringField(_l("Company name"), validators=[REQUIRED, Length(max=120)])
    industry = SelectField(_l("Industry"), choices=[], validators=[REQUIRED])
    name = StringField(_l("Your name"), validators=[REQUIRED, Length(max=80)])
    email = EmailField(_l("Work email"), validators=[REQUIRED, Length(max=254)])
    phone = TelField(_l("Phone"), validators=[REQUIRED, Length(max=32)])
    password, confirm = _password_fields()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.core.templating import tag_name

        self.industry.choices = [(code, tag_name(code)) for code in INDUSTRY_CODES]


class InviteForm(FlaskForm):
    email = EmailField(_l("Colleague's email"), validators=[REQUIRED, Length(max=254)])


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Your name"), validators=[REQUIRED, Length(max=80)])
    phone = TelField(_l("Phone"), validators=[REQUIRED, Length(max=32)])
    password, confirm = _password_fields()
