"""The RQ worker delivers through SMTP, retries failures with backoff and records what finally failed."""

import pytest
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.models import OutboxEmail
from tests.factories import make_user
from tests.support.account_requests import wait_until_handled
from tests.support.auth import isolated_client
from tests.support.mail import body_of, subject_of
from tests.support.outbox import outbox_row
from tests.support.services import FlakySink, WorkerProcess, closed_port
from tests.support.wait import wait_until


@pytest.fixture
def private_pipeline(app_config, worker_env, run_id, clock, tmp_path):
    """Build (portal app, worker) on a queue prefix of their own, with the given mail settings."""
    workers = []

    def build(tag: str, **settings):
        config = {
            **app_config,
            "RQ_QUEUE_PREFIX": f"{run_id}-{tag}-",
            "EMAIL_RETRY_INTERVALS": "1,1",
            "EMAIL_MAX_RETRIES": "2",
            **settings,
        }
        worker = WorkerProcess({**worker_env, **config}, tmp_path / tag)
        worker.start()
        workers.append(worker)
        return create_app({**config, "CLOCK": clock}), worker

    yield build
    for worker in workers:
        worker.stop()


def _ask_reset(portal, email: str) -> int:
    """Ask for a reset link; the worker writes the email: its outbox id."""
    browser = isolated_client(portal)
    assert browser.submit("/reset-password", {"email": email}).status_code == 302
    wait_until_handled()
    return db.session.scalars(select(OutboxEmail.id).where(OutboxEmail.recipient == email)).one()


def test_the_worker_delivers_and_records_it(app, mail, rq_worker):
    make_user(username="anna", email="anna@example.com", locale="ru", timezone="Asia/Vladivostok")
    outbox_id = _ask_reset(app, "anna@example.com")
    (message,) = mail.wait_for(1, to="anna@example.com")
    assert subject_of(message) == "Сброс пароля"
    assert message["X-Portal-Outbox-Id"] == str(outbox_id)
    assert "anna" in body_of(message)
    row = wait_until(lambda: (r := outbox_row(outbox_id)).state == "sent" and r)
    assert row.attempts == 1 and row.sent_at is not None and row.last_error is None


def test_a_persistent_smtp_failure_is_retried_with_backoff_then_marked_failed(private_pipeline):
    portal, worker = private_pipeline("smtpdown", MAIL_PORT=str(closed_port()))
    make_user(username="anna", email="anna@example.com")
    outbox_id = _ask_reset(portal, "anna@example.com")
    row = wait_until(lambda: (r := outbox_row(outbox_id)).state == "failed" and r, timeout=60)
    assert row, worker.log()[-3000:]
    assert row.attempts == 3  # the first try and two retries
    assert "ConnectionRefusedError" in row.last_error
    assert row.sent_at is None


def test_a_temporary_smtp_refusal_is_retried_and_then_delivered(private_pipeline):
    sink = FlakySink(failures=1)
    sink.controller.start()
    try:
        portal, worker = private_pipeline("smtp451", MAIL_PORT=str(sink.port))
        make_user(username="anna", email="anna@example.com")
        outbox_id = _ask_reset(portal, "anna@example.com")
        assert sink.wait_for(1, to="anna@example.com", timeout=40), worker.log()[-3000:]
        row = wait_until(lambda: (r := outbox_row(outbox_id)).state == "sent" and r)
        assert sink.refused == 1
        assert row.attempts == 2 and row.last_error is None
    finally:
        sink.controller.stop()
