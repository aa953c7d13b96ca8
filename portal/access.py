"""Who may see what: role checks, each role's pages, owner loaders (another owner's object is a 404), safe redirects."""

from functools import lru_cache, wraps
from urllib.parse import urlsplit

from flask import Flask, abort, request, url_for
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from portal.extensions import db, login_manager
from portal.i18n import lazy_gettext as _l
from portal.models import Consultation, DayOff, Slot, User, WebhookEndpoint


def init_app(app: Flask) -> None:
    app.jinja_env.globals["navigation"] = navigation


def role_required(*roles: str):
    """Anonymous → login with next; another role → 403."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def safe_next(target: str | None) -> str | None:
    """Only paths on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or len(target) > 2000:
        return None
    if any(ch in target for ch in ("\\", "\r", "\n", "\t", "\x00")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# Each role's pages in the navigation, in order; the first is the role's home (where login lands).
NAVIGATION = {
    "client": (
        ("client.slots", _l("Find a slot")),
        ("directory.specialists", _l("Specialists")),
        ("client.consultations", _l("My consultations")),
    ),
    "specialist": (
        ("specialist.calendar", _l("Calendar")),
        ("specialist.slots", _l("Slots")),
        ("specialist.consultations", _l("Requests")),
        ("specialist.availability_page", _l("Availability")),
    ),
    "admin": (
        ("admin.dashboard", _l("Overview")),
        ("admin.users", _l("Users")),
        ("admin.log", _l("Moderation log")),
        ("admin.emails", _l("Email delivery")),
    ),
}


def navigation(user, path: str) -> list[tuple[str, str, bool]]:
    """(URL, label, current) of the pages the user's role has in the navigation. The current entry is the longest
    of those this page (`path`) is at or under: /admin/users, not /admin."""
    pages = NAVIGATION.get(user.role, ())
    urls = _navigation_urls(user.role, request.script_root)
    current = max((url for url in urls if path == url or path.startswith(url + "/")), key=len, default=None)
    return [(url, str(label), url == current) for url, (_, label) in zip(urls, pages, strict=True)]


@lru_cache(maxsize=64)
def _navigation_urls(role: str, script_root: str) -> tuple[str, ...]:
    """The URLs of a role's navigation, found once per mount point (`script_root`): every page shows them, and
    url_for costs more than the rest of the navigation."""
    return tuple(url_for(endpoint) for endpoint, _ in NAVIGATION.get(role, ()))


def home_endpoint(user) -> str:
    """Where the user's role starts: the first page of its navigation."""
    pages = NAVIGATION.get(user.role, ())
    return pages[0][0] if pages else "main.index"


# Owner loaders: another owner's object, a deleted one or one that never existed is the same 404.


def _locked(stmt: Select, lock: bool) -> Select:
    """The statement, locking its row FOR UPDATE (and reading it afresh) when asked."""
    return stmt.with_for_update().execution_options(populate_existing=True) if lock else stmt


def get_own_slot_or_404(specialist: User, slot_id: int, lock: bool = False) -> Slot:
    """The specialist's live slot, locked FOR UPDATE when asked; anyone else's is a 404."""
    mine = select(Slot).where(Slot.id == slot_id, Slot.specialist_id == specialist.id, Slot.deleted_at.is_(None))
    return db.first_or_404(_locked(mine, lock))


def own_request_slot_id_or_404(specialist: User, consultation_id: int) -> int:
    """The slot id of a request made on one of the specialist's slots; anyone else's is a 404."""
    return db.first_or_404(
        select(Consultation.slot_id)
        .join(Slot, Slot.id == Consultation.slot_id)
        .where(Consultation.id == consultation_id, Slot.specialist_id == specialist.id)
    )


def get_own_consultation_or_404(client: User, consultation_id: int) -> Consultation:
    """The client's own consultation with its slot and specialist loaded; anyone else's is a 404."""
    return db.first_or_404(
        select(Consultation)
        .where(Consultation.id == consultation_id, Consultation.client_id == client.id)
        .options(joinedload(Consultation.slot, innerjoin=True).joinedload(Slot.specialist, innerjoin=True))
    )


def get_own_request_or_404(specialist: User, consultation_id: int) -> Consultation:
    """A consultation on one of the specialist's slots, with its slot and client loaded; anyone else's is a 404."""
    return db.first_or_404(
        select(Consultation)
        .join(Slot, Slot.id == Consultation.slot_id)
        .where(Consultation.id == consultation_id, Slot.specialist_id == specialist.id)
        .options(joinedload(Consultation.slot), joinedload(Consultation.client, innerjoin=True))
    )


def get_own_webhook_or_404(user: User, endpoint_id: int, lock: bool = False) -> WebhookEndpoint:
    """The user's webhook endpoint, locked FOR UPDATE when asked; anyone else's is a 404."""
    mine = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.user_id == user.id)
    return db.first_or_404(_locked(mine, lock))


def get_own_day_off_or_404(specialist: User, day_off_id: int) -> DayOff:
    """The specialist's own period of days off; anyone else's is a 404."""
    return db.first_or_404(select(DayOff).where(DayOff.id == day_off_id, DayOff.specialist_id == specialist.id))
