"""Generated consultations in every state, following the portal's rules.

One accepted consultation per slot at most (the other requests on it are then rejected), one request per
client and slot, no client with two accepted consultations at overlapping times, deleted slots' requests
cancelled by the specialist, and every timestamp between the slot's creation and min(start, now).
"""

from datetime import datetime

from bench import common

CANCEL_REASONS = ("Health", "Personal", "Found_another_specialist", "Other")
BENCH_CLIENT_CONSULTATIONS = 60


class _Builder:
    def __init__(self, rng, now: datetime):
        self.rng = rng
        self.now = now
        self.rows: list[tuple] = []
        self.busy: dict[int, set[int]] = {}  # client id → half-hours covered by accepted consultations

    def _free_for(self, client_id: int, slot) -> bool:
        return not (self._halves(slot) & self.busy.get(client_id, set()))

    @staticmethod
    def _halves(slot) -> set[int]:
        first = int(slot.starts_at.timestamp()) // 1800
        last = (int(slot.ends_at.timestamp()) - 1) // 1800
        return set(range(first, last + 1))

    def _after(self, start: datetime, limit: datetime) -> datetime:
        return start + (limit - start) * self.rng.uniform(0.05, 0.6)

    def add(self, slot, client_id, status, created, accepted=None, rejected=None, cancelled=None):
        cancel_reason = cancel_comment = None
        if status == "cancelled":
            cancel_reason = self.rng.choice(CANCEL_REASONS)
            if cancel_reason == "Other" or self.rng.random() < 0.3:
                cancel_comment = "Something came up at work, sorry."
        reject_reason = "Fully booked that day." if status == "rejected" and self.rng.random() < 0.3 else None
        updated = max(t for t in (created, accepted, rejected, cancelled) if t is not None)
        self.rows.append(
            (
                len(self.rows) + 1,
                slot.id,
                client_id,
                status,
                cancel_reason,
                cancel_comment,
                reject_reason,
                created,
                accepted,
                rejected,
                cancelled,
                updated,
            )  # fmt: skip
        )

    def slot_requests(self, slot, clients: list[int], mode: str | None = None) -> None:
        """Requests of several clients on one slot and what became of them."""
        rng = self.rng
        limit = min(slot.starts_at, self.now, slot.deleted_at or self.now)
        times = sorted(slot.created_at + (limit - slot.created_at) * rng.uniform(0.05, 0.7) for _ in clients)
        past = slot.starts_at <= self.now
        if slot.deleted_at is not None:
            for client, created in zip(clients, times, strict=True):
                if rng.random() < 0.15:
                    self.add(slot, client, "cancelled", created, cancelled=self._after(created, limit))
                else:
                    self.add(slot, client, "cancelled_by_specialist", created, cancelled=slot.deleted_at)
            return
        if mode is None:
            mode = "booked" if rng.random() < (0.55 if past else 0.35) else "open"
        winner = None
        if mode == "booked":
            winner = next((c for c in clients if self._free_for(c, slot)), None)
        if winner is not None:
            accepted = self._after(times[-1], limit)
            for client, created in zip(clients, times, strict=True):
                if client != winner:
                    self.add(slot, client, "rejected", created, rejected=accepted)
                elif rng.random() < 0.1:
                    self.add(slot, client, "cancelled", created, accepted, cancelled=self._after(accepted, limit))
                else:
                    self.add(slot, client, "accepted", created, accepted)
                    self.busy.setdefault(client, set()).update(self._halves(slot))
            return
        shares = (0.4, 0.3) if past else (0.7, 0.15)  # pending, rejected; the rest cancelled by the client
        for client, created in zip(clients, times, strict=True):
            draw = rng.random()
            if draw < shares[0]:
                self.add(slot, client, "pending", created)
            elif draw < shares[0] + shares[1]:
                self.add(slot, client, "rejected", created, rejected=self._after(created, limit))
            else:
                self.add(slot, client, "cancelled", created, cancelled=self._after(created, limit))


def make_consultations(rng, now: datetime, users, slots, total: int) -> list[tuple]:
    """Exactly `total` consultation rows (tuples in the table's column order)."""
    builder = _Builder(rng, now)
    writers = {u.id for u in users if u.username in common.WRITER_SPECIALISTS}
    bench_client = next(u.id for u in users if u.username == common.CLIENT)
    eligible = [
        u.id
        for u in users
        if u.role == "client" and u.confirmed and not u.is_blocked and u.username not in common.WRITER_CLIENTS
    ]
    busy_week = [s for s in slots if s.busy_week]
    others = [s for s in slots if not s.busy_week and s.specialist_id not in writers]
    rng.shuffle(others)
    with_bench_client = set(rng.sample(range(len(others) // 4), BENCH_CLIENT_CONSULTATIONS))

    for slot in busy_week:
        draw = rng.random()
        if draw < 0.2:
            continue  # stays free
        mode = "booked" if draw > 0.6 else "open"
        builder.slot_requests(slot, rng.sample(eligible, rng.randint(1, 4)), mode)

    for index, slot in enumerate(others):
        left = total - len(builder.rows)
        if left <= 0:
            break
        k = min(left, rng.choices((1, 2, 3, 4), weights=(50, 30, 15, 5))[0])
        clients = rng.sample(eligible, k)
        if index in with_bench_client and bench_client not in clients:
            clients[0] = bench_client
        builder.slot_requests(slot, clients)
    assert len(builder.rows) == total, len(builder.rows)
    return builder.rows
