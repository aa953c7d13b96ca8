"""The clock every test runs on: frozen where a test sets it, else running (from TEST_CLOCK_AT when set)."""

from datetime import UTC, datetime, timedelta


def clock_start(setting: str | None) -> datetime | None:
    """Where TEST_CLOCK_AT starts the running clock: "23:30" is that UTC time today, or a full ISO instant."""
    if not setting:
        return None
    if len(setting) <= 5:
        wall = datetime.strptime(setting, "%H:%M").time()
        return datetime.combine(datetime.now(UTC).date(), wall, UTC)
    start = datetime.fromisoformat(setting)
    return start if start.tzinfo else start.replace(tzinfo=UTC)


class FrozenClock:
    """A settable clock: `clock.set(dt)` freezes "now"; `clock.reset()` returns to the running clock.

    The running clock is real time, or, with TEST_CLOCK_AT set, real time shifted so the session began at that
    moment (it ticks on from there): the time-dependent tests run as if it were 23:30 or 00:30 UTC."""

    def __init__(self, start: datetime | None = None):
        self.value: datetime | None = None
        self.start = start
        self.shift = start - datetime.now(UTC) if start else timedelta(0)

    def __call__(self) -> datetime:
        return self.value or datetime.now(UTC) + self.shift

    def set(self, value: datetime) -> None:
        assert value.tzinfo is not None, "use aware datetimes"
        self.value = value.astimezone(UTC)

    def reset(self) -> None:
        self.value = None
