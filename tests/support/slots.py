"""Slots as a specialist in Berlin enters them."""

from datetime import datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> datetime:
    """An aware datetime from a Berlin wall-clock time like '2026-03-10 09:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def slot_data(date: str, start: str, end: str, note: str = "", repeat: int = 0, **extra) -> dict:
    """The new-slot form as a specialist fills it in, with any field added or replaced."""
    data = {"date": date, "start_time": start, "end_time": end, "note": note, "repeat_weeks": str(repeat)}
    data.update(extra)
    return data
