"""The outbox: emails are rows written with the change they report, queued on RQ after commit.

One home for email on the portal's side: `queue_email` (render and add a row), dispatch after commit
(portal/after_commit.py), `enqueue_jobs` (RQ, by the job's dotted name: the portal never imports `jobs`), the drain
(portal/outbox/drain.py) and what admins see and retry (portal/outbox/admin.py). SMTP delivery itself is
portal/mail.py; jobs/email.py is the RQ entry point that calls it.
"""

import logging
from datetime import datetime

from flask import Flask, current_app

from portal import after_commit
from portal.extensions import db
from portal.i18n import force_locale, format_for_recipient
from portal.models import OutboxEmail, User

log = logging.getLogger(__name__)

KIND = "email"


def init_app(app: Flask) -> None:
    """Emails are queued after the commit that wrote them (portal/after_commit.py); reset and resend requests
    are registered first, so that without Redis their emails are written before this request's are delivered."""
    from portal.mail import deliver
    from portal.services import email_requests

    email_requests.init_app(app)
    after_commit.register(app, KIND, enqueue_emails, lambda outbox_id: deliver(outbox_id, final_attempt=True))


def page_path(endpoint: str, **values) -> str:
    """The path of a page for a link in an email (which puts PUBLIC_URL before it); jobs have no request."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def queue_email(user: User, kind: str, ics: str | None = None, **context) -> OutboxEmail:
    """Render `email/<kind>.txt` for the recipient and add it to the outbox (no commit)."""
    with force_locale(user.locale):

        def when(value: datetime) -> str:
            return format_for_recipient(value, user.timezone)

        template = current_app.jinja_env.get_template(f"email/{kind}.txt")
        module = template.make_module(
            dict(context, recipient=user, when=when, public_url=current_app.config["PUBLIC_URL"])
        )
        subject = str(getattr(module, "subject", kind)).strip()
        body = str(module).strip() + "\n"
    row = OutboxEmail(user_id=user.id, recipient=user.email, kind=kind, subject=subject[:255], body_text=body, ics=ics)
    db.session.add(row)
    after_commit.remember(KIND, row)
    return row


def dispatch(ids: list[int]) -> None:
    """Queue committed emails on RQ; without Redis (embedded default) deliver them after the request."""
    after_commit.dispatch(KIND, ids)


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
