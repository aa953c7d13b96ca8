"""Generated slots: six months back and six months ahead, never overlapping per specialist.

Each specialist's day is cut into one-hour cells 08:00–19:00 in their own time zone; a slot takes one
cell (30–60 minutes from the top of the hour), and no cell is used twice, so live slots never overlap.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench import common

DAYS_BACK = 182
DAYS = 2 * DAYS_BACK + 1
HOURS = 11  # cells start at 08:00 … 18:00 local time
FIRST_HOUR = 8
NOTES = ["Online (video call)", "Office 3B, second floor", "First session: bring your documents", "Phone call"]


@dataclass(slots=True)
class Slot:
    id: int
    specialist_id: int
    starts_at: datetime
    ends_at: datetime
    created_at: datetime
    note: str | None = None
    deleted_at: datetime | None = None
    busy_week: bool = False

    def row(self) -> tuple:
        updated = self.deleted_at or self.created_at
        return (
            self.id, self.specialist_id, self.starts_at, self.ends_at, self.note, self.deleted_at,
            self.created_at, updated,
        )  # fmt: skip


def _start(zone: ZoneInfo, day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone).astimezone(UTC)


def make_slots(rng, now: datetime, users, total: int) -> list[Slot]:
    """All slots; the busy week of the named specialist and the writers' free future slots included."""
    slots: list[Slot] = []
    specialists = [u for u in users if u.role == "specialist"]
    writers = {u.id for u in specialists if u.username in common.WRITER_SPECIALISTS}
    regular = [u for u in specialists if u.id not in writers]

    def add(user, day: date, hour: int, minutes: int, busy_week: bool = False) -> None:
        starts = _start(ZoneInfo(user.timezone), day, hour)
        lead = timedelta(days=rng.uniform(1, 60), minutes=rng.randrange(600))
        created = min(starts - lead, now - timedelta(minutes=rng.randrange(10, 600)))
        slot = Slot(len(slots) + 1, user.id, starts, starts + timedelta(minutes=minutes), created, busy_week=busy_week)
        if rng.random() < 0.25:
            slot.note = rng.choice(NOTES)
        slots.append(slot)

    # Writers: free future slots only, soonest first, for the write scenario.
    for user in specialists:
        if user.id in writers:
            today = now.astimezone(ZoneInfo(user.timezone)).date()
            cells = sorted(rng.sample(range(HOURS, 181 * HOURS), common.WRITER_SLOTS_EACH))
            for cell in cells:
                day, hour = divmod(cell, HOURS)
                add(user, today + timedelta(days=day), FIRST_HOUR + hour, 60)

    # The named specialist's current week: 10 sessions of 50 minutes every day.
    busy = next(u for u in specialists if u.username == common.SPECIALIST)
    busy_today = now.astimezone(ZoneInfo(busy.timezone)).date()
    monday = busy_today - timedelta(days=busy_today.weekday())
    for offset in range(7):
        for hour in range(10):
            add(busy, monday + timedelta(days=offset), FIRST_HOUR + hour, 50, busy_week=True)
    busy_days = {(monday - busy_today).days + DAYS_BACK + i for i in range(7)}

    # Everyone else: a share of the remaining total, some busier than others.
    remaining = total - len(slots)
    weights = [rng.uniform(0.4, 1.6) for _ in regular]
    scale = remaining / sum(weights)
    counts = [min(int(w * scale), DAYS * HOURS // 2) for w in weights]
    for i in range(remaining - sum(counts)):
        counts[i % len(counts)] += 1
    for user, count in zip(regular, counts, strict=True):
        today = now.astimezone(ZoneInfo(user.timezone)).date()
        pool = range(DAYS * HOURS)
        if user is busy:
            pool = [c for c in pool if c // HOURS not in busy_days]
        for cell in rng.sample(pool, count):
            day, hour = divmod(cell, HOURS)
            add(user, today + timedelta(days=day - DAYS_BACK), FIRST_HOUR + hour, rng.choice((30, 45, 60, 60)))
            if rng.random() < 0.03:  # deleted later by the specialist
                slot = slots[-1]
                latest = min(slot.starts_at, now)
                slot.deleted_at = slot.created_at + (latest - slot.created_at) * rng.uniform(0.2, 0.95)
    assert len(slots) == total, len(slots)
    return slots
