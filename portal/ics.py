"""Calendar invitations (.ics) for accepted consultations, and their cancellation."""

from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy import inspect

from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Consultation, Slot, User


def _related(obj, name: str, model, key):
    """The related object, loaded on demand when the caller did not eager-load it."""
    if name in inspect(obj).unloaded:
        return db.session.get(model, key)
    return getattr(obj, name)


def _address(user: User, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(f"{user.name} ({user.username})" if user.display_name else user.username)
    for key, value in params.items():
        address.params[key] = value
    return address


def consultation_uid(consultation: Consultation) -> str:
    """The same UID for every invitation of one consultation, so calendars update instead of duplicating."""
    host = urlsplit(current_app.config["PUBLIC_URL"]).hostname or "consultation-portal"
    return f"consultation-{consultation.id}@{host}"


def consultation_ics(consultation: Consultation, cancel: bool = False) -> str:
    """A METHOD:REQUEST calendar with one event: the consultation's time in UTC, specialist as organizer.

    With `cancel`, METHOD:CANCEL for the same UID (STATUS:CANCELLED, a higher SEQUENCE): calendar clients
    remove the event they added from the invitation.
    """
    slot = _related(consultation, "slot", Slot, consultation.slot_id)
    specialist = _related(slot, "specialist", User, slot.specialist_id)
    client = _related(consultation, "client", User, consultation.client_id)
    now = utcnow()

    calendar = Calendar()
    calendar.add("prodid", "-//Consultation Portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = Event()
    event.add("uid", consultation_uid(consultation))
    event.add("dtstamp", now)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    # Each new invitation must outrank the previous one for calendar clients to apply it.
    event.add("sequence", max(0, int((now - consultation.created_at).total_seconds())))
    event.add("summary", _("Consultation with %(name)s", name=specialist.name))
    description = _(
        "Specialist: %(specialist)s. Client: %(client)s.", specialist=specialist.username, client=client.username
    )
    if slot.note:
        description += "\n" + slot.note
    event.add("description", description)
    event.add("url", current_app.config["PUBLIC_URL"] + "/client/consultations")
    event.add("organizer", _address(specialist))
    event.add("attendee", _address(client, role="REQ-PARTICIPANT", partstat="ACCEPTED", rsvp="FALSE"))
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
