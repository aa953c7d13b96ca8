"""The webhooks page's forms: a new endpoint (URL and events); its buttons use the empty CSRF form."""

from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import PortalForm
from portal.i18n import lazy_gettext as _l
from portal.models import WEBHOOK_EVENTS
from portal.webhooks.address import URL_MAX


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # Unknown values are refused by the service with a message next to the field, not with WTForms' own.
        pass


class WebhookForm(PortalForm):
    """Add a webhook endpoint."""

    url = StringField(
        _l("URL"),
        validators=[
            InputRequired(message=_l("Enter the address to send events to.")),
            Length(max=URL_MAX, message=_l("Use at most 2000 characters.")),
        ],
        description=_l("An https:// address of your system that accepts POST requests."),
    )
    events = CheckboxesField(_l("Events"), choices=[(name, name) for name in WEBHOOK_EVENTS], default=WEBHOOK_EVENTS)
    submit = SubmitField(_l("Add webhook"))
