"""Every operation of /api/v1/openapi.json fuzzed by Schemathesis with a working token of each role: no 5xx,
every answer matches its documented schema and content type, every error is problem+json, invalid input is
refused, and valid input is not refused as malformed.

Valid cases often use the objects made for the run (ids in paths) and free hours (a slot's times), so that the
operations act on real slots, consultations and users. 422 counts as an acceptable answer to valid-looking input:
the schema says what input looks like, the services decide (a start in the past, an overlap, a request made).

Schemathesis' pytest plugin for schemas built in fixtures (`from_fixture`) does not run under pytest 9.2 (it sets
`Node._nodeid`, which pytest 9.2 no longer has), so the schema is loaded from the document of an app without a
database and each call is sent to the test's app."""

from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.core.parameters import ParameterLocation

from portal import create_app
from portal.clock import utcnow
from tests.factories import make_consultation, make_slot, make_user
from tests.support.api import PROBLEM, make_token
from tests.support.web import PortalClient

pytestmark = pytest.mark.slow
EXAMPLES = 100
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            # The services refuse well-formed input with 422 (a time already passed, a slot already requested).
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422"]},
        },
    }
)


@pytest.fixture(scope="module")
def fuzz_app(app_config, session_clock, run_id):
    """The portal without the per-token rate limit in the way (it is tested on its own), no worker behind it."""
    config = {
        **app_config,
        "CLOCK": session_clock,
        "API_RATE_LIMIT": "1000000 per minute",
        "RQ_QUEUE_PREFIX": f"{run_id}fuzz-",
    }
    application = create_app(config)
    application.test_client_class = PortalClient
    return application


@pytest.fixture(params=["client", "specialist", "admin"])
def role(request):
    return request.param


@pytest.fixture
def world(role):
    """The token holder of this role and objects of every kind around them: some theirs, some not."""
    now = utcnow()
    me = make_user(role, username=f"fuzz.{role}")
    specialist = me if role == "specialist" else make_user("specialist", username="fuzz.specialist")
    client = me if role == "client" else make_user("client", username="fuzz.client")
    other_specialist = make_user("specialist", username="fuzz.other")
    slots = [make_slot(specialist, starts_at=now + timedelta(days=1, hours=3 * n)) for n in range(6)]
    slots += [make_slot(other_specialist, starts_at=now + timedelta(days=2, hours=3 * n)) for n in range(3)]
    consultations = [
        make_consultation(slots[0], client),
        make_consultation(slots[1], client, status="accepted"),
        make_consultation(slots[2], make_user("client")),
        make_consultation(slots[6], client),
    ]
    users = [me, specialist, client, other_specialist, make_user("client", blocked=True), make_user("admin")]
    REAL_IDS[:] = sorted({o.id for o in slots + consultations + users})
    yield {"token": make_token(me)}
    REAL_IDS.clear()


# The document, as a client reads it, from an app with no database behind it (the calls go to `fuzz_app`).
DOCUMENT = (
    create_app({"DATABASE_URL": "postgresql://unused.invalid/portal", "SECRET_KEY": "x", "REDIS_URL": ""})
    .test_client()
    .get("/api/v1/openapi.json")
    .get_json()
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
# The ids of the current run's objects (set by `world`), for the hook below.
REAL_IDS: list[int] = []


@schema.hook
def flatmap_case(context, case):
    """Three valid cases in four act on the run's real objects (ids in the path) and, where a slot's times are sent,
    on a free hour of the coming weeks, so that requests, answers, edits and deletions get past "not found".
    Invalid cases are left alone: they must stay invalid."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return st.just(case)
    changes = {}
    names = [name for name in case.path_parameters or {} if name.endswith("_id")]
    if names and REAL_IDS:
        changes["path_parameters"] = st.fixed_dictionaries({name: st.sampled_from(list(REAL_IDS)) for name in names})
    if isinstance(case.body, dict) and "starts_at" in case.body:
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
        hours = st.integers(min_value=0, max_value=24 * 30).map(lambda n: start + timedelta(hours=n))
        changes["body"] = hours.map(
            lambda at: {"starts_at": at.isoformat(), "ends_at": (at + timedelta(minutes=45)).isoformat()}
        )
    if not changes:
        return st.just(case)
    changed = st.fixed_dictionaries(changes).map(lambda new: _changed(case, new))
    return st.sampled_from((False, True, True, True)).flatmap(lambda real: changed if real else st.just(case))


def _changed(case, new: dict):
    """The case with real ids in its path and/or a free hour as its times."""
    if "path_parameters" in new:
        case.path_parameters = {**case.path_parameters, **new["path_parameters"]}
    if "body" in new:
        case.body = {**case.body, **new["body"]}
    return case


def problem_json(ctx, response, case):
    """Every error answer is RFC 9457 problem+json with its title, status and detail."""
    if response.status_code < 400:
        return None
    found = {name.lower(): value for name, value in response.headers.items()}.get("content-type", [""])
    content_type = found[0] if isinstance(found, list) else found
    assert content_type.startswith(PROBLEM), f"{response.status_code} answered as {content_type}"
    body = response.json()
    assert body["status"] == response.status_code and body["title"] and body["detail"], body
    return None


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_holds_up_to_fuzzing(case, fuzz_app, world):
    # Every call, and every probe a check sends, goes to this app, in-process.
    case.operation.app = case.operation.schema.app = fuzz_app
    headers = {"Authorization": f"Bearer {world['token']}"}
    header = (case.meta.components or {}).get(ParameterLocation.HEADER) if case.meta else None
    if header is not None and header.mode.is_negative:
        headers = {}  # the case is about the headers (a missing token among them): send them as generated
    case.call_and_validate(headers=headers, additional_checks=[problem_json])
