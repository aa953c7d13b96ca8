"""Forms of the public pages: the directory's filters (GET) and the booking page's request (POST)."""

from wtforms import SubmitField, TextAreaField
from wtforms.validators import Length

from portal.forms import PortalForm, QueryForm, SpecialtyField, name_search
from portal.i18n import lazy_gettext as _l
from portal.models import MESSAGE_MAX


class DirectoryFilterForm(QueryForm):
    """Search and specialty."""

    q = name_search(_l("Search"))
    specialty = SpecialtyField(_l("Specialty"))
    submit = SubmitField(_l("Filter"))


def unix_newlines(value):
    """Browsers send a textarea's line breaks as CR LF: count each as one character, as the browser does."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


class BookForm(PortalForm):
    """The booking page: an optional message, then Request consultation."""

    message = TextAreaField(
        _l("Message to the specialist"),
        filters=[unix_newlines],
        validators=[Length(max=MESSAGE_MAX, message=_l("Use at most 500 characters."))],
        description=_l(
            "Optional, at most 500 characters: what you would like to talk about. Only the specialist reads it."
        ),
    )
    submit = SubmitField(_l("Request consultation"))
