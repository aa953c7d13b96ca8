"""Calendar events (.ics) of consultations: the emailed invitations, their cancellation, and the feeds.

One consultation is one event everywhere it appears, with the same UID; its SEQUENCE is the number of seconds
from the request to the consultation's last change (of the consultation or of its slot), so each change
outranks the one before, and an invitation and a feed showing the same state carry the same number.
"""

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from icalendar import Calendar, Event, Timezone, TimezoneStandard, vCalAddress, vText
from sqlalchemy import inspect

from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import Consultation, Slot, User

PRODID = "-//Consultation Portal//EN"


def _related(obj, name: str, model, key):
    """The related object, loaded on demand when the caller did not eager-load it."""
    if name in inspect(obj).unloaded:
        return db.session.get(model, key)
    return getattr(obj, name)


def _address(user: User, **params) -> vCalAddress:
    """A person as an ORGANIZER or ATTENDEE: their email, named by display name and username."""
    address = vCalAddress(f"mailto:{user.email}")
    address.params["cn"] = vText(f"{user.name} ({user.username})" if user.display_name else user.username)
    for key, value in params.items():
        address.params[key] = value
    return address


def _host() -> str:
    """The right-hand side of every UID: the portal's public host name."""
    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "consultation-portal"


def consultation_uid(consultation: Consultation) -> str:
    """The same UID for every invitation of one consultation, so calendars update instead of duplicating."""
    return f"consultation-{consultation.id}@{_host()}"


def slot_uid(slot: Slot) -> str:
    """The UID of a slot nobody has booked yet, in its specialist's feed."""
    return f"slot-{slot.id}@{_host()}"


def sequence(created_at: datetime, changed_at: datetime) -> int:
    """An event's revision number: whole seconds from its creation to its last change (never negative)."""
    return max(0, int((changed_at - created_at).total_seconds()))


def changed_at(consultation: Consultation, slot: Slot) -> datetime:
    """When the consultation's event last changed: now while this request is changing it, else the later of
    the two rows' `updated_at` (which the flush sets to the same request clock)."""
    if inspect(consultation).modified or inspect(slot).modified:
        return utcnow()
    return max(consultation.updated_at, slot.updated_at)


def person(user: User) -> str:
    """How an event names the other party: "Ann Smith (@ann)", or "@ann" without a display name."""
    return f"{user.display_name} (@{user.username})" if user.display_name else f"@{user.username}"


def consultation_event(
    consultation: Consultation,
    slot: Slot,
    specialist: User,
    client: User,
    *,
    status: str,
    changed: datetime,
    people: bool,
    for_specialist: bool = False,
) -> Event:
    """The VEVENT of one consultation, as its invitation and both feeds show it (from ORM objects, or from the
    feeds' column tuples, which have the same attributes).

    `status` is CONFIRMED, TENTATIVE or CANCELLED; `people` adds the organizer and attendee with their email
    addresses (invitations, and feeds once the consultation was accepted: before that neither side sees the
    other's address anywhere); `for_specialist` names the client rather than the specialist.
    """
    event = Event()
    event.add("uid", consultation_uid(consultation))
    event.add("dtstamp", changed)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    # Each new invitation must outrank the previous one for calendar clients to apply it.
    event.add("sequence", sequence(consultation.created_at, changed))
    other = person(client) if for_specialist else specialist.name
    event.add("summary", _("Consultation with %(name)s", name=other))
    description = _(
        "Specialist: %(specialist)s. Client: %(client)s.", specialist=specialist.username, client=client.username
    )
    if slot.note:
        description += "\n" + slot.note
    event.add("description", description)
    page = "/specialist/consultations" if for_specialist else "/client/consultations"
    event.add("url", current_app.config["PUBLIC_URL"] + page)
    if people:
        event.add("organizer", _address(specialist))
        event.add("attendee", _address(client, role="REQ-PARTICIPANT", partstat="ACCEPTED", rsvp="FALSE"))
    event.add("status", status)
    return event


def slot_event(slot: Slot, *, pending: int, changed: datetime) -> Event:
    """A slot nobody has booked, in its specialist's feed: TENTATIVE while requests wait, else free time that
    leaves the specialist available (TRANSP:TRANSPARENT)."""
    event = Event()
    event.add("uid", slot_uid(slot))
    event.add("dtstamp", changed)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.ends_at)
    event.add("sequence", sequence(slot.created_at, changed))
    if pending:
        event.add("summary", _("Pending requests: %(num)d", num=pending))
        event.add("status", "TENTATIVE")
        page = "/specialist/consultations"
    else:
        event.add("summary", _("Free slot"))
        event.add("transp", "TRANSPARENT")
        page = "/specialist/calendar"
    if slot.note:
        event.add("description", slot.note)
    event.add("url", current_app.config["PUBLIC_URL"] + page)
    return event


def calendar(method: str | None = None, name: str | None = None) -> Calendar:
    """An empty VCALENDAR of the portal; `method` for invitations (iTIP), `name` for feeds."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    return cal


def utc_zone() -> Timezone:
    """A VTIMEZONE for UTC: what an empty feed holds, since RFC 5545 wants at least one component."""
    standard = TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))  # local time, as RFC 5545 wants it in a VTIMEZONE
    standard.add("tzoffsetfrom", timedelta(0))
    standard.add("tzoffsetto", timedelta(0))
    standard.add("tzname", "UTC")
    zone = Timezone()
    zone.add("tzid", "UTC")
    zone.add_component(standard)
    return zone


def consultation_ics(consultation: Consultation, cancel: bool = False) -> str:
    """A METHOD:REQUEST calendar with one event: the consultation's time in UTC, specialist as organizer.

    With `cancel`, METHOD:CANCEL for the same UID (STATUS:CANCELLED, a higher SEQUENCE): calendar clients
    remove the event they added from the invitation.
    """
    cal = calendar(method="CANCEL" if cancel else "REQUEST")
    cal.add_component(_invitation_event(consultation, cancel))
    return cal.to_ical().decode("utf-8")


def cancellations_ics(consultations: list[Consultation]) -> str:
    """One METHOD:CANCEL calendar removing several consultations at once (one email telling a client that all
    their consultations with a blocked specialist are cancelled)."""
    cal = calendar(method="CANCEL")
    for consultation in consultations:
        cal.add_component(_invitation_event(consultation, cancel=True))
    return cal.to_ical().decode("utf-8")


def _invitation_event(consultation: Consultation, cancel: bool) -> Event:
    """The emailed event of a consultation: CONFIRMED, or CANCELLED with `cancel`."""
    slot = _related(consultation, "slot", Slot, consultation.slot_id)
    specialist = _related(slot, "specialist", User, slot.specialist_id)
    client = _related(consultation, "client", User, consultation.client_id)
    return consultation_event(
        consultation,
        slot,
        specialist,
        client,
        status="CANCELLED" if cancel else "CONFIRMED",
        changed=changed_at(consultation, slot),
        people=True,
    )
