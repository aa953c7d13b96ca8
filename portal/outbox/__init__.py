"""The outbox: emails are rows written with the change they report, queued on RQ after commit.

One home for email on the portal's side: `queue_email` (render and add a row), dispatch after commit (the
session listeners), `enqueue_jobs` (RQ, by the job's dotted name: the portal never imports `jobs`), the drain
(portal/outbox/drain.py) and what admins see and retry (portal/outbox/admin.py). SMTP delivery itself is
portal/mail.py; jobs/email.py is the RQ entry point that calls it.
"""

import logging
from datetime import datetime

from flask import Flask, current_app, g, has_request_context
from flask_babel import force_locale
from sqlalchemy import event

from portal.extensions import db
from portal.i18n import format_for_recipient
from portal.models import OutboxEmail, User

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    from portal.services import email_requests

    if not event.contains(db.session, "after_commit", _dispatch_after_commit):
        event.listen(db.session, "after_flush_postexec", _collect_ids)
        event.listen(db.session, "after_commit", _dispatch_after_commit)
        event.listen(db.session, "after_rollback", _forget_after_rollback)
    app.after_request(_deliver_in_process)
    email_requests.init_app(app)  # after: its requests become emails before those are delivered in-process


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
    db.session.info.setdefault("outbox_new", []).append(row)
    return row


def _collect_ids(session, flush_context):
    rows = session.info.pop("outbox_new", [])
    session.info.setdefault("outbox_ids", []).extend(r.id for r in rows if r.id is not None)
    leftover = [r for r in rows if r.id is None]
    if leftover:
        session.info["outbox_new"] = leftover


def _dispatch_after_commit(session):
    ids = session.info.pop("outbox_ids", [])
    if ids:
        dispatch(ids)


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
        from portal.mail import deliver

        for outbox_id in ids:
            try:
                deliver(outbox_id, final_attempt=True)
            except Exception as exc:  # recorded on the row; the page is not the place to fail
                log.warning("in-process delivery of email %s failed: %s", outbox_id, exc)
    return response
