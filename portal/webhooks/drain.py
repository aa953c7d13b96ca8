"""Deliveries whose job was lost (Redis down at commit, a worker killed mid-delivery) or whose retry is
overdue: queued again by the outbox drain. A job that finds its row already handled does nothing."""

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import func, or_, select, update

from portal.extensions import db
from portal.models import WebhookDelivery
from portal.webhooks import enqueue_deliveries

log = logging.getLogger(__name__)


def drain_webhooks(now: datetime, cutoff: datetime) -> int:
    """Queue again the deliveries due since before `cutoff` and not queued since; returns how many."""
    ids = list(
        db.session.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.state == "queued")
            .where(func.coalesce(WebhookDelivery.next_attempt_at, WebhookDelivery.created_at) <= cutoff)
            .where(or_(WebhookDelivery.queued_at.is_(None), WebhookDelivery.queued_at <= cutoff))
            .order_by(WebhookDelivery.id)
            .limit(1000)
        )
    )
    db.session.rollback()
    if not ids:
        return 0
    if not current_app.config["REDIS_URL"]:
        from portal.webhooks.send import deliver_webhook

        for delivery_id in ids:
            deliver_webhook(delivery_id)
        return len(ids)
    queued = enqueue_deliveries(ids)
    if queued:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids[:queued])).values(queued_at=now))
        db.session.commit()
        log.info("outbox drain re-queued %d webhook delivery(ies)", queued)
    return queued
