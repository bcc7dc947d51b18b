from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from app.auth.forms import MultiCheckboxField
from app.webhooks.models import SUBSCRIBABLE

EVENT_LABELS = {
    "campaign.filled": _l("campaign.filled — every seat of a published campaign is taken"),
    "shift.settled": _l("shift.settled — a shift's completed claims were paid"),
    "call_list.imported": _l("call_list.imported — a call list finished importing"),
}


class CreateEndpointForm(FlaskForm):
    url = StringField(_l("Endpoint URL (https://…)"), validators=[Length(max=500)])
    events = MultiCheckboxField(_l("Events"), choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events.choices = [(e.value, str(EVENT_LABELS[e.value])) for e in SUBSCRIBABLE]
