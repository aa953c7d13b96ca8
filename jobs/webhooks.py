"""RQ entry point: one webhook delivery attempt (queued by name as "jobs.webhooks.send_webhook")."""

from jobs import in_app
from portal.webhooks.send import deliver_webhook


def send_webhook(delivery_id: int) -> str:
    """Try the delivery; a failed attempt is recorded and retried by the portal's own backoff schedule."""
    with in_app():
        return deliver_webhook(delivery_id)
