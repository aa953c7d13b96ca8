"""The words people read for stored values: statuses, roles, cancellation reasons, email states.

One home for each, in the current language; templates reach them as globals of the same names.
"""

from functools import lru_cache

from flask import Flask, g, has_app_context
from markupsafe import Markup

from portal.i18n import gettext as _
from portal.i18n import language, remembered
from portal.i18n import lazy_gettext as _l
from portal.models.user import person_label


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        status_labels=status_labels,
        status_badge=status_badge,
        role_labels=role_labels,
        reason_labels=reason_labels,
        email_state_label=email_state_label,
    )
    app.jinja_env.filters["person"] = person
    app.jinja_env.globals["person_tag"] = person_tag


def person(value, username: str | None = None) -> str:
    """A person as text, "Display name @username" (`person_label`): `user|person`, for anything with
    `display_name` and `username`, or `display_name|person(username)`."""
    if username is None:
        return person_label(value.display_name, value.username)
    return person_label(value, username)


# A person as every page names them, in HTML: "Display name @username", or "@username" alone (person_label).
PERSON_HTML = Markup(
    '<span class="person-label"><strong class="person-name">%s</strong> <span class="username">@%s</span></span>'
)
USERNAME_HTML = Markup('<span class="person-label"><span class="username">@%s</span></span>')


@lru_cache(maxsize=4096)
def person_tag(display_name: str | None, username: str) -> Markup:
    """A person in HTML, remembered per name: a list names one a row, the same people again on every request
    (a Jinja macro cost 4–5 µs a call, markupsafe's % a few)."""
    return PERSON_HTML % (display_name, username) if display_name else USERNAME_HTML % username


def status_labels() -> dict:
    """The status words people see, in the current language (SPEC §10); built once per request and language."""
    locale = language().code
    cache = g.setdefault("status_labels", {}) if has_app_context() else {}
    if locale not in cache:
        cache[locale] = {
            "pending": _("Pending"),
            "accepted": _("Accepted"),
            "rejected": _("Rejected"),
            "cancelled": _("Cancelled"),
            "cancelled_by_specialist": _("Cancelled by specialist"),
            "expired": _("Expired"),
            "free": _("free"),
            "booked": _("booked"),
        }
    return cache[locale]


STATUS_BADGE = Markup('<span class="status status-%s">%s</span>')


@remembered(maxsize=256)
def status_badge(status: str) -> Markup:
    """The status word in colour and text: <span class="status status-accepted">Accepted</span>."""
    return STATUS_BADGE % (status, status_labels().get(status, status))


def role_labels() -> dict:
    """The roles by stored value (lazy: usable in form choices defined at import)."""
    return {"client": _l("Client"), "specialist": _l("Specialist"), "admin": _l("Admin")}


def reason_labels() -> dict:
    """The cancellation reasons as people read them, by stored value."""
    return {
        "Health": _l("Health"),
        "Personal": _l("Personal"),
        "Found_another_specialist": _l("Found another specialist"),
        "Other": _l("Other"),
        # Not offered on the cancel form: the portal's own reason when a new time replaced the consultation.
        "Rescheduled": _l("Rescheduled"),
    }


def email_state_label(state: str) -> str:
    """The word shown for an outbox state."""
    return {"queued": _("queued"), "sent": _("sent"), "failed": _("failed")}.get(state, state)


def email_kind_label(kind: str) -> str:
    """What an outgoing email is about, in words ("Slot deleted" for `slot_deleted`); a kind without words
    of its own is shown as its stored name made readable."""
    words = {
        "confirm_account": _l("Email confirmation"),
        "reset_password": _l("Password reset"),
        "password_changed": _l("Password changed"),
        "new_request": _l("New request"),
        "request_accepted": _l("Request accepted"),
        "request_rejected": _l("Request rejected"),
        "request_cancelled": _l("Cancelled by client"),
        "slot_changed": _l("Slot changed"),
        "slot_deleted": _l("Slot deleted"),
        "reminder_24h": _l("Reminder a day ahead"),
        "reminder_1h": _l("Reminder an hour ahead"),
        "request_expired": _l("Request expired"),
        "reschedule_requested": _l("New time requested"),
        "reschedule_sent": _l("New time request sent"),
        "reschedule_accepted": _l("New time accepted"),
        "reschedule_replaced": _l("Earlier time cancelled"),
        "consultation_moved": _l("Consultation moved"),
        "specialist_cancelled": _l("Cancelled by specialist"),
        "cancellation_confirmed": _l("Cancellation confirmed"),
        "specialist_unavailable": _l("Specialist blocked"),
        "webhook_disabled": _l("Webhook disabled"),
        "two_factor_on": _l("Two-factor authentication on"),
        "two_factor_off": _l("Two-factor authentication off"),
        "recovery_codes_new": _l("New recovery codes"),
    }
    found = words.get(kind)
    return str(found) if found is not None else kind.replace("_", " ").capitalize()


def region_label(region: str) -> str:
    """The heading of a group of the time zone select: the first part of the zone names in it, in words."""
    words = {
        "Africa": _l("Africa"),
        "America": _l("America"),
        "Antarctica": _l("Antarctica"),
        "Arctic": _l("Arctic"),
        "Asia": _l("Asia"),
        "Atlantic": _l("Atlantic Ocean"),
        "Australia": _l("Australia"),
        "Europe": _l("Europe"),
        "Indian": _l("Indian Ocean"),
        "Pacific": _l("Pacific Ocean"),
        "UTC": _l("Coordinated Universal Time"),
        "Other": _l("Other zones"),
    }
    found = words.get(region)
    return str(found) if found is not None else region
