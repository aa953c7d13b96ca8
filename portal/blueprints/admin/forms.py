"""Admin forms: the list filters (GET) and the moderation buttons (POST with CSRF)."""

from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from portal.forms import PortalForm, QueryForm, reasonable_date
from portal.i18n import lazy_gettext as _l
from portal.i18n import lazy_pgettext
from portal.words import role_labels


class UserSearchForm(QueryForm):
    q = StringField(_l("Search"), validators=[Optional(), Length(max=254)], description=_l("Username, name or email"))
    role = SelectField(
        _l("Role"),
        choices=[("", _l("All roles")), *role_labels().items()],
        default="",
    )
    blocked = SelectField(
        _l("Blocked"),
        choices=[("", _l("All users")), ("yes", _l("Blocked")), ("no", _l("Not blocked"))],
        default="",
    )
    sort = SelectField(
        _l("Sort by join date"),
        choices=[("newest", _l("Newest first")), ("oldest", _l("Oldest first"))],
        default="newest",
    )
    submit = SubmitField(_l("Search"))


class LogFilterForm(QueryForm):
    admin = StringField(_l("Admin"), validators=[Optional(), Length(max=32)], description=_l("Username"))
    user = StringField(_l("User"), validators=[Optional(), Length(max=32)], description=_l("Username"))
    submit = SubmitField(_l("Filter"))


class ReturnForm(PortalForm):
    """A button-only POST that returns to the list it came from."""

    next = HiddenField()


class BlockForm(ReturnForm):
    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=500)],
        description=_l("Optional; shown to admins in the list and the log."),
    )
    confirm = HiddenField()


class ExportForm(QueryForm):
    """The days of the consultations export (`?from=…&to=…`), both included, in the admin's time zone."""

    date_from = DateField(
        lazy_pgettext("date range", "From"),
        name="from",
        validators=[InputRequired(message=_l("Choose a date.")), reasonable_date],
    )
    date_to = DateField(
        lazy_pgettext("date range", "To"),
        name="to",
        validators=[InputRequired(message=_l("Choose a date.")), reasonable_date],
    )

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("“To” cannot be before “From”."))
