"""Forms of the specialist pages: a slot (new and edit), the reason of a rejection, moving and cancelling a
consultation."""

from wtforms import BooleanField, DateField, IntegerField, StringField, SubmitField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from portal.forms import PortalForm
from portal.i18n import lazy_gettext as _l

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


class MoveForm(PortalForm):
    """The free slot an accepted consultation moves to (radio buttons named slot_id)."""

    slot_id = StringField(
        _l("New time"),
        validators=[
            InputRequired(message=_l("Choose a time.")),
            Regexp(r"^[0-9]{1,10}$", message=_l("Choose a time.")),
        ],
    )
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
