"""Reset and resend requests: the request does one identical thing for any address; the worker (or the outbox
drain, when the job is lost) looks the address up, writes the email and forgets the request, exactly once."""

from datetime import UTC, datetime, timedelta

import pytest
from rq import Queue
from sqlalchemy import event, select, text

from portal import create_app
from portal.extensions import db as _db
from portal.models import AccountEmailRequest, AuthToken, OutboxEmail, User
from portal.outbox.drain import drain_outbox
from portal.queues import queue_name, redis_connection
from portal.services import email_requests
from tests.factories import make_user
from tests.support.account_requests import pending_requests, wait_until_handled
from tests.support.auth import isolated_client, mail_link, row_counts
from tests.support.mail import body_of
from tests.support.web import CSRF_RE, PortalClient

FORMS = {"reset": "/reset-password", "resend": "/confirm/resend"}
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def idle_app(app_config, run_id, session_clock):
    """The portal with a queue of its own that no worker reads: what a request leaves behind stays put."""
    application = create_app({**app_config, "CLOCK": session_clock, "RQ_QUEUE_PREFIX": f"{run_id}idle-"})
    application.test_client_class = PortalClient
    return application


@pytest.fixture
def people(db):
    make_user(username="anna", email="anna@example.com")
    make_user(username="olga", email="olga@example.com", confirmed=False)
    make_user(username="mallory", email="mallory@example.com", confirmed=False, blocked=True)


def post_and_record(app, path: str, email: str):
    """POST the form like a browser; returns the response and the SQL statements the POST ran."""
    browser = isolated_client(app)
    data = {"email": email, "csrf_token": browser.csrf_token(path)}
    with app.app_context():
        engine = _db.engine
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = browser.post(path, data=data)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    return (response.status_code, response.headers["Location"], CSRF_RE.sub("csrf", page)), statements


@pytest.mark.parametrize("kind", ["reset", "resend"])
def test_the_request_does_the_same_for_every_address_and_leaves_the_rest_to_the_worker(idle_app, people, kind):
    addresses = ["anna@example.com", "OLGA@example.com", "mallory@example.com", "nobody@example.com"]
    seen = [post_and_record(idle_app, FORMS[kind], address) for address in addresses]
    answers, statements = {answer for answer, _ in seen}, {tuple(sql) for _, sql in seen}
    assert len(answers) == 1 and next(iter(answers))[:2] == (302, "/login")
    assert len(statements) == 1  # the very same SQL for every address: one insert
    (only,) = statements
    assert len(only) == 1 and only[0].startswith("INSERT INTO account_email_requests")
    # Nothing was looked up, issued or written for anyone: that is the worker's job.
    assert pending_requests() == [(kind, address) for address in addresses]
    assert row_counts() == {"users": 3, "tokens": 0, "emails": 0}
    with idle_app.app_context():
        jobs = Queue(queue_name("emails"), connection=redis_connection()).get_jobs()
    ids = list(_db.session.scalars(select(AccountEmailRequest.id).order_by(AccountEmailRequest.id)))
    assert [(job.func_name, job.args) for job in jobs] == [("jobs.accounts.handle_email_request", (i,)) for i in ids]


def test_the_worker_sends_links_only_where_they_belong(app, people, mail, rq_worker):
    browser = isolated_client(app)
    for kind, address in [
        ("reset", "anna@example.com"),
        ("reset", "nobody@example.com"),
        ("reset", "mallory@example.com"),
        ("resend", "olga@example.com"),
        ("resend", "anna@example.com"),  # confirmed already
        ("resend", "nobody@example.com"),
    ]:
        assert browser.submit(FORMS[kind], {"email": address}).status_code == 302
    wait_until_handled()
    (reset,) = mail.wait_for(1, to="anna@example.com")
    (confirm,) = mail.wait_for(1, to="olga@example.com")
    assert "/reset-password/" in body_of(reset) and "/confirm/" in body_of(confirm)
    sent = _db.session.execute(select(OutboxEmail.recipient, OutboxEmail.kind).order_by(OutboxEmail.id)).all()
    assert sorted(sent) == [("anna@example.com", "reset_password"), ("olga@example.com", "confirm_account")]
    assert mail.to("nobody@example.com") == [] and mail.to("mallory@example.com") == []
    # Both links work.
    assert browser.get(mail_link(reset)).status_code == 200
    assert browser.get(mail_link(confirm)).status_code == 302
    assert _db.session.scalars(select(User.username).where(User.confirmed_at.is_(None))).all() == ["mallory"]


def test_a_request_is_handled_once(idle_app, people):
    isolated_client(idle_app).submit("/reset-password", {"email": "anna@example.com"})
    request_id = _db.session.scalars(select(AccountEmailRequest.id)).one()
    with idle_app.app_context(), _db.engine.connect() as other:
        # Another worker holds the request: this one leaves it alone and writes nothing.
        holding = other.begin()
        other.execute(text("SELECT id FROM account_email_requests FOR UPDATE"))
        assert email_requests.handle(request_id) == "done-or-busy"
        holding.rollback()
        assert row_counts()["emails"] == 0
        assert email_requests.handle(request_id) == "handled"
        assert email_requests.handle(request_id) == "done-or-busy"
        _db.session.remove()
    assert row_counts() == {"users": 3, "tokens": 1, "emails": 1} and pending_requests() == []


def test_the_drain_handles_requests_whose_job_was_lost(idle_app, people, clock):
    clock.set(T0)
    browser = isolated_client(idle_app)
    browser.submit("/reset-password", {"email": "anna@example.com"})
    browser.submit("/confirm/resend", {"email": "nobody@example.com"})
    clock.set(T0 + timedelta(seconds=idle_app.config["OUTBOX_STALE_SECONDS"] + 1))
    browser.submit("/confirm/resend", {"email": "olga@example.com"})  # too recent: its job may still run
    with idle_app.app_context():
        drain_outbox()
        _db.session.remove()
    assert pending_requests() == [("resend", "olga@example.com")]
    emails = _db.session.execute(select(OutboxEmail.recipient, OutboxEmail.kind)).all()
    assert emails == [("anna@example.com", "reset_password")]
    token = _db.session.scalars(select(AuthToken)).one()
    assert token.expires_at == clock() + timedelta(hours=1)  # issued when handled, valid for an hour from then
