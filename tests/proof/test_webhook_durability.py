"""No webhook event is lost: Redis down when the change is made, the worker killed mid-delivery, the receiver
answering 500 for a while. Every event arrives at least once, a duplicate carries the same webhook-id (and the
same body), and every signature checks out with this suite's own implementation of Standard Webhooks."""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import User, WebhookDelivery
from portal.services import booking, requests, webhooks
from tests.factories import make_slot, make_user
from tests.support.wait import wait_until
from tests.support.webhooks import Receiver, verify_signature

pytestmark = [pytest.mark.slow, pytest.mark.serial]


@pytest.fixture
def receiver():
    server = Receiver(delay=0.25).start()
    yield server
    server.stop()


def states(app) -> dict[str, str]:
    """Each delivery's state, by its webhook-id."""
    with app.app_context():
        rows = _db.session.execute(select(WebhookDelivery.message_id, WebhookDelivery.state)).all()
        _db.session.remove()
    return dict(rows)


def test_redis_down_a_killed_worker_and_a_failing_receiver_lose_no_event(fragile, receiver):
    app = fragile.app
    with app.app_context():
        specialist = make_user("specialist", username="dr_durable")
        _, secret = webhooks.create_endpoint(
            specialist, receiver.url(), ["consultation.requested", "consultation.accepted"]
        )
        _db.session.commit()
        specialist_id = specialist.id
        clients = [make_user("client", username=f"durable{n}") for n in range(12)]
        slots = [make_slot(specialist, starts_in=timedelta(days=2, hours=n)) for n in range(12)]
        slot_ids = [s.id for s in slots]

        # Redis down: the changes succeed and their deliveries wait in the outbox.
        fragile.redis.stop()
        consultation_ids = []
        for client, slot_id in zip(clients, slot_ids, strict=True):
            consultation_ids.append(booking.request_slot(client, slot_id).id)
            _db.session.commit()
        _db.session.remove()
    assert states(app) and set(states(app).values()) == {"queued"} and len(states(app)) == 12
    assert receiver.messages() == []

    # Redis back, a worker starts (its drain finds them), and is killed while the receiver is answering.
    fragile.redis.start()
    fragile.worker.start()
    assert wait_until(lambda: len(receiver.messages()) >= 3, timeout=60), fragile.worker.log()[-3000:]
    fragile.worker.kill9()
    assert len({m.message_id for m in receiver.messages()}) < 12, "the kill came too late to prove anything"

    # The receiver fails for a while; more changes are made meanwhile (accepted requests).
    receiver.status = 500
    with app.app_context():
        specialist = _db.session.get(User, specialist_id)
        for consultation_id in consultation_ids[:6]:
            requests.accept_request(specialist, consultation_id)
            _db.session.commit()
        _db.session.remove()
    failing_from = len(receiver.messages())
    fragile.worker.start()
    assert wait_until(lambda: len(receiver.messages()) >= failing_from + 4, timeout=60), fragile.worker.log()[-3000:]
    receiver.status = 200

    assert wait_until(lambda: set(states(app).values()) == {"sent"} and len(states(app)) == 18, timeout=150), (
        states(app),
        fragile.worker.log()[-3000:],
    )
    received = receiver.messages()
    by_id = defaultdict(list)
    for message in received:
        assert verify_signature(secret, message.headers, message.body), message.headers
        by_id[message.message_id].append(message)
    assert set(by_id) == set(states(app)), "an event never arrived"
    assert any(len(copies) > 1 for copies in by_id.values()), "nothing was ever sent twice: no retry happened"
    for copies in by_id.values():
        assert len({m.body for m in copies}) == 1, "a duplicate differs from its original"
    events = sorted((m.event["type"], m.event["data"]["client"]["username"]) for m in (c[0] for c in by_id.values()))
    assert events == sorted(
        [("consultation.requested", f"durable{n}") for n in range(12)]
        + [("consultation.accepted", f"durable{n}") for n in range(6)]
    )
