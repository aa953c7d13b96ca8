"""No reset or resend request is lost: asked while Redis is down, the emails go out once it is back."""

from collections import Counter

import pytest

from tests.factories import make_user
from tests.support.account_requests import pending_requests
from tests.support.auth import mail_link
from tests.support.mail import body_of
from tests.support.outbox import outbox_states
from tests.support.wait import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.serial]


def test_requests_made_while_redis_is_down_are_emailed_once_it_is_back(fragile):
    make_user(username="anna", email="anna@example.com")
    make_user(username="olga", email="olga@example.com", confirmed=False)
    fragile.redis.stop()
    asked = [
        ("/reset-password", "anna@example.com"),
        ("/confirm/resend", "olga@example.com"),
        ("/reset-password", "nobody@example.com"),
    ]
    for path, email in asked:
        response = fragile.client.submit(path, {"email": email})
        assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert pending_requests() == [
        ("reset", "anna@example.com"),
        ("resend", "olga@example.com"),
        ("reset", "nobody@example.com"),
    ]
    assert outbox_states(fragile.app) == {}

    fragile.redis.start()
    fragile.worker.start()  # its periodic drain handles the requests Redis never saw
    fragile.sink.wait_for(2, timeout=60)
    assert wait_until(lambda: pending_requests() == []), fragile.worker.log()[-3000:]
    assert wait_until(lambda: outbox_states(fragile.app) == {"sent": 2})
    assert Counter(m["To"] for m in fragile.sink.messages) == Counter(["anna@example.com", "olga@example.com"])
    reset, confirm = (fragile.sink.to(a)[0] for a in ("anna@example.com", "olga@example.com"))
    assert "/reset-password/" in body_of(reset) and "/confirm/" in body_of(confirm)
    assert fragile.client.get(mail_link(reset)).status_code == 200
    assert fragile.client.get(mail_link(confirm)).status_code == 302
