"""The outbox: an email is written with the change it reports, queued only after commit, and never lost
when Redis is down."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job, JobStatus
from sqlalchemy import func, select, text

from portal import create_app
from portal.clock import utcnow
from portal.models import OutboxEmail, User
from portal.outbox import queue_email
from portal.outbox.drain import drain_outbox
from tests.factories import make_user
from tests.support.account_requests import pending_requests
from tests.support.auth import isolated_client, post_login, registration
from tests.support.outbox import outbox_row
from tests.support.services import PrivateRedis, WorkerProcess
from tests.support.wait import wait_until


def _job_id(app, outbox_id: int) -> str:
    return f"{app.config['RQ_QUEUE_PREFIX']}email-{outbox_id}"


def _emails(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(OutboxEmail.id)))


def test_a_rolled_back_change_leaves_no_email(app, db, redis_client):
    user = make_user(username="anna")
    with app.test_request_context():
        user.display_name = "Anna"
        row = queue_email(user, "password_changed", changed_at=utcnow())
        db.session.flush()
        outbox_id = row.id
        assert outbox_id is not None
        db.session.rollback()
    assert _emails(db) == 0
    assert db.session.get(User, user.id).display_name is None
    assert not Job.exists(_job_id(app, outbox_id), connection=redis_client)


def test_the_email_is_queued_only_after_commit(app, db, redis_client):
    user = make_user(username="anna")
    with app.test_request_context():
        row = queue_email(user, "password_changed", changed_at=utcnow())
        db.session.flush()
        job_id = _job_id(app, row.id)
        assert not Job.exists(job_id, connection=redis_client)  # written, not yet committed: not queued
        db.session.commit()
    assert Job.exists(job_id, connection=redis_client)
    job = Job.fetch(job_id, connection=redis_client)
    assert job.func_name == "jobs.email.send_email" and job.args == (row.id,)
    assert job.retries_left == app.config["EMAIL_MAX_RETRIES"]


@pytest.fixture
def quiet_app(app_config, run_id, clock):
    """The portal on its own queue prefix that no worker listens to."""
    return create_app({**app_config, "RQ_QUEUE_PREFIX": f"{run_id}-quiet-", "CLOCK": clock})


def test_drain_leaves_queued_jobs_alone_and_requeues_lost_ones(quiet_app, db, redis_client):
    user = make_user(username="anna")
    with quiet_app.test_request_context():
        row = queue_email(user, "password_changed", changed_at=utcnow())
        db.session.commit()
        outbox_id = row.id
        job_id = _job_id(quiet_app, outbox_id)
        # Its job still waits in the queue: re-queuing it would restart its retry count.
        assert drain_outbox(stale_seconds=0) == 0
        Job.fetch(job_id, connection=redis_client).delete()  # Redis lost it
        assert drain_outbox(stale_seconds=0) == 1
        assert Job.exists(job_id, connection=redis_client)
        # Not yet stale: left for the worker.
        assert drain_outbox(stale_seconds=3600) == 0
    assert outbox_row(outbox_id).queued_at is not None


def test_with_redis_down_changes_succeed_and_their_emails_go_out_once_it_is_back(
    app_config, worker_env, run_id, clock, db, mail, tmp_path
):
    redis = PrivateRedis(tmp_path)
    redis.start()
    prefix = f"{run_id}-down-"
    config = {**app_config, "REDIS_URL": redis.url, "RQ_QUEUE_PREFIX": prefix, "RATELIMIT_KEY_PREFIX": f"{run_id}down"}
    env = {**worker_env, **config, "OUTBOX_DRAIN_INTERVAL": "3600"}  # only the explicit drain below re-queues
    worker = WorkerProcess(env, tmp_path / "worker")
    try:
        portal = create_app({**config, "CLOCK": clock})
        browser = isolated_client(portal)
        make_user(username="anna", email="anna@example.com")
        redis.stop()

        assert browser.submit("/register", registration(email="maria@example.com")).status_code == 302
        assert browser.submit("/reset-password", {"email": "anna@example.com"}).status_code == 302
        login = post_login(browser, "anna")
        assert login.status_code == 302  # the throttle lets people in while its store is down
        assert browser.get("/healthz").status_code == 503
        rows = list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        assert [(r.recipient, r.state) for r in rows] == [("maria@example.com", "queued")]
        assert pending_requests() == [("reset", "anna@example.com")]  # the worker writes that email

        redis.start()
        worker.start()
        with portal.app_context():  # `flask outbox drain`, on this test's clock
            drained = portal.test_cli_runner().invoke(args=["outbox", "drain", "--stale-seconds", "0"])
        assert drained.exit_code == 0, drained.output
        assert "1 email(s) re-queued." in drained.output  # the reset link's email was queued as it was written
        assert pending_requests() == []
        assert len(mail.wait_for(1, to="maria@example.com")) == 1, worker.log()[-3000:]
        assert len(mail.wait_for(1, to="anna@example.com")) == 1, worker.log()[-3000:]
        rows = list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        assert wait_until(lambda: [outbox_row(r.id).state for r in rows] == ["sent", "sent"])
    finally:
        worker.stop()
        redis.stop()


def _started_email(app, db, redis_client) -> int:
    """An email whose job a worker has taken: RQ says "started". Returns the outbox id."""
    row = queue_email(make_user(username="anna"), "password_changed", changed_at=utcnow())
    db.session.commit()
    Job.fetch(_job_id(app, row.id), connection=redis_client).set_status(JobStatus.STARTED)
    return row.id


def test_drain_requeues_a_job_whose_worker_died_mid_delivery(quiet_app, db, redis_client):
    with quiet_app.test_request_context():
        outbox_id = _started_email(quiet_app, db, redis_client)
        # RQ still says "started", and a live delivery holds the row: leave it alone.
        with db.engine.connect() as delivery, delivery.begin():
            delivery.execute(text("SELECT id FROM outbox_emails WHERE id = :id FOR UPDATE"), {"id": outbox_id})
            assert drain_outbox(stale_seconds=0) == 0
        # The worker is gone (its lock with it): the email is queued again.
        assert drain_outbox(stale_seconds=0) == 1
        assert Job.fetch(_job_id(quiet_app, outbox_id), connection=redis_client).get_status() == "queued"


def test_drain_tells_a_waiting_job_from_one_a_dead_worker_took(quiet_app, db, redis_client):
    from portal.queues import email_queue

    user = make_user(username="anna")
    with quiet_app.test_request_context():
        row = queue_email(user, "password_changed", changed_at=utcnow())
        db.session.commit()
        job_id = _job_id(quiet_app, row.id)
        queue = email_queue()
        # Waiting for a retry: scheduled, in the scheduled registry. Left alone.
        job = Job.fetch(job_id, connection=redis_client)
        queue.remove(job_id)
        queue.schedule_job(job, datetime.now(UTC) + timedelta(minutes=5))
        assert Job.fetch(job_id, connection=redis_client).get_status() == "scheduled"
        assert drain_outbox(stale_seconds=0) == 0
        # Taken off the queue by a worker that was killed before it could start it: "queued", in no queue.
        queue.scheduled_job_registry.remove(job_id)
        job.set_status("queued")
        assert queue.get_job_ids() == []
        assert drain_outbox(stale_seconds=0) == 1
        assert queue.get_job_ids() == [job_id]
        assert drain_outbox(stale_seconds=0) == 0  # and now it waits in the queue again


def _hold_row_lock(db, outbox_id: int, seconds: float) -> threading.Thread:
    """Lock the row the way the drain's probe does, in another connection, and let it go `seconds` later."""
    locked, engine = threading.Event(), db.engine

    def hold():
        with engine.connect() as probe, probe.begin():
            probe.execute(text("SELECT id FROM outbox_emails WHERE id = :id FOR UPDATE"), {"id": outbox_id})
            locked.set()
            time.sleep(seconds)

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(10)
    return thread


def test_a_delivery_waits_for_a_brief_lock_on_its_row_instead_of_giving_up(app, db, mail):
    """The drain's probe locks a row for a moment; a job that started then must still deliver, or it would end
    with nothing sent and the drain would queue it again with its retries counted from zero."""
    from portal.mail import deliver

    make_user(username="anna", email="anna@example.com")
    with app.test_request_context():
        row = queue_email(db.session.get(User, 1), "password_changed", changed_at=utcnow())
        db.session.commit()
        outbox_id = row.id
        db.session.remove()
        holder = _hold_row_lock(db, outbox_id, 0.3)
        assert deliver(outbox_id, final_attempt=False) == "sent"
        holder.join()
    assert len(mail.wait_for(1, to="anna@example.com")) == 1
    row = outbox_row(outbox_id)
    assert (row.state, row.attempts) == ("sent", 1)


def test_drain_does_not_take_a_job_between_two_tries_for_a_dead_one(quiet_app, db, redis_client, monkeypatch):
    """A job RQ still calls "started" whose row is free and unchanged for a moment counts as lost; one whose try
    failed in that moment (its row counts one more attempt) is alive and about to be retried."""
    from types import SimpleNamespace

    from portal.outbox import drain

    with quiet_app.test_request_context():
        outbox_id = _started_email(quiet_app, db, redis_client)  # a worker is about to lock the row and try
        engine = db.engine

        def a_try_fails_meanwhile(seconds):
            with engine.begin() as delivery:
                bump = text("UPDATE outbox_emails SET attempts = attempts + 1 WHERE id = :id")
                delivery.execute(bump, {"id": outbox_id})

        # The drain's moment between its two looks at the job, during which the try fails.
        monkeypatch.setattr(drain, "time", SimpleNamespace(sleep=a_try_fails_meanwhile))
        assert drain_outbox(stale_seconds=0) == 0
        monkeypatch.undo()
        # Nothing moved at all this time: the worker died with the job.
        assert drain_outbox(stale_seconds=0) == 1


def test_a_stray_job_neither_resends_a_sent_email_nor_retries_a_failed_one(app, db, mail):
    from portal.mail import deliver

    make_user(username="anna", email="anna@example.com")
    with app.test_request_context():
        sent = queue_email(db.session.get(User, 1), "password_changed", changed_at=utcnow())
        failed = queue_email(db.session.get(User, 1), "password_changed", changed_at=utcnow())
        db.session.commit()
        sent_id, failed_id = sent.id, failed.id
        assert deliver(sent_id) == "sent"
        db.session.get(OutboxEmail, failed_id).state = "failed"
        db.session.commit()
        assert deliver(sent_id) == "already-sent"
        assert deliver(failed_id) == "already-failed"
    assert len(mail.wait_for(2, to="anna@example.com", timeout=2)) == 1
    rows = [outbox_row(i) for i in (sent_id, failed_id)]
    assert [(row.state, row.attempts) for row in rows] == [("sent", 1), ("failed", 0)]
