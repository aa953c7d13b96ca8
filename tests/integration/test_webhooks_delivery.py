"""Webhook deliveries: written with the change, signed, retried on the portal's clock, given up, disabled after
20 failures in a row with an email to the owner, never sent to a private address. Attempts run in this process
(tests/support/webhooks.py deliver_due) on an app whose queue no worker reads, so the test decides when."""

import json
from datetime import time as wall
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.extensions import db as _db
from portal.models import OutboxEmail, WebhookDelivery, WebhookEndpoint
from portal.services import booking, expiry, requests, slots, webhooks
from portal.services.errors import DomainError
from portal.webhooks.send import deliver_webhook
from tests.factories import make_slot, make_user
from tests.support.slots import berlin
from tests.support.web import PortalClient
from tests.support.webhooks import Receiver, deliver_due, verify_signature

ALL = [
    "consultation.requested",
    "consultation.accepted",
    "consultation.rejected",
    "consultation.cancelled",
    "consultation.rescheduled",
    "consultation.expired",
]
STANDARD_SCHEDULE = "5,300,1800,7200,18000,36000,36000"


@pytest.fixture
def hooks(app_config, session_clock, run_id, clock):
    """An app on the test database whose RQ queue no worker reads, the clock frozen on a Tuesday morning."""
    application = create_app(
        {
            **app_config,
            "CLOCK": session_clock,
            "RQ_QUEUE_PREFIX": f"{run_id}hooks-",
            "WEBHOOK_RETRY_INTERVALS": STANDARD_SCHEDULE,
        }
    )
    application.test_client_class = PortalClient
    clock.set(berlin("2026-03-10 08:00"))
    with application.app_context():
        yield application
        _db.session.remove()


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


def endpoint_for(user, url: str, events=ALL) -> tuple[int, str]:
    """A webhook added the way the page adds it: (its id, its secret)."""
    endpoint, secret = webhooks.create_endpoint(user, url, events)
    _db.session.commit()
    return endpoint.id, secret


def deliveries(**where) -> list[WebhookDelivery]:
    _db.session.rollback()
    stmt = select(WebhookDelivery).order_by(WebhookDelivery.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(WebhookDelivery, name) == value)
    return list(_db.session.scalars(stmt))


def test_a_booking_reaches_the_specialists_and_admins_endpoints_signed(hooks, receiver, clock):
    specialist = make_user("specialist", username="dr_hook", display_name="Dr. Hook")
    stranger = make_user("specialist", username="dr_other")
    admin = make_user("admin", username="boss")
    own_id, own_secret = endpoint_for(specialist, receiver.url("/own"))
    _, admin_secret = endpoint_for(admin, receiver.url("/admin"), ["consultation.cancelled"])
    endpoint_for(stranger, receiver.url("/stranger"))
    ann, bob = make_user("client", username="ann"), make_user("client", username="bob")
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))

    first = booking.request_slot(ann, slot.id, "Hello")
    second = booking.request_slot(bob, slot.id)
    _db.session.commit()
    first_id, second_id, slot_id = first.id, second.id, slot.id
    requests.accept_request(specialist, first_id)
    _db.session.commit()
    booking.cancel_consultation(ann, first_id, "Found_another_specialist", None)
    _db.session.commit()
    assert deliver_due(clock()) == ["sent"] * 6

    own = receiver.messages("/own")
    assert [(m.event["type"], m.event["data"]["client"]["username"]) for m in own] == [
        ("consultation.requested", "ann"),
        ("consultation.requested", "bob"),
        ("consultation.rejected", "bob"),
        ("consultation.accepted", "ann"),
        ("consultation.cancelled", "ann"),
    ]
    assert all(verify_signature(own_secret, m.headers, m.body) for m in own)
    cancelled = receiver.messages("/admin")
    assert [m.event["type"] for m in cancelled] == ["consultation.cancelled"]
    assert verify_signature(admin_secret, cancelled[0].headers, cancelled[0].body)
    assert not verify_signature(admin_secret, own[0].headers, own[0].body)
    assert receiver.messages("/stranger") == []

    data = cancelled[0].event["data"]
    assert data["consultation_id"] == first_id and data["status"] == "cancelled"
    assert data["cancel_reason"] == "Found_another_specialist"
    assert data["slot"] == {
        "id": slot_id,
        "starts_at": "2026-03-12T09:00:00+00:00",
        "ends_at": "2026-03-12T09:45:00+00:00",
    }
    assert data["specialist"] == {"username": "dr_hook", "name": "Dr. Hook"}
    assert "Hello" not in cancelled[0].body.decode()  # the client's words stay between them
    rows = deliveries(endpoint_id=own_id)
    assert [r.message_id for r in rows] == [m.message_id for m in own]
    assert {(r.state, r.status_code, r.attempts) for r in rows} == {("sent", 200, 1)}
    assert all(m.headers["webhook-timestamp"] == str(int(clock().timestamp())) for m in own)
    assert second_id in {m.event["data"]["consultation_id"] for m in own}


def test_moving_and_deleting_a_slot_are_events_too_and_a_refused_change_writes_none(hooks, receiver, clock):
    specialist = make_user("specialist", username="dr_move", timezone="Europe/Berlin")
    endpoint_for(specialist, receiver.url())
    client = make_user("client")
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    consultation_id = booking.request_slot(client, slot.id).id
    _db.session.commit()
    slots.edit_slot(specialist, slot.id, note="Bring the papers")
    _db.session.commit()
    assert len(deliveries()) == 1, "a new note alone is no event"
    slots.edit_slot(specialist, slot.id, start=wall(11, 0), end=wall(11, 45))
    _db.session.commit()
    slots.delete_slot(specialist, slot.id)
    _db.session.commit()
    started = make_slot(specialist, starts_at=berlin("2026-03-10 07:00"))
    with pytest.raises(DomainError):
        booking.request_slot(client, started.id)
    _db.session.rollback()
    assert deliver_due(clock()) == ["sent"] * 3
    events = [m.event for m in receiver.messages()]
    assert [e["type"] for e in events] == [
        "consultation.requested",
        "consultation.rescheduled",
        "consultation.cancelled",
    ]
    assert events[1]["data"]["slot"]["starts_at"] == "2026-03-12T10:00:00+00:00"
    assert events[2]["data"]["status"] == "cancelled_by_specialist"
    assert {e["data"]["consultation_id"] for e in events} == {consultation_id}


def test_failures_back_off_on_the_clock_and_a_retry_keeps_its_webhook_id(hooks, receiver, clock):
    receiver.status = 500
    specialist = make_user("specialist")
    endpoint_id, secret = endpoint_for(specialist, receiver.url())
    booking.request_slot(make_user("client"), make_slot(specialist, starts_in=timedelta(days=3)).id)
    _db.session.commit()
    start = clock()
    assert deliver_due(start) == ["failed"]
    (row,) = deliveries()
    assert (row.state, row.attempts, row.status_code, row.last_error) == ("queued", 1, 500, "HTTP 500")
    assert row.next_attempt_at == start + timedelta(seconds=5)
    assert deliver_webhook(row.id) == "not-due" and len(receiver.messages()) == 1

    clock.set(start + timedelta(seconds=5))
    assert deliver_due(clock()) == ["failed"]
    assert deliveries()[0].next_attempt_at == clock() + timedelta(seconds=300)
    receiver.status = 200
    clock.set(clock() + timedelta(seconds=300))
    assert deliver_due(clock()) == ["sent"]
    (row,) = deliveries()
    assert (row.state, row.attempts, row.status_code, row.next_attempt_at) == ("sent", 3, 200, None)
    received = receiver.messages()
    assert len({m.message_id for m in received}) == 1 and len({m.body for m in received}) == 1
    assert [m.headers["webhook-timestamp"] for m in received] == [
        str(int((start + timedelta(seconds=s)).timestamp())) for s in (0, 5, 305)
    ]
    assert all(verify_signature(secret, m.headers, m.body) for m in received)
    assert _db.session.get(WebhookEndpoint, endpoint_id).failures == 0


def test_a_delivery_is_given_up_after_the_last_retry(hooks, receiver, clock):
    receiver.status = 503
    specialist = make_user("specialist")
    endpoint_for(specialist, receiver.url())
    booking.request_slot(make_user("client"), make_slot(specialist, starts_in=timedelta(days=5)).id)
    _db.session.commit()
    for _ in range(8):
        assert deliver_due(clock()) == ["failed"]
        row = deliveries()[0]
        if row.next_attempt_at:
            clock.set(row.next_attempt_at)
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 8, None)
    assert deliver_due(clock() + timedelta(days=30)) == []


def test_twenty_failures_in_a_row_disable_the_endpoint_and_email_its_owner(hooks, receiver, clock):
    receiver.status = 500
    owner = make_user("specialist", username="dr_down", locale="ru", timezone="Europe/Moscow")
    endpoint_id, _ = endpoint_for(owner, receiver.url())
    for n in range(4):
        booking.request_slot(make_user("client"), make_slot(owner, starts_in=timedelta(days=2, hours=n)).id)
    _db.session.commit()
    attempts = 0
    while _db.session.get(WebhookEndpoint, endpoint_id).enabled:
        outcomes = deliver_due(clock())
        attempts += len(outcomes)
        due = [r.next_attempt_at for r in deliveries(state="queued") if r.next_attempt_at > clock()]
        if due:
            clock.set(min(due))
    assert attempts == 20 and len(receiver.messages()) == 20
    endpoint = _db.session.get(WebhookEndpoint, endpoint_id)
    assert (endpoint.failures, endpoint.disabled_reason) == (20, "failures")
    (email,) = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "webhook_disabled")).all()
    assert email.recipient == owner.email
    assert "20" in email.subject and "вебхук" in email.subject.lower()
    assert f"> {receiver.url()}" in email.body_text and "/profile/webhooks" in email.body_text

    # What was still waiting is given up; new events write nothing for a disabled endpoint.
    assert set(deliver_due(clock() + timedelta(days=1))) <= {"endpoint-disabled"}
    assert {r.state for r in deliveries()} == {"failed"}
    before = len(deliveries())
    booking.request_slot(make_user("client"), make_slot(owner, starts_in=timedelta(days=9)).id)
    _db.session.commit()
    assert len(deliveries()) == before and len(receiver.messages()) == 20


@pytest.mark.parametrize("url", ["http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data/"])
def test_a_private_address_is_refused_at_send_time_without_connecting(hooks, clock, url, monkeypatch):
    hooks.config["WEBHOOK_ALLOW_PRIVATE"] = False

    def connect(*args, **kwargs):
        raise AssertionError("it tried to connect")

    monkeypatch.setattr("requests.Session.post", connect)
    specialist = make_user("specialist")
    # Saved while it was allowed (or its name resolved elsewhere then): the send checks again.
    _db.session.add(WebhookEndpoint(user_id=specialist.id, url=url, events=" ".join(ALL), secret="whsec_AAAA"))
    _db.session.commit()
    booking.request_slot(make_user("client"), make_slot(specialist).id)
    _db.session.commit()
    assert deliver_due(clock()) == ["failed"]
    (row,) = deliveries()
    assert row.status_code is None and "private" in row.last_error


def test_a_name_that_now_resolves_to_loopback_is_refused_at_send(hooks, receiver, clock):
    specialist = make_user("specialist")
    endpoint_for(specialist, f"http://localhost:{receiver.port}/hook")
    booking.request_slot(make_user("client"), make_slot(specialist).id)
    _db.session.commit()
    hooks.config["WEBHOOK_ALLOW_PRIVATE"] = False
    assert deliver_due(clock()) == ["failed"]
    assert receiver.messages() == [] and "private" in deliveries()[0].last_error


def test_a_redirect_is_not_followed(hooks, receiver, clock):
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    specialist = make_user("specialist")
    endpoint_for(specialist, receiver.url())
    booking.request_slot(make_user("client"), make_slot(specialist).id)
    _db.session.commit()
    assert deliver_due(clock()) == ["failed"]
    (row,) = deliveries()
    assert (row.status_code, row.last_error, row.state) == (302, "HTTP 302", "queued")
    assert len(receiver.messages()) == 1


def test_an_endpoint_disabled_by_its_owner_gets_nothing(hooks, receiver, clock):
    specialist = make_user("specialist")
    endpoint_id, _ = endpoint_for(specialist, receiver.url())
    slot = make_slot(specialist)
    booking.request_slot(make_user("client"), slot.id)
    _db.session.commit()
    webhooks.disable_endpoint(specialist, endpoint_id)
    _db.session.commit()
    booking.request_slot(make_user("client"), slot.id)
    _db.session.commit()
    assert deliver_due(clock()) == ["endpoint-disabled"]
    assert receiver.messages() == []
    assert _db.session.scalar(select(func.count(WebhookDelivery.id))) == 1
    payload = json.loads(deliveries()[0].payload)
    assert payload["type"] == "consultation.requested"


def test_an_unanswered_request_expiring_is_an_event(hooks, receiver, clock):
    specialist = make_user("specialist")
    _, secret = endpoint_for(specialist, receiver.url(), ["consultation.expired"])
    slot = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"))
    consultation_id = booking.request_slot(make_user("client", username="late"), slot.id).id
    _db.session.commit()
    assert deliveries() == []  # not an event this endpoint asked for
    clock.set(berlin("2026-03-12 10:01"))
    assert expiry.sweep() == 1
    assert deliver_due(clock()) == ["sent"]
    (message,) = receiver.messages()
    assert message.event["type"] == "consultation.expired" and verify_signature(secret, message.headers, message.body)
    assert message.event["data"]["consultation_id"] == consultation_id
    assert message.event["data"]["status"] == "expired" and message.event["data"]["client"]["username"] == "late"
    assert expiry.sweep() == 0 and len(deliveries()) == 1
