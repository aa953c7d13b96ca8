"""The delivery log of one person's webhook endpoints: one keyset-paged query, newest first."""

from datetime import datetime
from functools import cache
from typing import NamedTuple

from flask import current_app, request
from sqlalchemy import bindparam, select

from portal.extensions import db
from portal.models import User, WebhookDelivery, WebhookEndpoint
from portal.pagination import Page, keyset_page, ordered


class DeliveryRow(NamedTuple):
    """A row of the delivery log (columns only: no payload)."""

    id: int
    created_at: datetime
    event: str
    message_id: str
    state: str
    attempts: int
    status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    url: str


@cache
def _statement(ascending: bool, with_cursor: bool, limit: int):
    stmt = (
        select(
            WebhookDelivery.id,
            WebhookDelivery.created_at,
            WebhookDelivery.event,
            WebhookDelivery.message_id,
            WebhookDelivery.state,
            WebhookDelivery.attempts,
            WebhookDelivery.status_code,
            WebhookDelivery.last_error,
            WebhookDelivery.next_attempt_at,
            WebhookEndpoint.url,
        )
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookEndpoint.user_id == bindparam("user_id"))
    )
    return ordered(stmt, (WebhookDelivery.created_at, WebhookDelivery.id), ascending, with_cursor, limit)


def deliveries_page(user: User) -> Page:
    """The page of the user's deliveries after `?after=` or before `?before=`."""
    limit = current_app.config["PAGE_SIZE"]
    return keyset_page(
        lambda ascending, with_cursor: _statement(ascending, with_cursor, limit),
        lambda row: (row.created_at, row.id),
        after=request.args.get("after"),
        before=request.args.get("before"),
        descending=True,
        params={"user_id": user.id},
        make=DeliveryRow,
        limit=limit,
    )


def endpoints_of(user: User) -> list[WebhookEndpoint]:
    """The user's endpoints (at most ENDPOINTS_MAX), oldest first."""
    return list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.user_id == user.id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
    )
