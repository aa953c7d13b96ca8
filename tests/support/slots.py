"""Slots as a specialist in Berlin enters them."""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.factories import make_user

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(text: str) -> datetime:
    """An aware datetime from a Berlin wall-clock time like '2026-03-10 09:00'."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def slot_data(date: str, start: str, end: str, note: str = "", repeat: int = 0, **extra) -> dict:
    """The new-slot form as a specialist fills it in, with any field added or replaced."""
    data = {"date": date, "start_time": start, "end_time": end, "note": note, "repeat_weeks": str(repeat)}
    data.update(extra)
    return data


def berlin_specialist(auth, clock, username: str = "dr_berlin", **fields):
    """A specialist in Berlin, signed in, on Tuesday 10 March 2026 at 08:00 Berlin time."""
    clock.set(berlin("2026-03-10 08:00"))
    user = make_user("specialist", username=username, timezone="Europe/Berlin", **fields)
    auth.login_as(user)
    return user
