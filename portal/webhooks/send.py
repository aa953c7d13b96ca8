"""One delivery attempt: sign, post to a freshly checked address, record the outcome, back off or give up.

After WEBHOOK_DISABLE_AFTER failed attempts in a row (any deliveries) the endpoint is disabled and its owner
emailed. Retries are spaced by WEBHOOK_RETRY_INTERVALS from the portal's clock, so a test moves the clock
instead of waiting.
"""

from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import requests
from flask import current_app
from requests.adapters import HTTPAdapter
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.clock import utcnow
from portal.extensions import db
from portal.models import User, WebhookDelivery, WebhookEndpoint
from portal.outbox import page_path, queue_email
from portal.webhooks import enqueue_deliveries, signing
from portal.webhooks.address import AddressRefused, resolve, split_url


class PinnedAdapter(HTTPAdapter):
    """Connects to the address that was checked, whatever the name resolves to a moment later (no DNS
    rebinding), while TLS still checks the certificate against the URL's host name."""

    def __init__(self, host: str):
        self.host = host
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        kwargs.update(server_hostname=self.host, assert_hostname=self.host)
        super().init_poolmanager(*args, **kwargs)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the body to the URL's host at a checked address; the status code. Redirects are not followed
    (a 3xx is a failed attempt), proxies from the environment are not used."""
    config = current_app.config
    scheme, host, port = split_url(url)
    address = resolve(host, port, config["WEBHOOK_ALLOW_PRIVATE"])[0]
    parts = urlsplit(url)
    pinned = f"[{address}]" if ":" in address else address
    target = urlunsplit((scheme, f"{pinned}:{port}", parts.path or "/", parts.query, ""))
    with requests.Session() as session:
        session.trust_env = False
        session.mount(f"{scheme}://", PinnedAdapter(host))
        response = session.post(
            target,
            data=body,
            headers={**headers, "Host": parts.netloc},
            timeout=(config["WEBHOOK_CONNECT_TIMEOUT"], config["WEBHOOK_READ_TIMEOUT"]),
            allow_redirects=False,
            stream=True,
        )
        response.close()  # the answer's body is not read: only its status counts
        return response.status_code


def deliver_webhook(delivery_id: int) -> str:
    """Try one delivery unless it is sent, given up, busy or not yet due; record the outcome and commit."""
    row = db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .options(joinedload(WebhookDelivery.endpoint, innerjoin=True))
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).first()
    if row is None:
        db.session.rollback()
        return "missing-or-busy"
    now = utcnow()
    if row.state != "queued" or (row.next_attempt_at and row.next_attempt_at > now):
        db.session.rollback()
        return "already-" + row.state if row.state != "queued" else "not-due"
    endpoint = row.endpoint
    if not endpoint.enabled:
        row.state, row.next_attempt_at, row.last_error = "failed", None, "The endpoint is disabled."
        db.session.commit()
        return "endpoint-disabled"
    timestamp = int(now.timestamp())
    body = row.payload.encode()
    status, error = None, None
    try:
        status = post(endpoint.url, body, signing.headers(endpoint.secret, row.message_id, timestamp, body))
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except AddressRefused as refused:
        error = str(refused.message)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    # Only now the endpoint's row, for its failure count shared by every delivery to it: a person
    # disabling it meanwhile did not have to wait for the receiver.
    endpoint = db.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == row.endpoint_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    row.attempts += 1
    row.status_code = status
    if error is None:
        row.state, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, None
        endpoint.failures = 0
        db.session.commit()
        return "sent"
    row.last_error = error[:2000]
    delay = _failed(row, endpoint, now)
    db.session.commit()
    if delay is not None:
        enqueue_deliveries([row.id], delay)
    return "failed"


def _failed(row: WebhookDelivery, endpoint: WebhookEndpoint, now) -> timedelta | None:
    """Count the failure, disable the endpoint at the limit, and schedule the next try (its delay) or give up."""
    config = current_app.config
    endpoint.failures += 1
    if endpoint.failures >= config["WEBHOOK_DISABLE_AFTER"]:
        disable_for_failures(endpoint, now)
    intervals = config["WEBHOOK_RETRY_INTERVALS"]
    if endpoint.enabled and row.attempts <= len(intervals):
        delay = timedelta(seconds=intervals[row.attempts - 1])
        row.next_attempt_at = now + delay
        return delay
    row.state, row.next_attempt_at = "failed", None
    return None


def disable_for_failures(endpoint: WebhookEndpoint, now) -> None:
    """Stop the endpoint and email its owner (in this transaction)."""
    endpoint.disabled_at, endpoint.disabled_reason = now, "failures"
    owner = db.session.get(User, endpoint.user_id)
    queue_email(
        owner,
        "webhook_disabled",
        url=endpoint.url,
        failures=endpoint.failures,
        link=page_path("webhooks.endpoints"),
    )
