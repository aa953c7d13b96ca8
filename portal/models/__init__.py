"""All models, importable from one place."""

from portal.models.account_request import REQUEST_KINDS, AccountEmailRequest
from portal.models.api_token import ApiToken
from portal.models.availability import Availability, DayOff, WorkingHours
from portal.models.base import Base, utcnow
from portal.models.moderation import ModerationLog
from portal.models.notice import NOTICE_KINDS, ConsultationNotice
from portal.models.outbox import OutboxEmail
from portal.models.slot import ACTIVE_STATUSES, CANCEL_REASONS, MESSAGE_MAX, STATUSES, Consultation, Slot
from portal.models.token import AuthToken
from portal.models.two_factor import RecoveryCode
from portal.models.user import ROLES, User
from portal.models.webhook import DELIVERY_STATES, WEBHOOK_EVENTS, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ACTIVE_STATUSES",
    "ApiToken",
    "CANCEL_REASONS",
    "MESSAGE_MAX",
    "REQUEST_KINDS",
    "ROLES",
    "STATUSES",
    "AccountEmailRequest",
    "Availability",
    "ConsultationNotice",
    "DayOff",
    "NOTICE_KINDS",
    "WorkingHours",
    "AuthToken",
    "Base",
    "Consultation",
    "ModerationLog",
    "OutboxEmail",
    "RecoveryCode",
    "Slot",
    "User",
    "utcnow",
    "DELIVERY_STATES",
    "WEBHOOK_EVENTS",
    "WebhookDelivery",
    "WebhookEndpoint",
]
