"""The email delivery page: outbox rows and states, stuck rows, RQ statistics, retrying failed emails."""

import re
from datetime import timedelta

import pytest
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry
from sqlalchemy import insert

from portal.clock import utcnow
from portal.models import OutboxEmail
from tests.factories import make_user
from tests.support.auth import logged_in_browser
from tests.support.mail import body_of
from tests.support.paths import free_port
from tests.support.wait import wait_until

ROW = re.compile(r'<tr id="email-(\d+)">(.*?)</tr>', re.S)


def rows(response) -> dict[int, str]:
    return {int(n): body for n, body in ROW.findall(response.get_data(as_text=True))}


def outbox_row(db, **values) -> OutboxEmail:
    row = OutboxEmail(
        recipient=values.pop("recipient", "someone@example.com"),
        kind=values.pop("kind", "new_request"),
        subject=values.pop("subject", "New request for your slot"),
        body_text=values.pop("body_text", "Hello,\nthere is a new request.\n"),
        **values,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def admin_browser(app, db):
    return logged_in_browser(app, make_user("admin"))


@pytest.mark.clock
def test_outbox_rows_show_their_delivery_details_and_filter_by_state(admin_browser, db):
    now = utcnow()
    sent = outbox_row(db, state="sent", attempts=1, sent_at=now, recipient="sent@example.com")
    failed = outbox_row(
        db, state="failed", attempts=3, last_error="SMTPRecipientsRefused: 550 mailbox unavailable", kind="slot_deleted"
    )
    queued = outbox_row(db, state="queued", recipient="queued@example.com")
    page = admin_browser.get("/admin/emails")
    assert page.status_code == 200
    found = rows(page)
    assert list(found) == [queued.id, failed.id, sent.id]
    assert "sent<wbr>@example.com" in found[sent.id] and found[sent.id].count("<time datetime=") == 2
    assert (
        "550 mailbox unavailable" in found[failed.id]
        and ">3<" in found[failed.id]
        and "Slot deleted" in found[failed.id]
    )
    assert "New request for your slot" in found[queued.id]
    assert ">Retry</button>" in found[failed.id]
    assert "Retry" not in found[sent.id] and "Retry" not in found[queued.id]
    assert list(rows(admin_browser.get("/admin/emails?state=failed"))) == [failed.id]
    assert list(rows(admin_browser.get("/admin/emails?state=sent"))) == [sent.id]
    assert len(rows(admin_browser.get("/admin/emails?state=bogus"))) == 3


def test_retry_queues_a_failed_email_again_and_the_worker_sends_it(
    app, admin_browser, db, rq_worker, mail, redis_client
):
    row = outbox_row(
        db, state="failed", attempts=3, last_error="ConnectionRefusedError: [Errno 111]", recipient="late@example.com"
    )
    # The failed RQ job of this email, as the worker leaves it after the last retry.
    queue = Queue(app.config["RQ_QUEUE_PREFIX"] + "emails", connection=redis_client)
    job_id = f"{app.config['RQ_QUEUE_PREFIX']}email-{row.id}"
    registry = FailedJobRegistry(queue=queue)
    registry.add(Job.create("jobs.email.send_email", args=(row.id,), id=job_id, connection=redis_client), ttl=600)
    assert job_id in registry

    response = admin_browser.submit(
        f"/admin/emails/{row.id}/retry", {"next": "/admin/emails?state=failed"}, "/admin/emails"
    )
    assert response.status_code == 303 and response.headers["Location"] == "/admin/emails?state=failed"
    assert "The email to late@example.com is queued again." in admin_browser.get("/admin/emails").get_data(as_text=True)
    assert job_id not in registry

    delivered = mail.wait_for(1, to="late@example.com")
    assert len(delivered) == 1 and "there is a new request" in body_of(delivered[0])

    # The worker records the delivery just after the mail server has the message.
    def current() -> OutboxEmail:
        db.session.expire_all()
        return db.session.get(OutboxEmail, row.id)

    assert wait_until(lambda: current().state == "sent", timeout=30)
    stored = current()
    assert stored.attempts == 4 and stored.last_error is None


def test_retry_refuses_emails_that_did_not_fail_and_missing_ones(admin_browser, db):
    sent = outbox_row(db, state="sent", attempts=1, sent_at=utcnow())
    response = admin_browser.submit(f"/admin/emails/{sent.id}/retry", {}, "/admin/emails")
    assert response.status_code == 303
    assert "Only failed emails can be retried" in admin_browser.get("/admin/emails").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OutboxEmail, sent.id).state == "sent"
    for missing in (987654, 99999999999):
        assert admin_browser.submit(f"/admin/emails/{missing}/retry", {}, "/admin/emails").status_code == 404
    assert admin_browser.post(f"/admin/emails/{sent.id}/retry").status_code == 400


@pytest.mark.clock
def test_stuck_rows_are_counted(admin_browser, db, clock):
    # Created now (so the worker's drain leaves them alone); the page's clock looks a day later.
    outbox_row(db, state="queued")
    outbox_row(db, state="queued", queued_at=utcnow())
    outbox_row(db, state="sent", sent_at=utcnow())
    fresh_page = admin_browser.get("/admin/emails").get_data(as_text=True)
    assert re.search(r'id="stat-stuck">\s*<span class="stat-value">0<', fresh_page)
    clock.set(utcnow() + timedelta(days=1))
    later = admin_browser.get("/admin/emails").get_data(as_text=True)
    assert re.search(r'id="stat-stuck">\s*<span class="stat-value">2<', later)


def test_queue_length_and_failed_jobs_come_from_redis(app, admin_browser, redis_client, run_id, monkeypatch):
    # A queue of its own, which the test worker does not consume.
    monkeypatch.setitem(app.config, "RQ_QUEUE_PREFIX", f"{run_id}-stats-")
    queue = Queue(f"{run_id}-stats-emails", connection=redis_client)
    for n in range(3):
        queue.enqueue("jobs.email.send_email", n)
    FailedJobRegistry(queue=queue).add(Job.create("jobs.email.send_email", connection=redis_client), ttl=600)
    text = admin_browser.get("/admin/emails").get_data(as_text=True)
    assert re.search(r'id="stat-queue">\s*<span class="stat-value">3<', text)
    assert re.search(r'id="stat-failed-jobs">\s*<span class="stat-value">1<', text)


def test_redis_down_shows_unavailable_not_an_error(app, admin_browser, db, monkeypatch):
    outbox_row(db, state="failed", attempts=3)
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = admin_browser.get("/admin/emails")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.count(">unavailable<") == 2
    # ...and says why, and what it means for the emails.
    assert 'id="queue-unavailable"' in text and "Redis does not answer" in text and "queued again" in text
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    text = admin_browser.get("/admin/emails").get_data(as_text=True)
    assert text.count(">unavailable<") == 2 and "REDIS_URL is not set" in text


def test_queue_figures_need_no_explanation_when_redis_answers(admin_browser, db):
    assert 'id="queue-unavailable"' not in admin_browser.get("/admin/emails").get_data(as_text=True)


@pytest.mark.parametrize(
    ("kind", "en", "ru"),
    [
        ("slot_deleted", "Slot deleted", "Слот удалён"),
        ("new_request", "New request", "Новая заявка"),
        ("confirm_account", "Email confirmation", "Подтверждение адреса"),
        ("some_future_kind", "Some future kind", "Some future kind"),
    ],
)
def test_email_kinds_are_named_in_words(app, db, kind, en, ru):
    """The kind of each email in the reader's language, never its stored name."""
    outbox_row(db, state="sent", attempts=1, kind=kind)
    for locale, words in (("en", en), ("ru", ru)):
        browser = logged_in_browser(app, make_user("admin", locale=locale))
        text = browser.get("/admin/emails").get_data(as_text=True)
        assert f'<span class="subline kind">{words}</span>' in text, locale


@pytest.mark.clock
def test_emails_page_runs_a_fixed_number_of_queries(app, admin_browser, db, count_queries):
    def add(count: int) -> None:
        now = utcnow()
        db.session.execute(
            insert(OutboxEmail),
            [
                {
                    "recipient": f"r{n}@example.com",
                    "kind": "new_request",
                    "subject": "Subject",
                    "body_text": "x" * 2000,
                    # No queued rows here: the test worker's drain would start sending them.
                    "state": ("sent", "failed")[n % 2],
                    "created_at": now - timedelta(minutes=n),
                    "updated_at": now,
                }
                for n in range(count)
            ],
        )
        db.session.commit()

    def measure() -> list[int]:
        counts = []
        for url in ("/admin/emails", "/admin/emails?state=failed", "/admin/emails?after=3"):
            with count_queries() as q:
                assert admin_browser.get(url).status_code == 200
            counts.append(q.count)
        return counts

    add(10)
    small = measure()
    add(3000)
    large = measure()
    assert small == large and max(large) <= 4, (small, large)
    assert len(rows(admin_browser.get("/admin/emails"))) == app.config["PAGE_SIZE"]
