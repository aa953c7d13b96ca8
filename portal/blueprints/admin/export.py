"""The consultations export: a CSV file streamed from a server-side cursor, in constant memory."""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from portal.extensions import db
from portal.models import Consultation, Slot, User
from portal.models.slot import shown_status

HEADER = (
    "id",
    "status",
    "slot_start",
    "slot_end",
    "specialist",
    "client",
    "created_at",
    "accepted_at",
    "rejected_at",
    "cancelled_at",
    "cancel_reason",
    "cancel_comment",
    "reject_reason",
)
BATCH = 1000  # rows fetched from the cursor, written and sent at a time
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheet programs read a CSV file as UTF-8 only when it starts with a byte-order mark.
BOM = "\ufeff"


def neutralised(value: str) -> str:
    """The text of a cell, with a leading apostrophe if a spreadsheet would take it for a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def consultations_csv(start: datetime, end: datetime, zone: ZoneInfo, now: datetime) -> Iterator[str]:
    """The CSV text of the consultations requested in [start, end), oldest first, a batch of rows at a time."""
    specialist, client = aliased(User), aliased(User)
    c = Consultation
    stmt = (
        select(
            c.id,
            c.status,
            Slot.starts_at,
            Slot.ends_at,
            specialist.username,
            client.username,
            c.created_at,
            c.accepted_at,
            c.rejected_at,
            c.cancelled_at,
            c.cancel_reason,
            c.cancel_comment,
            c.reject_reason,
        )
        .join(Slot, Slot.id == c.slot_id)
        .join(specialist, specialist.id == Slot.specialist_id)
        .join(client, client.id == c.client_id)
        .where(c.created_at >= start, c.created_at < end)
        .order_by(c.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    yield BOM + _taken(buffer)
    # yield_per: a server-side cursor on PostgreSQL, so only one batch is ever held in memory. Plain rows
    # through the session's connection: the ORM's row handling would add a quarter to the time.
    result = db.session.connection().execute(stmt.execution_options(yield_per=BATCH))
    for rows in result.partitions():
        writer.writerows(_cells(row, zone, now) for row in rows)
        yield _taken(buffer)


def _cells(row, zone: ZoneInfo, now: datetime) -> list:
    """One consultation as CSV cells: the status people see, times in the admin's zone with their offset."""
    ident, status, starts_at, ends_at, specialist, client, *moments, reason, comment, reject_reason = row
    return [
        ident,
        shown_status(status, starts_at, now),
        _instant(starts_at, zone),
        _instant(ends_at, zone),
        neutralised(specialist),
        neutralised(client),
        *(_instant(moment, zone) for moment in moments),
        *(neutralised(text) if text else "" for text in (reason, comment, reject_reason)),
    ]


def _instant(value: datetime | None, zone: ZoneInfo) -> str:
    """ISO 8601 with the offset, e.g. 2026-10-25T02:30:00+01:00 (empty when there is none)."""
    return value.astimezone(zone).isoformat(timespec="seconds") if value else ""


def _taken(buffer: io.StringIO) -> str:
    """What the writer put in the buffer since the last call, leaving it empty."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
