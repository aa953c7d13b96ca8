"""The embedded demo (no Redis): a webhook goes out in-process right after the request that caused it."""

import pytest

from portal.extensions import db
from portal.models import WebhookDelivery
from portal.services import webhooks
from tests.factories import make_slot, make_user
from tests.support.auth import isolated_client, post_login
from tests.support.embedded import embedded_portal
from tests.support.webhooks import Receiver, verify_signature


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    """Webhooks to loopback allowed (the receiver runs in this process)."""
    with embedded_portal(tmp_path, monkeypatch, WEBHOOK_ALLOW_PRIVATE="true") as app:
        yield app


def test_a_request_made_on_the_page_reaches_the_specialists_webhook(embedded):
    receiver = Receiver().start()
    try:
        specialist = make_user("specialist", username="dr_demo")
        _, secret = webhooks.create_endpoint(specialist, receiver.url(), ["consultation.requested"])
        db.session.commit()
        slot_id = make_slot(specialist).id
        client = make_user("client", username="demo_client")
        browser = isolated_client(embedded)
        assert post_login(browser, client.username).status_code == 302
        response = browser.submit(f"/book/{slot_id}", {"message": "Hi"})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        (message,) = receiver.messages()
        assert message.event["type"] == "consultation.requested"
        assert verify_signature(secret, message.headers, message.body)
        db.session.expire_all()
        row = db.session.scalars(db.select(WebhookDelivery)).one()
        assert (row.state, row.status_code, row.message_id) == ("sent", 200, message.message_id)
    finally:
        receiver.stop()
