"""Client forms: the slot filter and the cancellation."""

from datetime import date

from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, Optional, Regexp, ValidationError

from portal.forms import PortalForm, SpecialtyField
from portal.i18n import lazy_gettext as _l
from portal.i18n import lazy_pgettext
from portal.models import CANCEL_REASONS
from portal.words import reason_labels

EARLIEST = date(2000, 1, 1)
LATEST = date(2199, 12, 31)


def reasonable_date(form, field):
    """Refuse dates no slot could have (and that time zone arithmetic cannot handle)."""
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between 2000 and 2199."))


class FilterDateField(DateField):
    """A date filter left empty is no filter, not an invalid date (no error message to translate and drop)."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class SlotFilterForm(PortalForm):
    """Filters of the slot finder, read from the query string (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    specialist = StringField(
        _l("Specialist"),
        validators=[Optional(), Length(max=64, message=_l("Use at most 64 characters."))],
        description=_l("Name or username"),
    )
    specialty = SpecialtyField(_l("Specialty"))
    # "To" alone means an email's recipient elsewhere in the portal.
    date_from = FilterDateField(lazy_pgettext("date range", "From"), validators=[Optional(), reasonable_date])
    date_to = FilterDateField(lazy_pgettext("date range", "To"), validators=[Optional(), reasonable_date])
    submit = SubmitField(_l("Filter"))

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("“To” cannot be before “From”."))


def reason_choices():
    """The Reason select: an empty first choice, then the reasons."""
    labels = reason_labels()
    return [("", _l("— choose —")), *((reason, labels[reason]) for reason in CANCEL_REASONS)]


class CancelForm(PortalForm):
    """Why the client cancels: a reason, a comment, or both."""

    reason = SelectField(
        _l("Reason"),
        choices=reason_choices,
        default="",
        validate_choice=False,
        validators=[AnyOf(("", *CANCEL_REASONS), message=_l("Choose one of the listed reasons."))],
    )
    comment = TextAreaField(
        _l("Comment"),
        validators=[Length(max=500, message=_l("Use at most 500 characters."))],
        description=_l("Optional if you choose a reason; at most 500 characters. The specialist will read it."),
    )
    submit = SubmitField(_l("Cancel consultation"))

    def validate_reason(self, field):
        if not field.data and not self.comment.data:
            raise ValidationError(_l("Choose a reason or write a comment."))


class NewTimeForm(PortalForm):
    """The new time a client asks for: one of the specialist's free times (radio buttons named slot_id)."""

    slot_id = StringField(
        _l("New time"),
        validators=[
            InputRequired(message=_l("Choose a time.")),
            Regexp(r"^[0-9]{1,10}$", message=_l("Choose a time.")),
        ],
    )
    submit = SubmitField(_l("Request new time"))
