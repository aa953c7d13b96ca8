"""Forms of the specialist pages: a slot (new and edit), the reason of a rejection, moving and cancelling a
consultation, working hours and days off."""

from wtforms import BooleanField, DateField, IntegerField, StringField, SubmitField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.forms import ChosenTimeForm, PortalForm
from portal.i18n import lazy_gettext as _l
from portal.i18n import lazy_pgettext
from portal.models.availability import HORIZON_DAYS_MAX
from portal.services import availability
from portal.services.errors import DomainError

TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


class SlotForm(PortalForm):
    """Date, start and end in the specialist's time zone, an optional note, weekly repeats."""

    date = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose a date."))])
    start_time = TimeField(
        _l("Start time"), format=TIME_FORMATS, validators=[InputRequired(message=_l("Enter the start time."))]
    )
    end_time = TimeField(
        _l("End time"), format=TIME_FORMATS, validators=[InputRequired(message=_l("Enter the end time."))]
    )
    note = StringField(
        _l("Note"),
        validators=[Optional(), Length(max=255, message=_l("The note can be at most 255 characters long."))],
        description=_l("Optional, up to 255 characters, e.g. “Online (video call)”."),
    )
    repeat_weeks = IntegerField(
        _l("Repeat weekly for"),
        default=0,
        validators=[
            InputRequired(message=_l("Enter a number of weeks from 0 to 12.")),
            NumberRange(min=0, max=12, message=_l("Enter a number of weeks from 0 to 12.")),
        ],
        description=_l("Weeks (0–12): the same slot is added on each following week."),
        render_kw={"min": 0, "max": 12, "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Save slot"))


class EditSlotForm(SlotForm):
    """The same fields without repeats, plus the username of a specialist to transfer the slot to."""

    repeat_weeks = None
    specialist = StringField(
        _l("Specialist"),
        validators=[InputRequired(message=_l("Enter a specialist's username.")), Length(max=32)],
        description=_l("Your username keeps the slot; another specialist's username transfers it to them."),
    )


class RejectForm(PortalForm):
    """Reject a request, optionally saying why."""

    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=500, message=_l("The reason can be at most 500 characters long."))],
    )


class MoveForm(ChosenTimeForm):
    """The free slot an accepted consultation moves to."""

    submit = SubmitField(_l("Move consultation"))


class CancelConsultationForm(PortalForm):
    """Cancel an accepted consultation: why (the client reads it), and whether the slot goes too."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(message=_l("Tell the client why.")),
            Length(max=500, message=_l("The reason can be at most 500 characters long.")),
        ],
        description=_l("The client reads it in the email; at most 500 characters."),
    )
    remove_slot = BooleanField(
        _l("Remove the slot"), description=_l("Otherwise the time is offered to other clients again.")
    )
    submit = SubmitField(_l("Cancel consultation"))


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _ranges_field(label):
    return StringField(
        label,
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
        render_kw={"placeholder": _l("Not working"), "autocomplete": "off", "spellcheck": "false"},
    )


class WholeNumberField(IntegerField):
    """An integer field whose only message is its range's: text that is no number fails the range check."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


def _minutes_field(label, low: int, high: int, message, hint):
    return WholeNumberField(
        label,
        validators=[InputRequired(message=message), NumberRange(min=low, max=high, message=message)],
        description=hint,
        render_kw={"min": low, "max": high, "inputmode": "numeric"},
    )


class AvailabilityForm(PortalForm):
    """Weekly hours (ranges per weekday, in the specialist's zone) and the booking rules (SPEC §12)."""

    monday = _ranges_field(_l("Monday"))
    tuesday = _ranges_field(_l("Tuesday"))
    wednesday = _ranges_field(_l("Wednesday"))
    thursday = _ranges_field(_l("Thursday"))
    friday = _ranges_field(_l("Friday"))
    saturday = _ranges_field(_l("Saturday"))
    sunday = _ranges_field(_l("Sunday"))
    session_minutes = _minutes_field(
        _l("Session length"), 15, 240, _l("Enter a number of minutes from 15 to 240."), _l("Minutes (15–240).")
    )
    break_minutes = _minutes_field(
        _l("Break between sessions"), 0, 120, _l("Enter a number of minutes from 0 to 120."), _l("Minutes (0–120).")
    )
    notice_hours = _minutes_field(
        _l("Minimum notice"),
        0,
        720,
        _l("Enter a number of hours from 0 to 720."),
        _l("Hours (0–720): clients cannot book a time sooner than this."),
    )
    horizon_days = _minutes_field(
        _l("Booking horizon"),
        1,
        HORIZON_DAYS_MAX,
        _l("Enter a number of days from 1 to 365."),
        _l("Days (1–365): how far ahead clients can book."),
    )
    cutoff_hours = _minutes_field(
        _l("Cancellation cutoff"),
        0,
        720,
        _l("Enter a number of hours from 0 to 720."),
        _l("Hours (0–720): closer than this to a consultation, clients can no longer cancel or reschedule it."),
    )
    save = SubmitField(_l("Save availability"))

    def validate(self, extra_validators=None) -> bool:
        """The fields, then each weekday's ranges: well formed, not overlapping, each long enough for a session."""
        ok = super().validate(extra_validators)
        self.hours = {}
        session = self.session_minutes.data if not self.session_minutes.errors else None
        for weekday, name in enumerate(WEEKDAYS):
            field = getattr(self, name)
            if field.errors:
                continue
            try:
                pairs = availability.parse_ranges(field.data)
            except DomainError as error:
                field.errors = [*field.errors, error.message]
                ok = False
                continue
            short = next(((start, end) for start, end in pairs if session and end - start < session), None)
            if short:
                field.errors = [
                    *field.errors,
                    _l(
                        "%(range)s is shorter than one session (%(minutes)s min).",
                        range=availability.format_range(*short),
                        minutes=session,
                    ),
                ]
                ok = False
            elif pairs:
                self.hours[weekday] = pairs
        return ok


class DaysOffForm(PortalForm):
    """A period of whole days off, both ends included, with an optional note."""

    first_day = DateField(
        lazy_pgettext("date range", "From"), validators=[InputRequired(message=_l("Choose the first day."))]
    )
    last_day = DateField(
        lazy_pgettext("date range", "To"), validators=[InputRequired(message=_l("Choose the last day."))]
    )
    note = StringField(
        _l("Note"),
        validators=[Optional(), Length(max=255, message=_l("The note can be at most 255 characters long."))],
        description=_l("Optional, e.g. “Holiday”."),
    )
    add = SubmitField(_l("Add days off"))
