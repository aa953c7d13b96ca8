"""Reminders and expiry sent exactly once by real worker processes (SPEC §13): two workers sweep at the same
time, one is killed with SIGKILL in the middle of a sweep and started again, and the SMTP sink still receives
one reminder a day ahead and one an hour ahead per person and consultation, and one expiry email per request.

The workers' clock is frozen from here (tests/support/clocked_app.py); their periodic jobs run every second."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text, update

from portal.extensions import db
from portal.models import Consultation, ConsultationNotice, OutboxEmail
from tests.factories import make_consultation, make_slot, make_user
from tests.support.clocked_app import FileClock
from tests.support.database import lock_waiters
from tests.support.services import WorkerProcess
from tests.support.wait import wait_until

pytestmark = pytest.mark.serial

START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def sweepers(app_config, worker_env, run_id, tmp_path, clock, mail):
    """Two `flask worker` processes with periodic jobs on, on a queue of their own, reading a clock file."""
    worker_clock = FileClock(tmp_path / "clock")
    worker_clock.reset()
    config = {"RQ_QUEUE_PREFIX": f"{run_id}sweep-", "PERIODIC_JOBS": "on", "TEST_CLOCK_FILE": str(worker_clock.path)}
    env = {**worker_env, **config}
    workers = [WorkerProcess(env, tmp_path / name, app="tests.support.clocked_app") for name in ("a", "b")]

    def set_time(when: datetime) -> None:
        clock.set(when)
        worker_clock.set(when)

    yield SimpleNamespace(workers=workers, set_time=set_time, mail=mail)
    for worker in workers:
        worker.stop()


def kill_one_mid_sweep(sweepers, held_slot_id: int, when: datetime, first: int = 0) -> None:
    """Hold one slot's lock and move the clock to `when`, so both workers' sweeps stop at that slot half done;
    SIGKILL one worker then, and start it again once the lock is gone."""
    killed = sweepers.workers[first]
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM slots WHERE id = :id FOR UPDATE"), {"id": held_slot_id})
        sweepers.set_time(when)
        for worker in sweepers.workers:
            if worker.process is None or worker.process.poll() is not None:
                worker.start()
        stuck = wait_until(lambda: lock_waiters() >= 2, timeout=60)
        assert stuck, "\n".join(worker.log()[-3000:] for worker in sweepers.workers)
        killed.kill9()
        holder.rollback()
    killed.start()


def delivered(mail) -> Counter:
    """(recipient, kind) of every email at the sink."""
    ids = [int(message["X-Portal-Outbox-Id"]) for message in list(mail.messages)]
    db.session.remove()
    kinds = dict(db.session.execute(select(OutboxEmail.id, OutboxEmail.kind).where(OutboxEmail.id.in_(ids))).all())
    recipients = [(message["To"], int(message["X-Portal-Outbox-Id"])) for message in list(mail.messages)]
    return Counter((to.split("<")[-1].rstrip(">"), kinds.get(i)) for to, i in recipients)


def settled(mail, expected: Counter) -> Counter:
    """What the sink holds once `expected` has arrived and a few more sweeps of both workers found nothing."""
    wait_until(lambda: sum(delivered(mail).values()) >= sum(expected.values()), timeout=60)
    wait_until(lambda: False, timeout=3)  # about three more sweeps each
    return delivered(mail)


def test_two_workers_one_killed_mid_sweep_send_each_reminder_and_expiry_once(sweepers):
    sweepers.set_time(START - timedelta(days=3))
    sofia = make_user("specialist", username="sofia")
    pavel = make_user("specialist", username="pavel", locale="ru", timezone="Europe/Moscow")
    olga = make_user("specialist", username="olga")
    clients = [make_user(username=f"client{n}", locale="ru" if n % 2 else "en") for n in range(6)]
    clients[5].reminders_enabled = False
    expected = Counter()
    booked = []
    for n, client in enumerate(clients):
        specialist = (sofia, pavel)[n % 2]
        slot = make_slot(specialist, starts_at=START + timedelta(minutes=10 * n), minutes=10)
        booked.append(make_consultation(slot, client, status="accepted").slot_id)
        people = [specialist] + ([] if n == 5 else [client])
        expected.update((person.email, "reminder_24h") for person in people)
    # Cancelled before its first reminder: none. Pending, never answered: expires at its start.
    gone = make_slot(sofia, starts_at=START + timedelta(minutes=70), minutes=10)
    make_consultation(gone, make_user(username="gone"), status="cancelled")
    waiting = make_consultation(make_slot(sofia, starts_at=START + timedelta(minutes=90)), make_user(username="wait"))
    late = make_consultation(make_slot(olga, starts_at=START + timedelta(minutes=30)), make_user(username="later"))
    waiting_id, late_id = waiting.id, late.id

    # A day ahead: both workers sweep, one is killed half-way, both carry on.
    kill_one_mid_sweep(sweepers, booked[2], START - timedelta(hours=23, minutes=5))
    assert settled(sweepers.mail, expected) == expected

    # Accepted less than a day ahead: only the hour reminder. Past the hour mark the other one is killed.
    accepted_at = START - timedelta(hours=10)
    db.session.execute(
        update(Consultation).where(Consultation.id == late_id).values(status="accepted", accepted_at=accepted_at)
    )
    db.session.commit()
    kill_one_mid_sweep(sweepers, booked[3], START - timedelta(minutes=5), first=1)
    for (email, _), count in list(expected.items()):
        expected[(email, "reminder_1h")] += count
    expected.update([("olga@example.com", "reminder_1h"), ("later@example.com", "reminder_1h")])
    assert settled(sweepers.mail, expected) == expected

    # Past the unanswered request's start: expired, its client emailed once; nothing else is sent.
    sweepers.set_time(START + timedelta(minutes=95))
    expected.update([("wait@example.com", "request_expired")])
    assert settled(sweepers.mail, expected) == expected
    db.session.remove()
    assert db.session.get(Consultation, waiting_id).status == "expired"
    notices = db.session.scalars(select(ConsultationNotice.kind)).all()
    assert Counter(notices) == Counter(kind.replace("request_", "") for (_, kind) in expected.elements())
