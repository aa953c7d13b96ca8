"""Consultations: a client's own or a specialist's requests (GET /api/v1/me/consultations), and the answers to
them: cancel (client), accept and reject (specialist)."""

from flask import current_app

from portal import access
from portal.api.auth import caller, requires
from portal.api.blueprint import answers, bp, page_body, query
from portal.api.bodies import client_row, client_view, request_row, specialist_view
from portal.api.schemas import CancelInput, ConsultationArgs, ConsultationPageSchema, ConsultationSchema, RejectInput
from portal.blueprints.client.queries import consultation_page
from portal.blueprints.specialist.queries import request_page
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Slot
from portal.services import booking
from portal.services import requests as requests_service


@bp.route("/me/consultations", methods=["GET"], tags=["Consultations"])
@requires("client", "specialist")
@query(ConsultationArgs)
@bp.response(200, ConsultationPageSchema)
@answers(422)
def my_consultations(tab=None, status=None, after=None, before=None):
    """Your consultations: a client's own (`tab`), or the requests on a specialist's slots (`status`).

    As on the pages: a client's upcoming ones (pending and accepted) soonest first and the others (past and
    cancelled) latest first; a specialist's pending
    requests (of slots still to come) soonest first, the other tabs latest first.
    """
    user, now, size = caller(), utcnow(), current_app.config["PAGE_SIZE"]
    if user.role == "client":
        tab = "past" if tab == "past" else "upcoming"
        page = consultation_page(user.id, now, tab, size, after=after, before=before)
        return page_body(page, "api.my_consultations", [client_row(r, now) for r in page.items], {"tab": tab})
    status = status or "pending"
    page = request_page(user.id, now, status, after=after, before=before, size=size)
    return page_body(page, "api.my_consultations", [request_row(r, now) for r in page.items], {"status": status})


@bp.route("/consultations/<id:consultation_id>/cancel", methods=["POST"], tags=["Consultations"])
@requires("client")
@bp.arguments(CancelInput)
@bp.response(200, ConsultationSchema)
@answers(404, 409, 422)
def cancel_consultation(data: dict, consultation_id: int):
    """Cancel your pending or accepted consultation before it starts, with a `reason` and/or a `comment`.

    Reasons: Health, Personal, Found_another_specialist, Other. An accepted slot is free again; the specialist
    is emailed.
    """
    user = caller()
    access.get_own_consultation_or_404(user, consultation_id)
    consultation = booking.cancel_consultation(user, consultation_id, data.get("reason"), data.get("comment"))
    body = client_view(consultation)
    db.session.commit()
    return body


@bp.route("/consultations/<id:consultation_id>/accept", methods=["POST"], tags=["Consultations"])
@requires("specialist")
@bp.response(200, ConsultationSchema)
@answers(404, 409, 422)
def accept_request(consultation_id: int):
    """Accept a pending request on one of your slots; the slot's other pending requests are rejected.

    Two accepts racing on one slot: one wins, the other gets 409. The client is emailed an invitation.
    """
    user = caller()
    access.own_request_slot_id_or_404(user, consultation_id)
    consultation, rejected = requests_service.accept_request(user, consultation_id)
    body = {**specialist_view(consultation, _slot_of(consultation)), "rejected": [c.id for c in rejected]}
    db.session.commit()
    return body


@bp.route("/consultations/<id:consultation_id>/reject", methods=["POST"], tags=["Consultations"])
@requires("specialist")
@bp.arguments(RejectInput, required=False)
@bp.response(200, ConsultationSchema)
@answers(404, 409, 422)
def reject_request(data: dict, consultation_id: int):
    """Reject a pending request on one of your slots, with an optional `reason` the client reads."""
    user = caller()
    access.own_request_slot_id_or_404(user, consultation_id)
    consultation = requests_service.reject_request(user, consultation_id, data.get("reason"))
    body = specialist_view(consultation, _slot_of(consultation))
    db.session.commit()
    return body


def _slot_of(consultation) -> Slot:
    """The slot the service locked for this consultation (already in the session: no query)."""
    return db.session.get(Slot, consultation.slot_id)
