"""No email is lost: Redis down, the worker killed mid-delivery, the SMTP server down for a while or for good."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import OutboxEmail, User
from tests.support.mail import body_of
from tests.support.outbox import outbox_states
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def register(client, n: int, prefix: str = "user") -> list[str]:
    """Register n accounts through the web form; each change queues one confirmation email."""
    emails = []
    for i in range(n):
        email = f"{prefix}{i}@example.com"
        response = client.submit(
            "/register",
            {
                "username": f"{prefix}{i}",
                "email": email,
                "password": "plum-orbit-canvas-71",
                "confirm": "plum-orbit-canvas-71",
                "role": "client",
                "timezone": "Europe/Paris",
                "language": "en",
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        emails.append(email)
    return emails


def recipients(sink) -> Counter:
    return Counter(m["To"] for m in sink.messages)


def test_changes_made_while_redis_is_down_are_all_emailed_once_it_is_back(fragile):
    fragile.redis.stop()
    emails = register(fragile.client, 50)
    with fragile.app.app_context():
        assert _db.session.scalar(select(func.count(User.id))) == 50
        _db.session.remove()
    assert outbox_states(fragile.app) == {"queued": 50}

    fragile.redis.start()
    fragile.worker.start()  # its periodic drain re-queues what Redis never saw
    fragile.sink.wait_for(50, timeout=60)
    assert recipients(fragile.sink) == Counter(emails), fragile.worker.log()[-3000:]
    assert wait_until(lambda: outbox_states(fragile.app) == {"sent": 50})
    assert all("/confirm/" in body_of(m) for m in fragile.sink.messages)


@pytest.mark.parametrize("fragile", [0.15], indirect=True)
def test_killing_the_worker_mid_delivery_loses_nothing(fragile):
    fragile.worker.start()
    emails = register(fragile.client, 50)
    assert wait_until(lambda: len(fragile.sink.messages) >= 8, timeout=30)
    fragile.worker.kill9()
    delivered_before_kill = len(fragile.sink.messages)
    assert delivered_before_kill < 50, "the kill came too late to prove anything"

    fragile.worker.start()
    assert wait_until(lambda: set(recipients(fragile.sink)) == set(emails), timeout=150), fragile.worker.log()[-3000:]
    counts = recipients(fragile.sink)
    duplicates = sum(c - 1 for c in counts.values())
    assert duplicates <= 1, counts  # at most the one email in flight at the kill
    assert wait_until(lambda: outbox_states(fragile.app) == {"sent": 50})


def test_smtp_down_for_a_while_is_retried_with_backoff(fragile):
    fragile.sink.down()
    fragile.worker.start()
    emails = register(fragile.client, 5)
    with fragile.app.app_context():
        assert wait_until(lambda: _db.session.scalar(select(func.min(OutboxEmail.attempts))) >= 1)
        _db.session.remove()
    fragile.sink.up()
    fragile.sink.wait_for(5, timeout=30)
    assert recipients(fragile.sink) == Counter(emails)
    assert wait_until(lambda: outbox_states(fragile.app) == {"sent": 5})


def test_smtp_down_for_good_marks_rows_failed_with_the_error(fragile):
    fragile.sink.down()
    fragile.worker.start()
    register(fragile.client, 3)
    assert wait_until(lambda: outbox_states(fragile.app) == {"failed": 3}, timeout=90), fragile.worker.log()[-3000:]
    with fragile.app.app_context():
        rows = _db.session.scalars(select(OutboxEmail)).all()
        assert all(r.attempts == 4 and "Connection refused" in (r.last_error or "") for r in rows), [
            (r.attempts, r.last_error) for r in rows
        ]
        _db.session.remove()
    assert fragile.sink.messages == []
