"""Who may do what over the API: every operation of the OpenAPI document × every kind of caller (× own, someone
else's or a missing object) → the expected answer, from ONE table. An operation without a row fails, and so does a
row whose roles differ from the document's `x-roles`. A refused call leaves every table exactly as it was, and
every refusal is problem+json."""

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import pytest

from portal import create_app
from portal.api import tokens as api_tokens
from portal.clock import utcnow
from portal.extensions import db as _db
from portal.models import User
from tests.factories import make_consultation, make_slot, make_user
from tests.support.api import PROBLEM, fingerprint
from tests.support.database import world_app, world_db  # noqa: F401 (world_db is this module's db)
from tests.support.web import PortalClient

OK, CREATED, FORBIDDEN, NOT_FOUND, INVALID = "200", "201", "403", "404", "422"
UNAUTHORIZED, BLOCKED = "401", "403 blocked"


def objects(**answers):
    """A cell that depends on the object in the path: own, others (someone else's), missing, any."""
    return answers


@dataclass(frozen=True)
class Row:
    """The answers of the three roles (anonymous and revoked tokens: 401; blocked users: 403 blocked)."""

    client: object = FORBIDDEN
    specialist: object = FORBIDDEN
    admin: object = FORBIDDEN
    obj: str | None = None  # what the path's id names: slot, consultation, user, blocked_user
    owner: str | None = None  # the role for which own and other people's objects differ
    body: dict = field(default_factory=dict)  # what a caller sends (valid, so an allowed call succeeds)


OWN_OK = objects(own=OK, others=NOT_FOUND, missing=NOT_FOUND)


def new_slot_times() -> dict:
    start = (utcnow() + timedelta(days=200)).replace(hour=10, minute=0, second=0, microsecond=0)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


# fmt: off
EXPECTED = {
    ("GET", "/api/v1/specialists"):      Row(client=OK, specialist=OK, admin=OK),
    ("GET", "/api/v1/slots"):            Row(client=OK),
    ("POST", "/api/v1/slots/{slot_id}/request"):
                                         Row(client=objects(any=CREATED, missing=NOT_FOUND), obj="slot"),
    ("GET", "/api/v1/me/consultations"): Row(client=OK, specialist=OK),
    ("POST", "/api/v1/consultations/{consultation_id}/cancel"):
                                         Row(client=OWN_OK, obj="consultation", owner="client",
                                             body={"reason": "Personal"}),
    ("POST", "/api/v1/consultations/{consultation_id}/accept"):
                                         Row(specialist=OWN_OK, obj="consultation", owner="specialist"),
    ("POST", "/api/v1/consultations/{consultation_id}/reject"):
                                         Row(specialist=OWN_OK, obj="consultation", owner="specialist",
                                             body={"reason": "Fully booked"}),
    ("GET", "/api/v1/me/slots"):         Row(specialist=OK),
    ("POST", "/api/v1/me/slots"):        Row(specialist=CREATED, body="new slot"),
    ("GET", "/api/v1/me/slots/{slot_id}"):    Row(specialist=OWN_OK, obj="slot", owner="specialist"),
    ("PATCH", "/api/v1/me/slots/{slot_id}"):  Row(specialist=OWN_OK, obj="slot", owner="specialist",
                                                  body={"note": "Room 4"}),
    ("DELETE", "/api/v1/me/slots/{slot_id}"): Row(specialist=OWN_OK, obj="slot", owner="specialist"),
    ("GET", "/api/v1/admin/users"):      Row(admin=OK),
    # An admin's "own" user is their own account: they cannot block it, nor unblock it (it is not blocked).
    ("POST", "/api/v1/admin/users/{user_id}/block"):
                                         Row(admin=objects(own=INVALID, others=OK, missing=NOT_FOUND), obj="user",
                                             owner="admin", body={"reason": "Spam"}),
    ("POST", "/api/v1/admin/users/{user_id}/unblock"):
                                         Row(admin=objects(own=INVALID, others=OK, missing=NOT_FOUND),
                                             obj="blocked_user", owner="admin"),
}
# fmt: on

ROLES = ("client", "specialist", "admin")
ACTORS = ("anonymous", "revoked token", *ROLES, "blocked client", "blocked specialist", "blocked admin")
MISSING_ID = 2_000_000_000
# The document, as a client reads it: only it is read from this app (no database behind it).
DOCUMENT = (
    create_app({"DATABASE_URL": "postgresql://unused.invalid/portal", "SECRET_KEY": "x", "REDIS_URL": ""})
    .test_client()
    .get("/api/v1/openapi.json")
    .get_json()
)
OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in DOCUMENT["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
)


def test_every_operation_has_a_row_and_every_row_an_operation():
    assert sorted(set(OPERATIONS) - set(EXPECTED)) == [], "operations without expectations"
    assert sorted(set(EXPECTED) - set(OPERATIONS)) == [], "expectations for operations that are gone"


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_document_names_the_roles_of_the_table(method, path):
    row = EXPECTED[(method, path)]
    allowed = [role for role in ROLES if getattr(row, role) != FORBIDDEN]
    assert DOCUMENT["paths"][path][method.lower()]["x-roles"] == allowed


def expected_answer(row: Row, actor: str, variant: str | None):
    if actor in ("anonymous", "revoked token"):
        return UNAUTHORIZED
    if actor.startswith("blocked "):
        return BLOCKED
    found = getattr(row, actor)
    return found[variant] if isinstance(found, dict) else found


def variants(row: Row, actor: str) -> list[str | None]:
    """Objects to try: every kind the cell names, else the one a stranger (or a blocked owner) would hit."""
    found = getattr(row, actor, None)
    if isinstance(found, dict):
        return list(found)
    if row.obj is None:
        return [None]
    if row.owner and actor.removeprefix("blocked ") == row.owner:
        return ["own"]
    return ["others" if row.owner else "any"]


def cases():
    for (method, path), actor in itertools.product(OPERATIONS, ACTORS):
        row = EXPECTED.get((method, path))
        for variant in variants(row, actor) if row else [None]:
            name = f"{method}-{path.removeprefix('/api/v1/')}-{actor.replace(' ', '_')}" + (
                f"-{variant}" if variant else ""
            )
            yield pytest.param(method, path, actor, variant, id=name.replace("/", "."))


# --------------------------------------------------------------------------------------------- the world


@pytest.fixture(scope="module")
def world(app_config, session_clock, run_id, redis_client):
    """One app and one token per kind of caller, for the whole module."""
    with world_app(app_config, session_clock, run_id, redis_client, "apimatrix", PortalClient) as application:
        world = SimpleNamespace(app=application, counter=itertools.count(1), tokens={}, users={})
        world.other_client = make_user("client", username="other.client").id
        world.other_specialist = make_user("specialist", username="other.specialist").id
        for actor in ACTORS:
            world.users[actor], world.tokens[actor] = caller_of(actor)
    return world


def caller_of(actor: str) -> tuple[int | None, str | None]:
    """(user id, token) of a kind of caller: none, a revoked token, or a working token of a (blocked) user."""
    if actor == "anonymous":
        return None, None
    role = "client" if actor == "revoked token" else actor.removeprefix("blocked ")
    user = make_user(role)
    token, raw = api_tokens.create_token(user, actor)
    _db.session.commit()
    if actor == "revoked token":
        api_tokens.revoke_token(user, token.id)
    if actor.startswith("blocked "):
        user.is_blocked = True
    _db.session.commit()
    return user.id, raw


def build(world, row: Row, variant: str | None, actor_id: int | None) -> int | None:
    """The path's id: a real object made for this case (own, someone else's) or an id nobody has."""
    if variant == "missing":
        return MISSING_ID
    if row.obj is None:
        return None
    own = variant == "own"
    actor = actor_id and _db.session.get(User, actor_id)
    others = SimpleNamespace(
        client=_db.session.get(User, world.other_client), specialist=_db.session.get(User, world.other_specialist)
    )
    # On the hour, 45 minutes: a slot never runs over midnight (its edit would be refused), whatever the clock says.
    first_hour = (utcnow() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    slot = lambda specialist: make_slot(specialist, starts_at=first_hour + timedelta(hours=next(world.counter)))  # noqa: E731
    if row.obj == "slot":
        return slot(actor if own else others.specialist).id
    if row.obj == "consultation":
        if row.owner == "specialist":
            return make_consultation(slot(actor if own else others.specialist), others.client).id
        return make_consultation(slot(others.specialist), actor if own else make_user("client")).id
    return actor.id if own else make_user("client", blocked=row.obj == "blocked_user").id


def observed(response) -> str:
    """Name the answer the way the table does; every refusal must be a problem."""
    status = str(response.status_code)
    if response.status_code >= 400:
        assert response.mimetype == PROBLEM, response.get_data(as_text=True)[:300]
        if response.status_code == 403 and response.get_json()["detail"] == "Your account is blocked":
            return BLOCKED
    return status


@pytest.mark.parametrize(("method", "path", "actor", "variant"), list(cases()))
def test_access(world, db, method, path, actor, variant):
    row = EXPECTED.get((method, path))
    assert row is not None, f"{method} {path} has no row in EXPECTED: say who may use it"
    value = build(world, row, variant, world.users[actor])
    url = path.format(**{name: value for name in ("slot_id", "consultation_id", "user_id")})
    expected = expected_answer(row, actor, variant)
    body = new_slot_times() if row.body == "new slot" else row.body
    token = world.tokens[actor]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    before = fingerprint()
    response = world.app.test_client().open(url, method=method, json=body, headers=headers)
    assert observed(response) == expected, response.get_data(as_text=True)[:500]
    if expected not in (OK, CREATED) or method == "GET":
        assert fingerprint() == before, "a refused call (or a read) changed the database"
