"""What the API answers about consultations and slots, built from the same rows and objects the pages show."""

from portal.clock import utcnow
from portal.models import Consultation, Slot
from portal.models.slot import minutes_between, shown_status
from portal.models.user import person_name


def _times(starts_at, ends_at) -> dict:
    return {"starts_at": starts_at, "ends_at": ends_at}


def client_view(consultation: Consultation) -> dict:
    """A consultation as its client sees it (its slot and specialist loaded)."""
    now, slot = utcnow(), consultation.slot
    specialist = slot.specialist
    return {
        "id": consultation.id,
        "status": consultation.display_status(now),
        "slot_id": slot.id,
        **_times(slot.starts_at, slot.ends_at),
        "specialist": {"username": specialist.username, "name": specialist.name, "specialty": specialist.specialty},
        "requested_at": consultation.created_at,
        "reject_reason": consultation.reject_reason,
        "cancel_reason": consultation.cancel_reason,
        "cancel_comment": consultation.cancel_comment,
        "can_cancel": consultation.can_cancel(now),
    }


def specialist_view(consultation: Consultation, slot: Slot) -> dict:
    """A request as the specialist of its slot sees it (its client loaded)."""
    client = consultation.client
    return {
        "id": consultation.id,
        "status": shown_status(consultation.status, slot.starts_at, utcnow()),
        "slot_id": slot.id,
        **_times(slot.starts_at, slot.ends_at),
        "client": {"username": client.username, "name": client.name},
        "requested_at": consultation.created_at,
        "reject_reason": consultation.reject_reason,
        "cancel_comment": consultation.cancel_comment,
    }


def client_row(row, now) -> dict:
    """A row of the client's consultation list (portal/blueprints/client/queries.py)."""
    return {
        "id": row.id,
        "status": row.display_status(now),
        **_times(row.starts_at, row.ends_at),
        "specialist": {"username": row.username, "name": row.specialist_name, "specialty": row.specialty},
        "reject_reason": row.reject_reason,
        "cancel_reason": row.cancel_reason,
        "can_cancel": row.can_cancel(now),
    }


def request_row(row, now) -> dict:
    """A row of the specialist's requests list (portal/blueprints/specialist/queries.py)."""
    return {
        "id": row.id,
        "status": row.display_status(now),
        **_times(row.starts_at, row.ends_at),
        "client": {"username": row.client_username, "name": person_name(row.client_display_name, row.client_username)},
        "requested_at": row.created_at,
        "reject_reason": row.reject_reason,
        "cancel_comment": row.cancel_comment,
    }


def my_slot(slot, owner: str, pending: int, client: str | None) -> dict:
    """A slot as its specialist sees it: free, with pending requests, or booked by `client`."""
    state = "booked" if client else "pending" if pending else "free"
    return {
        "id": slot.id,
        **_times(slot.starts_at, slot.ends_at),
        "duration_minutes": minutes_between(slot.starts_at, slot.ends_at),
        "note": slot.note,
        "specialist": owner,
        "state": state,
        "pending": pending,
        "client": client,
    }
