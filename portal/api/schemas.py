"""The API's input and output as marshmallow schemas: they validate what comes in, shape what goes out and write
the OpenAPI document (field types and checks: portal/api/fields.py)."""

import marshmallow as ma
from marshmallow import validate

from portal.api.fields import (
    Instant,
    Schema,
    StrictBoolean,
    Text,
    cursor_field,
    one_of,
    reasonable_date,
)
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.models import CANCEL_REASONS, ROLES, STATUSES

# ------------------------------------------------------------------------------------------------- input


class PageArgs(Schema):
    """Where a list continues: the cursor of a `next` or `prev` link."""

    after = cursor_field("Continue after this position (from a `next` link).")
    before = cursor_field("Continue before this position (from a `prev` link).")


class SpecialistArgs(PageArgs):
    q = Text(64, metadata={"description": "Part of the name or username, any case."})
    specialty = Text(100, metadata={"description": "Part of the specialty, any case."})


class SlotArgs(PageArgs):
    specialist = Text(64, metadata={"description": "Part of the specialist's name or username, any case."})
    specialty = Text(100, metadata={"description": "Part of the specialty, any case."})
    date_from = ma.fields.Date(
        data_key="from", validate=reasonable_date, metadata={"description": "First day, in your time zone."}
    )
    date_to = ma.fields.Date(
        data_key="to", validate=reasonable_date, metadata={"description": "Last day, in your time zone."}
    )

    @ma.validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ma.ValidationError(_("“To” cannot be before “From”."), "to")


class ConsultationArgs(PageArgs):
    tab = ma.fields.String(
        validate=one_of(("upcoming", "past")),
        metadata={
            "description": "Clients: upcoming (pending and accepted, soonest first; the default) or past "
            "(past and cancelled, latest first)."
        },
    )
    status = ma.fields.String(
        validate=one_of(("pending", "accepted", "rejected", "cancelled", "all")),
        metadata={"description": "Specialists: which requests (default pending)."},
    )


class MySlotArgs(PageArgs):
    tab = ma.fields.String(
        validate=one_of(("upcoming", "past")), metadata={"description": "upcoming (the default) or past."}
    )


class UserArgs(PageArgs):
    q = Text(254, metadata={"description": "Part of the username or email, any case."})
    role = ma.fields.String(validate=one_of(ROLES))
    blocked = ma.fields.String(validate=one_of(("yes", "no")))
    sort = ma.fields.String(validate=one_of(("newest", "oldest")), metadata={"description": "By join date."})


class RequestInput(Schema):
    message = Text(
        500,
        multiline=True,
        allow_none=True,
        metadata={"description": "A message to the specialist, shown with the request and in its email."},
    )


class CancelInput(Schema):
    reason = ma.fields.String(allow_none=True, validate=one_of(CANCEL_REASONS))
    comment = Text(500, multiline=True, allow_none=True)


class RejectInput(Schema):
    reason = Text(500, _l("The reason can be at most 500 characters long."), multiline=True, allow_none=True)


NOTE = _l("The note can be at most 255 characters long.")


class SlotInput(Schema):
    """A new slot (and its weekly repeats): its times are wall-clock times of the specialist's zone."""

    starts_at = Instant(minutes=True, required=True)
    ends_at = Instant(minutes=True, required=True, metadata={"description": "The same day as starts_at, your zone."})
    note = Text(255, NOTE, allow_none=True)
    repeat_weeks = ma.fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(0, 12, error=_l("Enter a number of weeks from 0 to 12.")),
        metadata={"description": "Also on each of the following N weeks (0–12)."},
    )


class SlotPatch(Schema):
    """Only the fields given change; the result is checked as a whole."""

    starts_at = Instant(minutes=True)
    ends_at = Instant(minutes=True)
    note = Text(255, NOTE, allow_none=True, metadata={"description": "null or an empty string removes it."})
    specialist = Text(32, metadata={"description": "Another active specialist's username transfers the slot."})


class BlockInput(Schema):
    reason = Text(500, allow_none=True)
    confirm = StrictBoolean(load_default=False, metadata={"description": "Needed to block another administrator."})


# ------------------------------------------------------------------------------------------------ output


class PersonSchema(ma.Schema):
    username = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"description": "Display name, else the username."})


class SpecialistSchema(PersonSchema):
    specialty = ma.fields.String(allow_none=True, required=True)


class DirectoryEntrySchema(SpecialistSchema):
    bio = ma.fields.String(allow_none=True, required=True)


class PageSchema(ma.Schema):
    next = ma.fields.String(allow_none=True, required=True, metadata={"description": "The next page, if any."})
    prev = ma.fields.String(allow_none=True, required=True, metadata={"description": "The previous page, if any."})


class OfferedSlotSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    duration_minutes = ma.fields.Integer(required=True)
    note = ma.fields.String(allow_none=True, required=True)
    specialist = ma.fields.Nested(SpecialistSchema, required=True)
    my_request = ma.fields.String(
        allow_none=True,
        required=True,
        validate=validate.OneOf(("pending", "accepted", "rejected")),
        metadata={"description": "Your own request on this slot, if you have one."},
    )


class ConsultationSchema(ma.Schema):
    """A consultation as its client (with `specialist`) or its specialist (with `client`) sees it."""

    id = ma.fields.Integer(required=True)
    status = ma.fields.String(
        required=True,
        validate=validate.OneOf(STATUSES),
        metadata={
            "description": "expired: not answered before its slot began or the specialist's minimum notice ran out."
        },
    )
    slot_id = ma.fields.Integer()
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    specialist = ma.fields.Nested(SpecialistSchema, metadata={"description": "For the client."})
    client = ma.fields.Nested(PersonSchema, metadata={"description": "For the specialist."})
    requested_at = Instant()
    reject_reason = ma.fields.String(allow_none=True)
    cancel_reason = ma.fields.String(allow_none=True)
    cancel_comment = ma.fields.String(allow_none=True)
    can_cancel = ma.fields.Boolean(metadata={"description": "For the client: it may still be cancelled."})
    rejected = ma.fields.List(
        ma.fields.Integer(), metadata={"description": "After an accept: the other requests it rejected."}
    )


class MySlotSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    starts_at = Instant(required=True)
    ends_at = Instant(required=True)
    duration_minutes = ma.fields.Integer(required=True)
    note = ma.fields.String(allow_none=True, required=True)
    specialist = ma.fields.String(required=True, metadata={"description": "The owner's username."})
    state = ma.fields.String(required=True, validate=validate.OneOf(("free", "pending", "booked")))
    pending = ma.fields.Integer(required=True, metadata={"description": "Pending requests on it."})
    client = ma.fields.String(
        allow_none=True, required=True, metadata={"description": "Who booked it (username), if anyone."}
    )


class SlotBatchSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MySlotSchema), required=True, metadata={"description": "Soonest first."})


class DeletedSlotSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    cancelled_consultations = ma.fields.Integer(
        required=True, metadata={"description": "Pending and accepted consultations cancelled (clients emailed)."}
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    username = ma.fields.String(required=True)
    email = ma.fields.String(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES))
    display_name = ma.fields.String(allow_none=True, required=True)
    confirmed = ma.fields.Boolean(required=True)
    blocked = ma.fields.Boolean(required=True)
    blocked_reason = ma.fields.String(allow_none=True, required=True)
    joined_at = Instant(required=True)


def page_of(item_schema, name: str):
    """The schema of one page of a list of `item_schema`."""
    return type(name, (PageSchema,), {"items": ma.fields.List(ma.fields.Nested(item_schema), required=True)})


DirectoryPageSchema = page_of(DirectoryEntrySchema, "DirectoryPageSchema")
OfferedSlotPageSchema = page_of(OfferedSlotSchema, "OfferedSlotPageSchema")
ConsultationPageSchema = page_of(ConsultationSchema, "ConsultationPageSchema")
MySlotPageSchema = page_of(MySlotSchema, "MySlotPageSchema")
UserPageSchema = page_of(UserSchema, "UserPageSchema")
