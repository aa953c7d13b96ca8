"""The outbox: emails are rows written with the change they report, dispatched after commit."""

import logging
import time
from datetime import datetime, timedelta

from flask import Flask, current_app, g, has_request_context
from flask_babel import force_locale
from sqlalchemy import event, or_, select

from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import format_for_recipient
from portal.models import OutboxEmail, User

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from portal.services import email_requests

    app.after_request(_deliver_in_process)
    email_requests.init_app(app)  # after: its requests become emails before those are delivered in-process


def page_path(endpoint: str, **values) -> str:
    """The path of a page for a link in an email (which puts PUBLIC_URL before it); jobs have no request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def queue_email(user: User, kind: str, ics: str | None = None, **context) -> OutboxEmail:
    """Render `email/<kind>.txt` for the recipient and add it to the outbox (no commit)."""
    with force_locale(user.locale):

        def when(value: datetime) -> str:
            return format_for_recipient(value, user.timezone, user.locale)[1]

        template = current_app.jinja_env.get_template(f"email/{kind}.txt")
        module = template.make_module(
            dict(context, recipient=user, when=when, public_url=current_app.config["PUBLIC_URL"])
        )
        subject = str(getattr(module, "subject", kind)).strip()
        body = str(module).strip() + "\n"
    row = OutboxEmail(user_id=user.id, recipient=user.email, kind=kind, subject=subject[:255], body_text=body, ics=ics)
    db.session.add(row)
    db.session.info.setdefault("outbox_new", []).append(row)
    return row


@event.listens_for(db.session, "after_flush_postexec")
def _collect_ids(session, flush_context):
    rows = session.info.pop("outbox_new", [])
    session.info.setdefault("outbox_ids", []).extend(r.id for r in rows if r.id is not None)
    leftover = [r for r in rows if r.id is None]
    if leftover:
        session.info["outbox_new"] = leftover


@event.listens_for(db.session, "after_commit")
def _dispatch_after_commit(session):
    ids = session.info.pop("outbox_ids", [])
    if ids:
        dispatch(ids)


@event.listens_for(db.session, "after_rollback")
def _forget_after_rollback(session):
    session.info.pop("outbox_ids", None)
    session.info.pop("outbox_new", None)


def dispatch(ids: list[int]) -> None:
    """Queue the emails on RQ; without Redis (embedded default) deliver them after the request."""
    if current_app.config["REDIS_URL"]:
        enqueue_emails(ids)
    elif has_request_context():
        g.setdefault("emails_to_deliver", []).extend(ids)


def enqueue_emails(ids: list[int]) -> int:
    """Put the emails on the queue; a Redis failure is logged, the outbox keeps them for `outbox drain`."""
    return enqueue_jobs("jobs.email.send_email", "email", ids)


def enqueue_jobs(job: str, kind: str, ids: list[int]) -> int:
    """Queue `job` by its dotted name (the portal need not import `jobs`) once per row id; returns how many.

    A Redis failure is logged and not raised: the change stands, the rows stay, and the drain picks them up.
    """
    from rq import Retry

    from portal.queues import email_queue

    config = current_app.config
    count = 0
    try:
        queue = email_queue()
        for row_id in ids:
            queue.enqueue(
                job,
                row_id,
                job_id=f"{config['RQ_QUEUE_PREFIX']}{kind}-{row_id}",
                retry=Retry(max=config["EMAIL_MAX_RETRIES"], interval=config["EMAIL_RETRY_INTERVALS"]),
                job_timeout=60,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
            count += 1
    except Exception as exc:  # Redis down: the change stands, the drain re-queues later.
        log.warning("could not queue %d %s job(s): %s", len(ids) - count, kind, exc)
    return count


def _deliver_in_process(response):
    ids = g.pop("emails_to_deliver", None)
    if ids:
        from jobs.email import deliver

        for outbox_id in ids:
            try:
                deliver(outbox_id, final_attempt=True)
            except Exception as exc:  # recorded on the row; the page is not the place to fail
                log.warning("in-process delivery of email %s failed: %s", outbox_id, exc)
    return response


def drain_outbox(stale_seconds: int | None = None) -> int:
    """Re-queue emails still unsent some time after they were written whose job is lost. Returns how many."""
    from portal.services import email_requests

    if stale_seconds is None:
        stale_seconds = current_app.config["OUTBOX_STALE_SECONDS"]
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_seconds)
    # Reset and resend requests whose job was lost become emails (or nothing) here; those go out as usual.
    email_requests.handle_stale(cutoff)
    ids = list(
        db.session.scalars(
            select(OutboxEmail.id)
            .where(OutboxEmail.state == "queued")
            .where(or_(OutboxEmail.queued_at.is_(None), OutboxEmail.queued_at <= cutoff))
            .where(OutboxEmail.created_at <= cutoff)
            .order_by(OutboxEmail.id)
            .limit(1000)
        )
    )
    if not ids:
        db.session.rollback()
        return 0
    if not current_app.config["REDIS_URL"]:
        from jobs.email import deliver

        for outbox_id in ids:
            deliver(outbox_id, final_attempt=True)
        return len(ids)
    lost = _lost_jobs(ids)
    queued = enqueue_emails(lost) if lost else 0
    if queued:
        db.session.execute(
            OutboxEmail.__table__.update().where(OutboxEmail.id.in_(lost[:queued])).values(queued_at=now)
        )
    db.session.commit()
    return queued


# How long a job that is neither waiting nor being delivered must stay exactly as it is before the
# drain believes its worker died with it. Live jobs pass through such states in milliseconds.
SETTLE_SECONDS = 0.5


def _lost_jobs(ids: list[int]) -> list[int]:
    """The ids whose RQ job is gone, ended without sending, or will never run because its worker died.

    A job waiting in its queue or for its retry is left alone: re-queuing it would restart its retry
    count, and an email that keeps failing would never be marked failed. RQ's status alone does not
    tell a live job from a dead one ("started" or "queued" but in no queue), so such a job counts as
    lost only if no delivery holds its row and it has not moved at all a moment later.
    """
    try:
        first = _job_snapshot(ids)
        unsettled = [i for i, seen in first.items() if isinstance(seen, tuple)]
        second = {}
        if unsettled:
            time.sleep(SETTLE_SECONDS)
            second = _job_snapshot(unsettled)
    except Exception as exc:  # Redis still down: nothing can be queued this round
        log.warning("outbox drain cannot reach the queue: %s", exc)
        return []
    gone = [i for i, seen in first.items() if seen == "gone"]
    stuck = [i for i in unsettled if second.get(i) == first[i]]
    return sorted(gone + stuck)


def _job_snapshot(ids: list[int]) -> dict:
    """Per outbox id: "waiting", "busy" (being delivered), "gone", or the exact state of a job in between."""
    from rq.job import Job
    from rq.registry import ScheduledJobRegistry

    from portal.queues import email_queue, redis_connection

    prefix = current_app.config["RQ_QUEUE_PREFIX"]
    job_ids = [f"{prefix}email-{i}" for i in ids]
    connection = redis_connection()
    queue = email_queue()
    scheduled = ScheduledJobRegistry(queue=queue).key
    jobs = Job.fetch_many(job_ids, connection=connection)
    with connection.pipeline(transaction=False) as pipe:
        for job_id in job_ids:
            pipe.lpos(queue.key, job_id)
            pipe.zscore(scheduled, job_id)
        places = pipe.execute()
    snapshot, between = {}, []
    for n, (outbox_id, job) in enumerate(zip(ids, jobs, strict=True)):
        state = None if job is None else _state(job)
        in_queue, in_schedule = places[2 * n] is not None, places[2 * n + 1] is not None
        if (state == "queued" and in_queue) or (state == "scheduled" and in_schedule) or state == "deferred":
            snapshot[outbox_id] = "waiting"
        elif state in (None, "finished", "failed", "stopped", "canceled"):
            snapshot[outbox_id] = "gone"
        else:
            snapshot[outbox_id] = (state, job.enqueued_at, job.started_at, job.worker_name)
            between.append(outbox_id)
    if between:
        # A delivery in progress holds its row's lock.
        free = set(
            db.session.scalars(
                select(OutboxEmail.id).where(OutboxEmail.id.in_(between)).with_for_update(skip_locked=True)
            )
        )
        db.session.commit()  # release the probe's locks at once, or a worker would find the rows busy
        snapshot.update({i: "busy" for i in between if i not in free})
    return snapshot


def _state(job) -> str:
    status = job.get_status(refresh=False)
    return getattr(status, "value", status)
