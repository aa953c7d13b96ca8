"""Who may do what: every rule of the url_map × GET/POST × kind of visitor (× own, other's or missing object)
→ the expected answer, from ONE table. A route without a row in the table fails; so does a POST without its
CSRF token. A refused request leaves every table of the database exactly as it was."""

import itertools
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pyotp
import pytest
from sqlalchemy import text

from portal import create_app
from portal.clock import utcnow
from portal.extensions import db as _db
from portal.models import Consultation, DayOff, OutboxEmail, Slot, User, WebhookEndpoint
from portal.services.tokens import CONFIRM, RESET, issue_token
from portal.services.two_factor import encrypt_secret
from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.proof.http import is_local
from tests.support.auth import post_login, registration
from tests.support.database import world_app, world_db  # noqa: F401 (world_db is this module's db)
from tests.support.web import PortalClient

# Cases build their slots from the running clock: scripts/test.sh runs them at 23:30 and 00:30 UTC too.
pytestmark = pytest.mark.clock

# The answers, as `observed()` names a response.
OK, INVALID, NOT_FOUND, NO_METHOD = "200", "422", "404", "405"
FORBIDDEN, BLOCKED = "403", "403 blocked page"
LOGIN = "302 to /login?next=<this path>"
HOME = "302 to the visitor's home"
TO_LOGIN, TO_INDEX = "302 to /login", "302 to /"
BACK = "303 to a page of this site"
ANY_METHOD = "any"


def objects(**answers):
    """A cell that depends on the object in the URL: own, others (someone else's), missing, any."""
    return answers


@dataclass(frozen=True)
class Access:
    """Expected answers per method, as (anonymous, client, specialist, admin, blocked user of any role)."""

    GET: tuple
    POST: tuple
    obj: str | None = None  # what the URL's argument names: slot, consultation, accepted, user, blocked_user, ...
    owner: str | None = None  # the role for which own and other people's objects differ
    fresh: bool = False  # the request ends the session: use a session of its own


NONE = (NO_METHOD, NO_METHOD, NO_METHOD, NO_METHOD, BLOCKED)  # the method is not accepted at all
NOWHERE = (NO_METHOD,) * 5  # not accepted, and no session looked at (the API's addresses)
OWN_ONLY = objects(own=OK, others=NOT_FOUND, missing=NOT_FOUND)
OWN_ACTION = objects(own=BACK, others=NOT_FOUND, missing=NOT_FOUND)
# Token-addressed and public (calendar apps send no cookie): anyone with a live token reads it.
FEED = objects(any=OK, blocked=NOT_FOUND, missing=NOT_FOUND)

# fmt: off
EXPECTED = {
    #                              anonymous  client     specialist  admin       blocked
    "main.index":             Access(GET=(OK,        HOME,      HOME,       HOME,       BLOCKED), POST=NONE),
    "main.healthz":           Access(GET=(OK,        OK,        OK,         OK,         BLOCKED), POST=NONE),
    "main.dev_mail":          Access(GET=(NOT_FOUND, NOT_FOUND, NOT_FOUND,  NOT_FOUND,  BLOCKED), POST=NONE),
    "main.set_language":      Access(GET=NONE, POST=(TO_INDEX, TO_INDEX, TO_INDEX, TO_INDEX, BLOCKED)),
    "static":                 Access(GET=(OK,        OK,        OK,         OK,         OK), POST=NONE, obj="file"),
    "auth.login":             Access(GET=(OK,        HOME,      HOME,       HOME,       BLOCKED),
                                     POST=(INVALID,  HOME,      HOME,       HOME,       BLOCKED)),
    "auth.logout":            Access(GET=NONE, POST=(TO_LOGIN, TO_LOGIN, TO_LOGIN, TO_LOGIN, BLOCKED), fresh=True),
    "auth.register":          Access(GET=(OK,        HOME,      HOME,       HOME,       BLOCKED),
                                     POST=(INVALID,  HOME,      HOME,       HOME,       BLOCKED)),
    "auth.registered":        Access(GET=(OK,        OK,        OK,         OK,         BLOCKED), POST=NONE),
    "auth.confirm":           Access(GET=(objects(any=TO_LOGIN, missing=NOT_FOUND),) * 4 + (BLOCKED,), POST=NONE,
                                     obj="confirm_token"),
    "auth.resend_confirmation": Access(GET=(OK,      OK,        OK,         OK,         BLOCKED),
                                       POST=(INVALID, INVALID,  INVALID,    INVALID,    BLOCKED)),
    "auth.reset_request":     Access(GET=(OK,        OK,        OK,         OK,         BLOCKED),
                                     POST=(INVALID,  INVALID,   INVALID,    INVALID,    BLOCKED)),
    "auth.reset_password":    Access(GET=(objects(any=OK, missing=NOT_FOUND),) * 4 + (BLOCKED,),
                                     POST=(objects(any=INVALID, missing=NOT_FOUND),) * 4 + (BLOCKED,),
                                     obj="reset_token"),
    "auth.profile":           Access(GET=(LOGIN,     OK,        OK,         OK,         BLOCKED),
                                     POST=(LOGIN,    OK,        OK,         OK,         BLOCKED)),
    # Set-up of two-factor authentication: a code is needed to turn it on (an empty one is refused).
    "auth.two_factor":        Access(GET=(LOGIN,     OK,        OK,         OK,         BLOCKED),
                                     POST=(LOGIN,    INVALID,   INVALID,    INVALID,    BLOCKED)),
    # New recovery codes: for an account without two-factor authentication, back to its set-up page.
    "auth.new_recovery_codes": Access(GET=NONE, POST=(LOGIN, BACK,      BACK,       BACK,       BLOCKED)),
    # The login's code step: without a password checked a moment ago, back to the login page.
    "auth.login_code":        Access(GET=(TO_LOGIN,  HOME,      HOME,       HOME,       BLOCKED),
                                     POST=(TO_LOGIN, HOME,      HOME,       HOME,       BLOCKED)),
    "directory.specialists":  Access(GET=(OK,        OK,        OK,         OK,         BLOCKED), POST=NONE),
    "directory.profile":      Access(GET=(objects(any=OK, missing=NOT_FOUND),) * 4 + (BLOCKED,), POST=NONE,
                                     obj="specialist"),
    "directory.book":         Access(GET=(LOGIN, objects(any=OK, missing=NOT_FOUND), FORBIDDEN, FORBIDDEN, BLOCKED),
                                     POST=(LOGIN, objects(any=BACK, missing=NOT_FOUND), FORBIDDEN, FORBIDDEN,
                                           BLOCKED), obj="slot"),
    "client.slots":           Access(GET=(LOGIN,     OK,        FORBIDDEN,  FORBIDDEN,  BLOCKED), POST=NONE),
    "client.request_slot":    Access(GET=NONE, POST=(LOGIN, objects(any=BACK, missing=BACK), FORBIDDEN, FORBIDDEN,
                                                     BLOCKED), obj="slot"),
    "client.consultations":   Access(GET=(LOGIN,     OK,        FORBIDDEN,  FORBIDDEN,  BLOCKED), POST=NONE),
    "client.cancel":          Access(GET=(LOGIN,     OWN_ONLY,  FORBIDDEN,  FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    objects(own=INVALID, others=NOT_FOUND, missing=NOT_FOUND),
                                           FORBIDDEN, FORBIDDEN, BLOCKED), obj="consultation", owner="client"),
    "client.reschedule":      Access(GET=(LOGIN,     OWN_ONLY,  FORBIDDEN,  FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    objects(own=INVALID, others=NOT_FOUND, missing=NOT_FOUND),
                                           FORBIDDEN, FORBIDDEN, BLOCKED), obj="consultation", owner="client"),
    "client.consultation_ics_file": Access(GET=(LOGIN, OWN_ONLY, FORBIDDEN, FORBIDDEN,  BLOCKED), POST=NONE,
                                           obj="accepted", owner="client"),
    "specialist.calendar":    Access(GET=(LOGIN,     FORBIDDEN, OK,         FORBIDDEN,  BLOCKED), POST=NONE),
    "specialist.slots":       Access(GET=(LOGIN,     FORBIDDEN, OK,         FORBIDDEN,  BLOCKED), POST=NONE),
    "specialist.new_slot":    Access(GET=(LOGIN,     FORBIDDEN, OK,         FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    FORBIDDEN, INVALID,    FORBIDDEN,  BLOCKED)),
    "specialist.edit_slot":   Access(GET=(LOGIN,     FORBIDDEN, OWN_ONLY,   FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    FORBIDDEN, objects(own=INVALID, others=NOT_FOUND,
                                                                        missing=NOT_FOUND), FORBIDDEN, BLOCKED),
                                     obj="slot", owner="specialist"),
    "specialist.delete_slot": Access(GET=(LOGIN,     FORBIDDEN, OWN_ONLY,   FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    FORBIDDEN, OWN_ACTION, FORBIDDEN,  BLOCKED),
                                     obj="slot", owner="specialist"),
    "specialist.consultations": Access(GET=(LOGIN,   FORBIDDEN, OK,         FORBIDDEN,  BLOCKED), POST=NONE),
    "specialist.accept_request": Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, FORBIDDEN, BLOCKED),
                                        obj="consultation", owner="specialist"),
    "specialist.reject_request": Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, FORBIDDEN, BLOCKED),
                                        obj="consultation", owner="specialist"),
    "specialist.move_consultation": Access(GET=(LOGIN, FORBIDDEN, OWN_ONLY, FORBIDDEN, BLOCKED),
                                           POST=(LOGIN, FORBIDDEN, objects(own=INVALID, others=NOT_FOUND,
                                                                           missing=NOT_FOUND), FORBIDDEN, BLOCKED),
                                           obj="accepted", owner="specialist"),
    "specialist.cancel_consultation": Access(GET=(LOGIN, FORBIDDEN, OWN_ONLY, FORBIDDEN, BLOCKED),
                                             POST=(LOGIN, FORBIDDEN, objects(own=INVALID, others=NOT_FOUND,
                                                                             missing=NOT_FOUND), FORBIDDEN, BLOCKED),
                                             obj="accepted", owner="specialist"),
    "specialist.availability_page": Access(GET=(LOGIN, FORBIDDEN, OK,      FORBIDDEN,  BLOCKED),
                                     POST=(LOGIN,    FORBIDDEN, INVALID,    FORBIDDEN,  BLOCKED)),
    "specialist.add_days_off": Access(GET=NONE, POST=(LOGIN, FORBIDDEN, INVALID, FORBIDDEN, BLOCKED)),
    "specialist.remove_days_off": Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, FORBIDDEN, BLOCKED),
                                         obj="day_off", owner="specialist"),
    "admin.dashboard":        Access(GET=(LOGIN,     FORBIDDEN, FORBIDDEN,  OK,         BLOCKED), POST=NONE),
    # Without its two dates the export answers with the overview's form and the errors next to the fields.
    "admin.export_consultations": Access(GET=(LOGIN, FORBIDDEN, FORBIDDEN,  INVALID,    BLOCKED), POST=NONE),
    "admin.users":            Access(GET=(LOGIN,     FORBIDDEN, FORBIDDEN,  OK,         BLOCKED), POST=NONE),
    "admin.log":              Access(GET=(LOGIN,     FORBIDDEN, FORBIDDEN,  OK,         BLOCKED), POST=NONE),
    "admin.emails":           Access(GET=(LOGIN,     FORBIDDEN, FORBIDDEN,  OK,         BLOCKED), POST=NONE),
    # An admin's "own" user is their own account: the block page says they cannot. A POST without the
    # confirmation page's `confirm` answers with that page (no one-click block).
    "admin.block":            Access(GET=(LOGIN, FORBIDDEN, FORBIDDEN, objects(own=OK, others=OK, missing=NOT_FOUND),
                                          BLOCKED),
                                     POST=(LOGIN, FORBIDDEN, FORBIDDEN, objects(own=OK, others=OK,
                                                                                missing=NOT_FOUND), BLOCKED),
                                     obj="user", owner="admin"),
    "admin.unblock":          Access(GET=NONE, POST=(LOGIN, FORBIDDEN, FORBIDDEN, objects(own=BACK, others=BACK,
                                                                                          missing=NOT_FOUND), BLOCKED),
                                     obj="blocked_user", owner="admin"),
    # Resetting someone's two-factor authentication; one's own, or an account without it, is refused with a message.
    "admin.reset_two_factor": Access(GET=NONE, POST=(LOGIN, FORBIDDEN, FORBIDDEN, objects(own=BACK, others=BACK,
                                                                                          missing=NOT_FOUND), BLOCKED),
                                     obj="protected_user", owner="admin"),
    "admin.retry_email":      Access(GET=NONE, POST=(LOGIN, FORBIDDEN, FORBIDDEN, objects(any=BACK, missing=NOT_FOUND),
                                                     BLOCKED), obj="email"),
    "feeds.feed":             Access(GET=(FEED,      FEED,      FEED,       FEED,       BLOCKED), POST=NONE,
                                     obj="feed_token"),
    "webhooks.endpoints":     Access(GET=(LOGIN,     FORBIDDEN, OK,         OK,         BLOCKED),
                                     POST=(LOGIN,    FORBIDDEN, INVALID,    INVALID,    BLOCKED)),
    "webhooks.disable":       Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, OWN_ACTION, BLOCKED),
                                     obj="webhook"),
    "webhooks.enable":        Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, OWN_ACTION, BLOCKED),
                                     obj="disabled_webhook"),
    "webhooks.delete":        Access(GET=NONE, POST=(LOGIN, FORBIDDEN, OWN_ACTION, OWN_ACTION, BLOCKED),
                                     obj="webhook"),
    # The API's document and docs page are public and never look at the session (not even a blocked one's).
    "api-docs.openapi_json":  Access(GET=(OK,) * 5, POST=NOWHERE),
    "api_docs.docs":          Access(GET=(OK,) * 5, POST=NOWHERE),
}
# fmt: on
# The API's operations have a matrix of their own, generated from the OpenAPI document (tests/api/).
API_OPERATIONS = "api."

ACTORS = ("anonymous", "client", "specialist", "admin", "blocked client", "blocked specialist", "blocked admin")
HOMES = {"client": "/client/slots", "specialist": "/specialist/calendar", "admin": "/admin"}
BLOCKED_WORDS = "Your account is blocked"
MISSING_ID = 2_000_000_000
# Only the url_map is read from this app; the tests run against one wired to the test database.
ROUTES = [
    rule
    for rule in create_app(
        {"DATABASE_URL": "postgresql://unused.invalid/portal", "SECRET_KEY": "x", "REDIS_URL": ""}
    ).url_map.iter_rules()
    if not rule.endpoint.startswith(API_OPERATIONS)
]


def role_of(actor: str) -> str | None:
    return None if actor == "anonymous" else actor.removeprefix("blocked ")


def cell(access: Access, method: str, actor: str):
    return getattr(access, method)[min(ACTORS.index(actor), 4)]


def variants(access: Access, method: str, actor: str) -> list[str | None]:
    """Objects to try: every kind the cell names, else the one a stranger (or a blocked owner) would hit."""
    found = cell(access, method, actor)
    if isinstance(found, dict):
        return list(found)
    if access.obj is None:
        return [None]
    if access.owner and role_of(actor) == access.owner:
        return ["own"]
    return ["others" if access.owner else "any"]


def cases():
    for rule in sorted(ROUTES, key=lambda r: r.endpoint):
        access = EXPECTED.get(rule.endpoint)
        for method, actor in itertools.product(("GET", "POST"), ACTORS):
            for variant in variants(access, method, actor) if access else [None]:
                name = f"{rule.endpoint}-{method}-{actor.replace(' ', '_')}" + (f"-{variant}" if variant else "")
                yield pytest.param(rule.endpoint, method, actor, variant, id=name)


def test_every_route_has_exactly_the_methods_of_its_row():
    """A new route, a route gone, or a method added or dropped all need the table to change first."""
    rules = {rule.endpoint: rule for rule in ROUTES}
    assert sorted(set(rules) - set(EXPECTED)) == [], "routes without expectations"
    assert sorted(set(EXPECTED) - set(rules)) == [], "expectations for routes that are gone"
    for endpoint, access in EXPECTED.items():
        accepted = {m for m in ("GET", "POST") if getattr(access, m) not in (NONE, NOWHERE)}
        assert accepted == rules[endpoint].methods & {"GET", "POST"}, endpoint


# --------------------------------------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(app_config, session_clock, run_id, redis_client):
    """One app and one logged-in session per kind of visitor, for the whole module."""
    with world_app(app_config, session_clock, run_id, redis_client, "matrix", PortalClient) as application:
        world = SimpleNamespace(app=application, counter=itertools.count(1), sessions={})
        world.other_client = make_user("client", username="other.client").id
        world.other_specialist = make_user("specialist", username="other.specialist").id
        for actor in ACTORS:
            world.sessions[actor] = visitor(world, actor)
    return world


def visitor(world, actor: str) -> SimpleNamespace:
    """A session for this kind of visitor: its cookie, its CSRF token and its user."""
    browser = world.app.test_client()
    user = None
    if actor != "anonymous":
        user = make_user(role_of(actor))
        response = post_login(browser, user.username)
        assert response.status_code == 302, actor
    token = browser.csrf_token("/profile" if user else "/login")
    if actor.startswith("blocked "):
        _db.session.get(User, user.id).is_blocked = True
        _db.session.commit()
    return SimpleNamespace(cookie=browser.get_cookie("session").value, csrf=token, user=user and user.id)


def browser_of(world, session) -> PortalClient:
    """A new browser holding a copy of the session's cookie."""
    browser = world.app.test_client()
    browser.set_cookie("session", session.cookie)
    return browser


def build(world, kind: str | None, variant: str | None, actor_id: int | None, owner: str | None):
    """The URL argument: a real object made for this case (own, someone else's) or an id nobody has."""
    if variant == "missing":
        missing = {"confirm_token": "no-such-token", "reset_token": "no-such-token", "feed_token": "N" * 43}
        return missing.get(kind, MISSING_ID)
    if kind is None:
        return None
    own = variant == "own"
    actor_user = actor_id and _db.session.get(User, actor_id)
    others = SimpleNamespace(
        client=_db.session.get(User, world.other_client), specialist=_db.session.get(User, world.other_specialist)
    )
    slot = lambda specialist: case_slot(specialist, next(world.counter))  # noqa: E731
    if kind == "file":
        return "css/portal.css"
    if kind == "specialist":
        return others.specialist.username
    if kind == "slot":
        return slot(actor_user if own else others.specialist).id
    if kind in ("consultation", "accepted"):
        status = "accepted" if kind == "accepted" else "pending"
        if owner == "specialist":
            return make_consultation(slot(actor_user if own else others.specialist), others.client, status=status).id
        client = actor_user if own else make_user("client")
        return make_consultation(slot(others.specialist), client, status=status).id
    if kind == "day_off":
        day = utcnow().date() + timedelta(days=30)
        period = DayOff(specialist_id=(actor_user if own else others.specialist).id, first_day=day, last_day=day)
        _db.session.add(period)
        _db.session.commit()
        return period.id
    if kind in ("user", "blocked_user"):
        return actor_user.id if own else make_user("client", blocked=kind == "blocked_user").id
    if kind == "protected_user":  # an account with two-factor authentication on
        secret = encrypt_secret(pyotp.random_base32())
        return actor_user.id if own else make_user("client", totp_secret=secret, totp_enabled_at=utcnow()).id
    if kind == "feed_token":
        return make_user("specialist", blocked=variant == "blocked").feed_token
    if kind in ("webhook", "disabled_webhook"):
        endpoint = WebhookEndpoint(
            user_id=actor_id if own else world.other_specialist,
            url="http://127.0.0.1:9/hook",
            events="consultation.requested",
            secret="whsec_AAAA",
            disabled_at=utcnow() if kind == "disabled_webhook" else None,
            disabled_reason="owner" if kind == "disabled_webhook" else None,
        )
        _db.session.add(endpoint)
        _db.session.commit()
        return endpoint.id
    if kind == "email":
        row = OutboxEmail(recipient="x@example.com", kind="k", subject="s", body_text="b", state="failed", attempts=3)
        _db.session.add(row)
        _db.session.commit()
        return row.id
    user = make_user("client", confirmed=kind != "confirm_token")
    raw = issue_token(user, CONFIRM if kind == "confirm_token" else RESET)
    _db.session.commit()
    return raw


def case_slot(specialist: User, n: int) -> Slot:
    """The n-th case's own slot: 45 minutes from 08:00 to 19:00 in the specialist's zone, 12 a day from the day after
    tomorrow on, so at no hour of the run does one cross midnight (its edit form sends one date for both times)."""
    zone = ZoneInfo(specialist.timezone)
    day = utcnow().astimezone(zone).date() + timedelta(days=2 + n // 12)
    starts_at = datetime.combine(day, time(8 + n % 12), zone)
    return make_slot(specialist, starts_at=starts_at, minutes=45)


def url_for_case(endpoint: str, value) -> str:
    rule = next(r for r in ROUTES if r.endpoint == endpoint)
    values = {arg: value for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


def fingerprint() -> str:
    """A digest of every row of every table."""
    parts = [
        f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table.name} t"
        for table in _db.metadata.sorted_tables
    ]
    return "".join(_db.session.execute(text(" UNION ALL ".join(parts))).scalars())


def title_of(response) -> str:
    found = re.search(r"<title>(.*?)</title>", response.get_data(as_text=True), re.S)
    return found.group(1).strip() if found else response.get_data(as_text=True)[:200]


def observed(response, path: str, actor: str) -> str:
    """Name the answer the way the table does."""
    status, location = response.status_code, response.headers.get("Location", "")
    if status == 302 and location == "/login?" + urlencode({"next": path}):
        return LOGIN
    if status == 302 and role_of(actor) and location == HOMES[role_of(actor)]:
        return HOME
    if status == 302 and location in ("/login", "/"):
        return TO_LOGIN if location == "/login" else TO_INDEX
    if status == 303 and is_local(location):
        return BACK
    if status == 403:
        return BLOCKED if BLOCKED_WORDS in response.get_data(as_text=True) else FORBIDDEN
    return f"{status} {location}".strip()


REFUSED = {LOGIN, HOME, FORBIDDEN, BLOCKED, NOT_FOUND, NO_METHOD, INVALID}


def session_for(world, access: Access, actor: str):
    if not access.fresh:
        return world.sessions[actor]
    return visitor(world, actor)


@pytest.mark.parametrize(("endpoint", "method", "actor", "variant"), list(cases()))
def test_access(world, db, endpoint, method, actor, variant):
    access = EXPECTED.get(endpoint)
    assert access is not None, f"{endpoint} has no row in EXPECTED: say who may use it"
    session = session_for(world, access, actor)
    value = build(world, access.obj, variant, session.user, access.owner)
    path = url_for_case(endpoint, value)
    expected = cell(access, method, actor)
    expected = expected[variant] if isinstance(expected, dict) else expected
    before = fingerprint()
    browser = browser_of(world, session)
    response = browser.open(path, method=method, data={"csrf_token": session.csrf} if method == "POST" else None)
    response.close()
    assert observed(response, path, actor) == expected, title_of(response)
    if expected in REFUSED or (method == "GET" and expected == OK):
        assert fingerprint() == before, "a refused request changed the database"


# ------------------------------------------------------------------------------------------------ CSRF

NEW_PASSWORD = "violet-harbour-quartz-58"
# What a person would fill in: without the token none of it may happen; with it, all of it does.
FILLED = {
    "auth.login": lambda value: {"login": "other.client", "password": PASSWORD},
    "auth.register": lambda value: registration(username="csrf.newbie", email="csrf.newbie@example.com"),
    "auth.profile": lambda value: {
        "password-current_password": PASSWORD,
        "password-new_password": NEW_PASSWORD,
        "password-confirm": NEW_PASSWORD,
        "password-submit": "Change password",
    },
    "auth.reset_request": lambda value: {"email": "other.client@example.com"},
    "auth.resend_confirmation": lambda value: {"email": "other.client@example.com"},
    "auth.reset_password": lambda value: {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    "main.set_language": lambda value: {"lang": "ru"},
    "directory.book": lambda value: {"message": "Could we talk about sleep?"},
    "client.cancel": lambda value: {"reason": "Personal"},
    "client.reschedule": lambda value: {"slot_id": str(gap_slot(value))},
    "specialist.move_consultation": lambda value: {"slot_id": str(gap_slot(value))},
    "specialist.cancel_consultation": lambda value: {"reason": "Taken ill"},
    "specialist.reject_request": lambda value: {"reason": "Fully booked"},
    # 300 days ahead: the same future date whatever the hour or the specialist's zone.
    "specialist.new_slot": lambda value: {
        "date": (utcnow() + timedelta(days=300)).date().isoformat(),
        "start_time": "10:00",
        "end_time": "11:00",
        "repeat_weeks": "0",
    },
    "specialist.edit_slot": lambda value: slot_fields(value, note="Moved to the small room"),
    "specialist.availability_page": lambda value: {
        "monday": "09:00-12:00",
        "session_minutes": "50",
        "break_minutes": "10",
        "notice_hours": "0",
        "horizon_days": "14",
        "cutoff_hours": "0",
    },
    "specialist.add_days_off": lambda value: {
        "first_day": (utcnow() + timedelta(days=300)).date().isoformat(),
        "last_day": (utcnow() + timedelta(days=301)).date().isoformat(),
    },
    "admin.block": lambda value: {"reason": "Spam", "confirm": "yes"},
    "webhooks.endpoints": lambda value: {"url": "http://127.0.0.1:9/hook", "events": "consultation.requested"},
}
# Posts that change no row even when they succeed (a login, a link for a confirmed address; anonymous switches).
NO_ROW_CHANGES = {("auth.login", "anonymous"), ("auth.resend_confirmation", None), ("main.set_language", "anonymous")}
NO_ROW_CHANGES |= {("auth.logout", "anonymous")}
# Without a password checked a moment before, the code step sends back to the login page (its throttling and
# its single-use codes are proven in tests/integration/test_two_factor.py).
NO_ROW_CHANGES |= {("auth.login_code", "anonymous")}
# Accounts of the matrix have no two-factor authentication: new recovery codes send to its set-up page (making
# them is proven in tests/integration/test_two_factor.py).
NO_ROW_CHANGES |= {("auth.new_recovery_codes", None)}
# Forms whose filling is read off the page first: the set-up's code is made from the secret the page shows.
FILLED_FROM_PAGE = {
    "auth.two_factor": lambda html: {
        "code": pyotp.TOTP(SECRET_ON_PAGE.search(html).group(1).replace(" ", "")).at(utcnow())
    }
}
SECRET_ON_PAGE = re.compile(r'id="secret"[^>]*>([A-Z2-7 ]+)<')


def gap_slot(consultation_id: int) -> int:
    """A free 10-minute slot of the consultation's specialist right after its slot (case slots leave 15 minutes)."""
    consultation = _db.session.get(Consultation, consultation_id)
    slot = _db.session.get(Slot, consultation.slot_id)
    return make_slot(_db.session.get(User, slot.specialist_id), starts_at=slot.ends_at, minutes=10).id


def slot_fields(slot_id: int, **changes) -> dict:
    """The edit form of a slot as its owner sees it: date and times in the owner's zone."""
    slot = _db.session.get(Slot, slot_id)
    owner = _db.session.get(User, slot.specialist_id)
    zone = ZoneInfo(owner.timezone)
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    fields = {
        "date": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "end_time": end.strftime("%H:%M"),
        "specialist": owner.username,
    }
    return {**fields, **changes}


def csrf_cases():
    """Every POST route, for every kind of visitor allowed past the role check."""
    for rule in sorted(ROUTES, key=lambda r: r.endpoint):
        if "POST" not in rule.methods:
            continue
        access = EXPECTED.get(rule.endpoint)
        actors = [a for a in ACTORS[:4] if access is None or allowed(access, a)]
        assert actors or access is None, f"nobody may POST to {rule.endpoint}"
        for actor in actors[:1] if access is None else actors:
            yield pytest.param(rule.endpoint, actor, id=f"{rule.endpoint}-{actor}")


def allowed(access: Access, actor: str) -> bool:
    found = cell(access, "POST", actor)
    found = found.get("own", found.get("any")) if isinstance(found, dict) else found
    return found not in (LOGIN, HOME, FORBIDDEN, NO_METHOD)


@pytest.mark.parametrize(("endpoint", "actor"), list(csrf_cases()))
def test_every_post_needs_its_own_sessions_csrf_token(world, db, endpoint, actor):
    access = EXPECTED.get(endpoint)
    assert access is not None, f"{endpoint} has no row in EXPECTED"
    session = visitor(world, actor)  # a session of its own: the control below really changes things
    # On users the action that does something is on someone else; on slots and consultations, on one's own.
    wanted = ("others",) if access.obj in ("user", "blocked_user", "protected_user") else (None, "own", "any")
    variant = next(v for v in variants(access, "POST", actor) if v in wanted)
    value = build(world, access.obj, variant, session.user, access.owner)
    path = url_for_case(endpoint, value)
    data = FILLED.get(endpoint, lambda v: {})(value)
    browser = browser_of(world, session)
    if endpoint in FILLED_FROM_PAGE:
        data = FILLED_FROM_PAGE[endpoint](browser.get(path).get_data(as_text=True))
    before = fingerprint()
    someone_elses = world.sessions["client"].csrf
    for token in (None, "forged-token", someone_elses):
        response = browser.post(path, data={**data, **({"csrf_token": token} if token else {})})
        assert response.status_code == 400, (token, title_of(response))
        assert "<h1>Form expired</h1>" in response.get_data(as_text=True)
    assert fingerprint() == before, "a POST without a valid token changed the database"
    if actor != "anonymous":
        assert browser.get("/profile").status_code == 200, "a POST without a valid token ended the session"
    # The control: the very same form with the session's token is let through and does its work.
    response = browser.post(path, data={**data, "csrf_token": session.csrf})
    assert response.status_code != 400, title_of(response)
    if (endpoint, actor) not in NO_ROW_CHANGES and (endpoint, None) not in NO_ROW_CHANGES:
        assert fingerprint() != before, f"the control POST changed nothing ({response.status_code})"
