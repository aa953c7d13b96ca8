"""Webhooks: each event for each endpoint is a delivery row written with the change it reports.

One home for webhooks on the portal's side: `queue_webhooks` (called by the services next to their emails),
dispatch after commit (portal/after_commit.py, as for the email outbox), the RQ queue (jobs are enqueued by dotted
name: the portal never imports `jobs`). Signing: portal/webhooks/signing.py; where a URL may lead:
portal/webhooks/address.py; one attempt, its backoff and disabling: portal/webhooks/send.py; lost and due
deliveries: portal/webhooks/drain.py (run with the outbox drain).
"""

import json
import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import or_, select

from portal import after_commit
from portal.clock import utcnow
from portal.extensions import db
from portal.models import Consultation, Slot, User, WebhookDelivery, WebhookEndpoint
from portal.webhooks.signing import new_message_id

log = logging.getLogger(__name__)

JOB = "jobs.webhooks.send_webhook"
KIND = "webhook"


def init_app(app: Flask) -> None:
    """Deliveries are queued after the commit that wrote them (portal/after_commit.py)."""
    from portal.webhooks.send import deliver_webhook

    after_commit.register(app, KIND, enqueue_deliveries, deliver_webhook)


def payload(event_name: str, consultation: Consultation, slot: Slot, specialist: User, client: User) -> dict:
    """The body of an event: Standard Webhooks' `type`, `timestamp` and `data` (instants in UTC)."""
    return {
        "type": event_name,
        "timestamp": utcnow().isoformat(),
        "data": {
            "consultation_id": consultation.id,
            "status": consultation.status,
            "cancel_reason": consultation.cancel_reason,
            "slot": {
                "id": slot.id,
                "starts_at": slot.starts_at.isoformat(),
                "ends_at": slot.ends_at.isoformat(),
            },
            "specialist": {"username": specialist.username, "name": specialist.name},
            "client": {"username": client.username, "name": client.name},
        },
    }


def queue_webhooks(
    event_name: str, consultation: Consultation, slot: Slot, specialist: User, client: User
) -> list[WebhookDelivery]:
    """Add a delivery for every enabled endpoint that wants this event: the specialist's and every admin's
    (no commit: the caller's transaction writes them with the change, or not at all)."""
    endpoints = db.session.scalars(
        select(WebhookEndpoint)
        .join(User, User.id == WebhookEndpoint.user_id)
        .where(
            WebhookEndpoint.disabled_at.is_(None),
            WebhookEndpoint.events.contains(event_name),
            User.is_blocked.is_(False),
            or_(WebhookEndpoint.user_id == specialist.id, User.role == "admin"),
        )
        .order_by(WebhookEndpoint.id)
    ).all()
    if not endpoints:
        return []
    if consultation.id is None:
        db.session.flush([consultation])
    body = json.dumps(payload(event_name, consultation, slot, specialist, client), separators=(",", ":"))
    rows = []
    for endpoint in endpoints:
        if event_name not in endpoint.event_list:
            continue
        row = WebhookDelivery(
            endpoint_id=endpoint.id,
            event=event_name,
            message_id=new_message_id(),
            payload=body,
            next_attempt_at=utcnow(),
        )
        db.session.add(row)
        after_commit.remember(KIND, row)
        rows.append(row)
    return rows


def enqueue_deliveries(ids: list[int], delay: timedelta | None = None) -> int:
    """Put one job per delivery on the webhooks queue (after `delay`, through RQ's scheduler); returns how many.

    A Redis failure is logged, not raised: the rows stay queued and the drain picks them up. A job that
    finds its row sent, busy or not yet due does nothing, so an extra job is harmless.
    """
    from portal.queues import webhook_queue

    count = 0
    try:
        queue = webhook_queue()
        for delivery_id in ids:
            options = {"job_timeout": 120, "result_ttl": 3600, "failure_ttl": 7 * 24 * 3600}
            if delay:
                queue.enqueue_in(delay, JOB, delivery_id, **options)
            else:
                queue.enqueue(JOB, delivery_id, **options)
            count += 1
    except Exception as exc:  # Redis down: the change stands, the drain re-queues later.
        log.warning("could not queue %d webhook delivery job(s): %s", len(ids) - count, exc)
    return count
