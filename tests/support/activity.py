"""Generated portal activity for the admin overview: new users, consultations in every state and failed emails,
spread over the weeks before an instant, with weeks left empty and events on the very edges of weeks."""

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.extensions import db
from portal.models import CANCEL_REASONS, Consultation, OutboxEmail, Slot
from tests.factories import make_user

SLOT = timedelta(minutes=30)
FATES = ("pending",) * 5 + ("accepted",) * 6 + ("rejected",) * 3 + ("cancelled",) * 4 + ("cancelled_by_specialist",) * 2


def monday_of(moment: datetime, zone: ZoneInfo) -> datetime:
    """The instant the week of `moment` begins in `zone` (Monday 00:00 there)."""
    day = moment.astimezone(zone).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(0), tzinfo=zone).astimezone(UTC)


@dataclass
class Activity:
    """What to generate: `weeks` weeks up to the one of `now` in `zone`, `empty` week indexes (0 = oldest) in
    which nothing at all happens, and `edges`: instants at which a request, a new user and a failed email happen."""

    now: datetime
    zone: ZoneInfo
    weeks: int = 14
    per_week: tuple[int, int] = (4, 16)
    empty: tuple[int, ...] = ()
    edges: tuple[datetime, ...] = ()
    seed: int = 7
    rng: random.Random = field(init=False)
    starts: list[datetime] = field(init=False)
    booked: dict = field(init=False, default_factory=dict)  # specialist id → slot starts (kept apart)

    def __post_init__(self):
        self.rng = random.Random(self.seed)
        first = monday_of(self.now, self.zone).astimezone(self.zone).date() - timedelta(weeks=self.weeks - 1)
        days = [first + timedelta(weeks=n) for n in range(self.weeks + 1)]
        self.starts = [datetime.combine(d, time(0), tzinfo=self.zone).astimezone(UTC) for d in days]

    def week_of(self, moment: datetime) -> int | None:
        for index in range(self.weeks):
            if self.starts[index] <= moment < self.starts[index + 1]:
                return index
        return None

    def allowed(self, *moments: datetime | None) -> bool:
        """Every instant is in the past and outside the empty weeks."""
        return all(m is None or (m <= self.now and self.week_of(m) not in self.empty) for m in moments)

    def instant_in(self, week: int) -> datetime:
        start, end = self.starts[week], min(self.starts[week + 1], self.now)
        return start + (end - start) * self.rng.random()

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.uniform(0.1, 0.9)


def generate(activity: Activity) -> dict:
    """Write the activity to the database (committed); returns how many consultations, users and emails."""
    rng = activity.rng
    specialists = []
    for n in range(6):
        created = _some_instant(activity)
        specialists.append(make_user("specialist", username=f"gen_spec{n}", created_at=created, commit=False))
    clients = [
        make_user("client", username=f"gen_client{n}", created_at=_some_instant(activity), commit=False)
        for n in range(12)
    ]
    db.session.flush()
    made = 0
    for week in range(activity.weeks):
        if week in activity.empty or activity.starts[week] > activity.now:
            continue
        wanted = rng.randint(*activity.per_week)
        tries = 0
        while wanted and tries < 200:
            tries += 1
            if _consultation(activity, rng.choice(specialists), rng.choice(clients), activity.instant_in(week)):
                wanted -= 1
                made += 1
    emails = 0
    for week in range(activity.weeks):
        if week in activity.empty:
            continue
        for _ in range(rng.randint(0, 3)):
            _email(clients[0], activity.instant_in(week), rng.choice(("failed", "failed", "sent", "queued")))
            emails += 1
    for edge in activity.edges:
        specialist = rng.choice(specialists)
        # A request made at the edge (its slot still ahead) and one unanswered whose slot began at it.
        _consultation(activity, specialist, clients[1], edge, fate="pending", start=activity.now + timedelta(days=3))
        _consultation(activity, specialist, clients[2], edge - timedelta(days=2), fate="pending", start=edge)
        make_user("client", created_at=edge, commit=False)
        _email(clients[0], edge, "failed")
        made, emails = made + 2, emails + 1
    db.session.commit()
    return {"consultations": made, "emails": emails}


def _some_instant(activity: Activity) -> datetime:
    while True:
        moment = activity.instant_in(activity.rng.randrange(activity.weeks))
        if activity.allowed(moment):
            return moment


def _free_start(activity: Activity, specialist, start: datetime) -> bool:
    taken = activity.booked.setdefault(specialist.id, [])
    if any(abs(start - other) < SLOT for other in taken):
        return False
    taken.append(start)
    return True


def _consultation(activity: Activity, specialist, client, created, fate=None, start=None) -> bool:
    """One consultation requested at `created` (and its slot); False if its events would break the plan."""
    rng = activity.rng
    fate = fate or rng.choice(FATES)
    start = (start or created + timedelta(hours=rng.uniform(2, 240))).replace(microsecond=0)
    decided = min(start, activity.now)
    accepted_at = rejected_at = cancelled_at = deleted_at = None
    reason = comment = None
    if fate in ("accepted", "cancelled", "cancelled_by_specialist") and rng.random() < 0.8:
        accepted_at = activity.between(created, decided)
    if fate == "accepted" and accepted_at is None:
        accepted_at = activity.between(created, decided)
    if fate == "rejected":
        rejected_at = activity.between(created, decided)
    if fate in ("cancelled", "cancelled_by_specialist"):
        cancelled_at = activity.between(accepted_at or created, decided)
    if fate == "cancelled":
        reason = rng.choice((*CANCEL_REASONS, None))
        comment = "Plans changed." if reason in (None, "Other") else None
    if fate == "cancelled_by_specialist":
        deleted_at = cancelled_at
    expired_at = start if fate == "pending" and start <= activity.now else None
    if not activity.allowed(created, accepted_at, rejected_at, cancelled_at, expired_at) or created >= start:
        return False
    if not _free_start(activity, specialist, start):
        return False
    slot = Slot(
        specialist_id=specialist.id, starts_at=start, ends_at=start + SLOT, created_at=created, deleted_at=deleted_at
    )
    db.session.add(slot)
    db.session.flush()
    db.session.add(
        Consultation(
            slot_id=slot.id,
            client_id=client.id,
            status=fate,
            cancel_reason=reason,
            cancel_comment=comment,
            created_at=created,
            accepted_at=accepted_at,
            rejected_at=rejected_at,
            cancelled_at=cancelled_at,
        )
    )
    return True


def _email(user, created: datetime, state: str) -> None:
    db.session.add(
        OutboxEmail(
            user_id=user.id,
            recipient=user.email,
            kind="new_request",
            subject="New request",
            body_text="…",
            state=state,
            attempts=3 if state == "failed" else 1,
            last_error="550 mailbox unavailable" if state == "failed" else None,
            created_at=created,
        )
    )
