"""Email delivery as admins see it: outbox states, stuck rows, the RQ queue, and retrying failed emails."""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import OutboxEmail
from portal.models.outbox import EMAIL_STATES
from portal.outbox import dispatch
from portal.services.errors import DomainError, Missing
from portal.words import email_state_label

log = logging.getLogger(__name__)


class EmailMissing(Missing):
    """The outbox row does not exist."""


@dataclass
class QueueStats:
    """Length and failed-job count of the RQ emails queue; None when Redis cannot be reached."""

    waiting: int | None
    failed: int | None

    @property
    def available(self) -> bool:
        return self.waiting is not None


def state_counts() -> dict[str, int]:
    """How many outbox rows are in each state (one grouped query)."""
    counts = dict.fromkeys(EMAIL_STATES, 0)
    rows = db.session.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state))
    counts.update({state: count for state, count in rows})
    return counts


def stuck_count() -> int:
    """Rows still queued longer than OUTBOX_STALE_SECONDS after they were (re)queued."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["OUTBOX_STALE_SECONDS"])
    since = func.coalesce(OutboxEmail.queued_at, OutboxEmail.created_at)
    return db.session.scalar(
        select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == "queued", since <= cutoff)
    )


def queue_stats() -> QueueStats:
    """Ask Redis about the emails queue; any failure there means "unavailable", never an error page."""
    if not current_app.config["REDIS_URL"]:
        return QueueStats(None, None)
    try:
        from rq.registry import FailedJobRegistry

        from portal.queues import email_queue

        queue = email_queue()
        return QueueStats(queue.count, FailedJobRegistry(queue=queue).count)
    except Exception as exc:  # Redis down or refusing: the page still shows the outbox
        log.warning("email queue statistics unavailable: %s", exc)
        return QueueStats(None, None)


def retry_email(outbox_id: int) -> OutboxEmail:
    """Put a failed email back in the queued state, keeping its attempts (caller commits, then `requeue`)."""
    row = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id == outbox_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise EmailMissing(_l("There is no such email."))
    if row.state != "failed":
        state = email_state_label(row.state)
        raise DomainError(_l("Only failed emails can be retried; this one is %(state)s.", state=state))
    row.state = "queued"
    # A fresh queued_at keeps the periodic drain from queueing it a second time right away.
    row.queued_at = utcnow()
    return row


def requeue(outbox_id: int) -> None:
    """After commit: forget the old failed job and queue the email again on RQ."""
    if current_app.config["REDIS_URL"]:
        try:
            from rq.registry import FailedJobRegistry

            from portal.queues import email_queue

            job_id = f"{current_app.config['RQ_QUEUE_PREFIX']}email-{outbox_id}"
            FailedJobRegistry(queue=email_queue()).remove(job_id)
        except Exception as exc:  # the drain queues it later; the count of failed jobs may lag
            log.warning("could not clear failed job of email %s: %s", outbox_id, exc)
    dispatch([outbox_id])
