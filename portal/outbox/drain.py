"""The outbox drain: re-queue what Redis never saw or a dead worker dropped (run by the worker every minute)."""

import logging
import time
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import OutboxEmail
from portal.outbox import enqueue_emails
from portal.webhooks.drain import drain_webhooks

log = logging.getLogger(__name__)


def drain_outbox(stale_seconds: int | None = None) -> int:
    """Re-queue emails still unsent some time after they were written whose job is lost. Returns how many."""
    from portal.services import email_requests

    if stale_seconds is None:
        stale_seconds = current_app.config["OUTBOX_STALE_SECONDS"]
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_seconds)
    # Reset and resend requests whose job was lost become emails (or nothing) here; those go out as usual.
    email_requests.handle_stale(cutoff)
    # Webhook deliveries have an outbox of their own; their lost jobs are found here too.
    drain_webhooks(now, cutoff)
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
        from portal.mail import deliver

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
# drain believes its worker died with it. Live jobs pass through such states in milliseconds, or in a
# fraction of a second on a busy machine (a work-horse forked, a database connection opened).
SETTLE_SECONDS = 2


def _lost_jobs(ids: list[int]) -> list[int]:
    """The ids whose RQ job is gone, ended without sending, or will never run because its worker died.

    A job waiting in its queue or for its retry is left alone: re-queuing it would restart its retry
    count, and an email that keeps failing would never be marked failed. RQ's status alone does not
    tell a live job from a dead one ("started" or "queued" but in no queue), so such a job counts as
    lost only if no delivery holds its row and neither it nor its row's count of attempts has moved a
    moment later (a failed try is recorded on the row just before RQ schedules the retry).
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
        # A delivery in progress holds its row's lock; a try that failed since the last look counted an attempt.
        free = dict(
            db.session.execute(
                select(OutboxEmail.id, OutboxEmail.attempts)
                .where(OutboxEmail.id.in_(between))
                .with_for_update(skip_locked=True)
            ).all()
        )
        db.session.commit()  # release the probe's locks at once: a delivery waits for them
        for outbox_id in between:
            snapshot[outbox_id] = snapshot[outbox_id] + (free[outbox_id],) if outbox_id in free else "busy"
    return snapshot


def _state(job) -> str:
    status = job.get_status(refresh=False)
    return getattr(status, "value", status)
