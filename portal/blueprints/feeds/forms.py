"""The profile's Calendar feed section."""

from wtforms import SubmitField

from portal.forms import PortalForm
from portal.i18n import lazy_gettext as _l


class FeedResetForm(PortalForm):
    """Button-only: a new feed address, the old one dead at once."""

    submit = SubmitField(_l("Reset feed link"))
