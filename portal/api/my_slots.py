"""A specialist's own slots: list and publish (GET|POST /api/v1/me/slots), read, change or transfer, delete
(GET|PATCH|DELETE /api/v1/me/slots/{slot_id})."""

from datetime import datetime

from flask import current_app

from portal import access
from portal.api.auth import caller, requires
from portal.api.blueprint import answers, bp, page_body, query
from portal.api.bodies import my_slot
from portal.api.schemas import (
    DeletedSlotSchema,
    MySlotArgs,
    MySlotPageSchema,
    MySlotSchema,
    SlotBatchSchema,
    SlotInput,
    SlotPatch,
)
from portal.blueprints.specialist.queries import slot_page
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.i18n import when_text
from portal.models import User
from portal.services import slots as slots_service
from portal.services.errors import DomainError


@bp.route("/me/slots", methods=["GET"], tags=["My slots"])
@requires("specialist")
@query(MySlotArgs)
@bp.response(200, MySlotPageSchema)
@answers(422)
def list_my_slots(tab=None, after=None, before=None):
    """Your slots: upcoming soonest first, or past ones (`tab=past`) latest first, with their state."""
    user = caller()
    page = slot_page(user.id, utcnow(), tab == "past", after=after, before=before, size=current_app.config["PAGE_SIZE"])
    items = [my_slot(row.slot, user.username, row.pending, row.client and row.client.username) for row in page.items]
    return page_body(page, "api.list_my_slots", items, {"tab": tab})


@bp.route("/me/slots", methods=["POST"], tags=["My slots"])
@requires("specialist")
@bp.arguments(SlotInput)
@bp.response(201, SlotBatchSchema)
@answers(422)
def create_slots(data: dict):
    """Publish a slot, and the same slot on each of the next `repeat_weeks` weeks.

    `starts_at` and `ends_at` are read as wall-clock times of your time zone, on one day; the repeats keep those
    wall-clock times. The same rules as the New slot page: the whole batch is refused if any one is invalid.
    """
    user = caller()
    zone = slots_service.zone_of(user)
    start, end = data["starts_at"].astimezone(zone), data["ends_at"].astimezone(zone)
    if end.date() != start.date():
        raise slots_service.end_error()
    created = slots_service.create_slots(
        user, start.date(), start.time(), end.time(), data.get("note"), data["repeat_weeks"]
    )
    if (created[0].starts_at, created[0].ends_at) != (data["starts_at"], data["ends_at"]):
        raise _ambiguous(start)
    items = [my_slot(slot, user.username, 0, None) for slot in created]
    db.session.commit()
    return {"items": items}


def _ambiguous(start: datetime) -> DomainError:
    """A wall-clock time the clocks pass twice (DST ends): the slot would start at its first occurrence."""
    return DomainError(
        _(
            "%(time)s occurs twice on %(date)s in your time zone; slots use its first occurrence.",
            time=when_text(start.time(), "time"),
            date=when_text(start.date(), "date"),
        ),
        field="starts_at",
    )


def _detail(slot, owner: User) -> dict:
    """A slot with its pending requests and its client, from the consultations the services lock and email."""
    consultations = slots_service.active_consultations(slot.id, lock=False)
    booked = next((c.client.username for c in consultations if c.status == "accepted"), None)
    pending = sum(c.status == "pending" for c in consultations)
    return my_slot(slot, owner.username, pending, booked)


@bp.route("/me/slots/<id:slot_id>", methods=["GET"], tags=["My slots"])
@requires("specialist")
@bp.response(200, MySlotSchema)
@answers(404)
def get_my_slot(slot_id: int):
    """One of your slots, with its state."""
    user = caller()
    return _detail(access.get_own_slot_or_404(user, slot_id), user)


@bp.route("/me/slots/<id:slot_id>", methods=["PATCH"], tags=["My slots"])
@requires("specialist")
@bp.arguments(SlotPatch)
@bp.response(200, MySlotSchema)
@answers(404, 422)
def edit_my_slot(data: dict, slot_id: int):
    """Change a future slot's times or note, or transfer it to another active specialist (`specialist`).

    Only the fields given change; an `ends_at` alone keeps the slot's day. Clients holding the slot are emailed.
    """
    user = caller()
    slot = access.get_own_slot_or_404(user, slot_id)
    if not data:  # a missing or empty body changes nothing: say so rather than answer as if it did
        raise DomainError(_("Send at least one of starts_at, ends_at, note or specialist."))
    zone = slots_service.zone_of(user)
    start = data["starts_at"].astimezone(zone) if "starts_at" in data else None
    end = data["ends_at"].astimezone(zone) if "ends_at" in data else None
    day = start.date() if start else slot.starts_at.astimezone(zone).date()
    if end is not None and end.date() != day:
        raise slots_service.end_error()
    note = (data["note"] or "") if "note" in data else None
    slot, _changed = slots_service.edit_slot(
        user,
        slot_id,
        day=start and start.date(),
        start=start and start.time(),
        end=end and end.time(),
        note=note,
        new_owner=data.get("specialist"),
    )
    if start is not None and slot.starts_at != data["starts_at"]:
        raise _ambiguous(start)
    owner = db.session.get(User, slot.specialist_id)  # already in the session: no query
    body = _detail(slot, owner)
    db.session.commit()
    return body


@bp.route("/me/slots/<id:slot_id>", methods=["DELETE"], tags=["My slots"])
@requires("specialist")
@bp.response(200, DeletedSlotSchema)
@answers(404, 422)
def delete_my_slot(slot_id: int):
    """Delete a future slot: its pending and accepted consultations are cancelled and those clients emailed."""
    cancelled = slots_service.delete_slot(caller(), slot_id)
    db.session.commit()
    return {"id": slot_id, "cancelled_consultations": cancelled}
