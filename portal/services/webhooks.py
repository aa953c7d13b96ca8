"""Webhook endpoints of specialists (their consultations) and admins (all): add one, stop or restart it, delete it."""

from flask import current_app
from sqlalchemy import delete, func, select

from portal.access import get_own_webhook_or_404
from portal.clock import utcnow
from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import WEBHOOK_EVENTS, User, WebhookDelivery, WebhookEndpoint
from portal.services.errors import DomainError
from portal.webhooks.address import AddressRefused, check_url
from portal.webhooks.signing import new_secret

ENDPOINTS_MAX = 10
ROLES = ("specialist", "admin")


def create_endpoint(user: User, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Add an endpoint for the chosen events; (endpoint, its signing secret) — the secret is shown only once."""
    if user.role not in ROLES:
        raise DomainError(_l("Only specialists and admins have webhooks."))
    chosen = [name for name in WEBHOOK_EVENTS if name in set(events)]
    if not chosen or len(chosen) != len(set(events)):
        raise DomainError(_l("Choose at least one event."), field="events")
    try:
        check_url(url, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except AddressRefused as refused:
        raise DomainError(refused.message, field="url") from refused
    # The owner's row first: two forms sent at once take turns on the count.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update(key_share=True))
    count = db.session.scalar(select(func.count(WebhookEndpoint.id)).where(WebhookEndpoint.user_id == user.id))
    if count >= ENDPOINTS_MAX:
        raise DomainError(_l("You can have at most 10 webhooks: delete one first."), field="url")
    secret = new_secret()
    endpoint = WebhookEndpoint(user_id=user.id, url=url, events=" ".join(chosen), secret=secret, created_at=utcnow())
    db.session.add(endpoint)
    db.session.flush()
    return endpoint, secret


def disable_endpoint(user: User, endpoint_id: int) -> WebhookEndpoint:
    """Stop sending to the endpoint; deliveries still waiting are given up when their turn comes."""
    endpoint = get_own_webhook_or_404(user, endpoint_id, lock=True)
    if endpoint.enabled:
        endpoint.disabled_at, endpoint.disabled_reason = utcnow(), "owner"
    return endpoint


def enable_endpoint(user: User, endpoint_id: int) -> WebhookEndpoint:
    """Send to the endpoint again, its failure count back at zero (the URL is checked again first)."""
    endpoint = get_own_webhook_or_404(user, endpoint_id, lock=True)
    try:
        check_url(endpoint.url, current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except AddressRefused as refused:
        raise DomainError(refused.message) from refused
    endpoint.disabled_at, endpoint.disabled_reason, endpoint.failures = None, None, 0
    return endpoint


def delete_endpoint(user: User, endpoint_id: int) -> WebhookEndpoint:
    """Delete the endpoint and its delivery log."""
    endpoint = get_own_webhook_or_404(user, endpoint_id, lock=True)
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    db.session.delete(endpoint)
    return endpoint
