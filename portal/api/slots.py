"""Clients find free slots and request them: GET /api/v1/slots, POST /api/v1/slots/{slot_id}/request."""

from flask import current_app

from portal.api.auth import caller, requires
from portal.api.blueprint import answers, bp, page_body, query
from portal.api.bodies import client_view
from portal.api.schemas import ConsultationSchema, OfferedSlotPageSchema, RequestInput, SlotArgs
from portal.blueprints.client.queries import SlotFilters, slot_page
from portal.clock import utcnow
from portal.extensions import db
from portal.services import booking


def _offered(row) -> dict:
    """A row of the slot finder as the API shows it."""
    return {
        "id": row.id,
        "starts_at": row.starts_at,
        "ends_at": row.ends_at,
        "duration_minutes": row.duration_minutes,
        "note": row.note,
        "specialist": {"username": row.username, "name": row.specialist_name, "specialty": row.specialty},
        "my_request": row.my_state,
    }


@bp.route("/slots", methods=["GET"], tags=["Slots"])
@requires("client")
@query(SlotArgs)
@bp.response(200, OfferedSlotPageSchema)
@answers(422)
def list_slots(specialist="", specialty="", date_from=None, date_to=None, after=None, before=None):
    """Free slots of active specialists, soonest first (the slot finder's list).

    `from` and `to` are days in your time zone. Today's slots are listed from now on.
    """
    user = caller()
    filters = SlotFilters(specialist, specialty, date_from, date_to, user.timezone)
    page = slot_page(user.id, utcnow(), filters, current_app.config["PAGE_SIZE"], after=after, before=before)
    args = {"specialist": specialist, "specialty": specialty, "from": date_from, "to": date_to}
    args = {name: value.isoformat() if hasattr(value, "isoformat") else value for name, value in args.items()}
    return page_body(page, "api.list_slots", [_offered(row) for row in page.items], args)


@bp.route("/slots/<id:slot_id>/request", methods=["POST"], tags=["Slots"])
@requires("client")
@bp.arguments(RequestInput, required=False)
@bp.response(201, ConsultationSchema)
@answers(404, 409, 422)
def request_slot(data: dict, slot_id: int):
    """Request a free slot: a pending consultation; the specialist is emailed.

    The same rules as the Request button: refused if the slot is gone (404), just booked by someone else (409),
    started, its specialist away, already requested or declined for you, or overlapping your accepted
    consultation (422). The `message` reaches the specialist with the request.
    """
    consultation = booking.request_slot(caller(), slot_id, message=(data or {}).get("message") or None)
    body = client_view(consultation)
    db.session.commit()
    return body
