"""Client forms: the slot filter and the cancellation."""

from wtforms import DateField, SelectField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, Length, Optional, ValidationError

from portal.forms import ChosenTimeForm, PortalForm, QueryForm, SpecialtyField, name_search, reasonable_date
from portal.i18n import lazy_gettext as _l
from portal.i18n import lazy_pgettext
from portal.models import CANCEL_REASONS
from portal.words import reason_labels


class FilterDateField(DateField):
    """A date filter left empty is no filter, not an invalid date (no error message to translate and drop)."""

    def process_formdata(self, valuelist):
        if not valuelist or not "".join(valuelist).strip():
            self.data = None
            return
        super().process_formdata(valuelist)


class SlotFilterForm(QueryForm):
    """Filters of the slot finder."""

    specialist = name_search(_l("Specialist"))
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


class NewTimeForm(ChosenTimeForm):
    """The new time a client asks for: one of the specialist's free times."""

    submit = SubmitField(_l("Request new time"))
