"""Reminders 24 hours and 1 hour ahead (SPEC §13): when each is due, to whom, in which words, and never twice.

The sweep runs here in the test's process with a frozen clock; tests/proof/test_sweeps_exactly_once.py runs it
in real worker processes, killed on purpose."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import ConsultationNotice, OutboxEmail
from portal.services import reminders
from tests.factories import make_consultation, make_slot, make_user

START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)


def sent(kind: str | None = None) -> list[tuple[str, str]]:
    """(recipient, kind) of every reminder in the outbox, by kind and recipient."""
    db.session.expire_all()
    stmt = select(OutboxEmail.recipient, OutboxEmail.kind).order_by(OutboxEmail.id)
    rows = db.session.execute(stmt.where(OutboxEmail.kind.like("reminder%"))).all()
    found = [tuple(row) for row in rows if kind is None or row.kind == kind]
    return sorted(found, key=lambda row: (row[1] != "reminder_24h", row[0]))


def sweep_at(clock, when: datetime) -> int:
    clock.set(when)
    return reminders.sweep()


@pytest.fixture
def booked(clock):
    """An accepted consultation starting at START, accepted three days ahead: (client, specialist, consultation)."""
    clock.set(START - timedelta(days=3))
    specialist = make_user("specialist", username="sofia")
    client = make_user(username="anna")
    slot = make_slot(specialist, starts_at=START, minutes=50)
    return client, specialist, make_consultation(slot, client, status="accepted")


def test_each_person_gets_one_reminder_a_day_ahead_and_one_an_hour_ahead(clock, booked):
    assert sweep_at(clock, START - timedelta(hours=24, seconds=1)) == 0  # not yet
    assert sweep_at(clock, START - timedelta(hours=24)) == 2
    assert sent() == [("anna@example.com", "reminder_24h"), ("sofia@example.com", "reminder_24h")]
    for minutes in (0, 1, 30, 23 * 60 - 1):  # every later sweep of the day: nothing more
        assert sweep_at(clock, START - timedelta(hours=24) + timedelta(minutes=minutes)) == 0
    assert sweep_at(clock, START - timedelta(hours=1, seconds=1)) == 0
    assert sweep_at(clock, START - timedelta(hours=1)) == 2
    assert sweep_at(clock, START - timedelta(minutes=1)) == 0
    assert sweep_at(clock, START) == 0
    assert sent("reminder_1h") == [("anna@example.com", "reminder_1h"), ("sofia@example.com", "reminder_1h")]
    notices = db.session.scalars(select(ConsultationNotice).order_by(ConsultationNotice.id)).all()
    assert len(notices) == 4 and all(n.outbox_email_id is not None for n in notices)
    assert {(n.kind, n.user_id) for n in notices} == {
        (kind, user.id) for kind in ("reminder_24h", "reminder_1h") for user in booked[:2]
    }


def test_a_worker_down_for_hours_catches_up_but_never_reminds_a_day_ahead_in_the_last_hour(clock, booked):
    assert sweep_at(clock, START - timedelta(hours=20)) == 2  # down from 24 h to 20 h ahead: sent late
    assert sent() == [("anna@example.com", "reminder_24h"), ("sofia@example.com", "reminder_24h")]
    assert sweep_at(clock, START - timedelta(minutes=10)) == 2  # down over the 1-hour mark: caught up
    assert sweep_at(clock, START + timedelta(minutes=1)) == 0


def test_down_across_both_marks_only_the_hour_reminder_is_sent(clock, booked):
    assert sweep_at(clock, START - timedelta(minutes=59)) == 2
    assert [kind for _, kind in sent()] == ["reminder_1h", "reminder_1h"]
    assert sweep_at(clock, START + timedelta(seconds=1)) == 0


def test_a_consultation_that_has_started_gets_no_reminder(clock, booked):
    assert sweep_at(clock, START) == 0
    assert sweep_at(clock, START + timedelta(minutes=20)) == 0
    assert sent() == []


def test_accepted_less_than_a_day_ahead_only_the_hour_reminder(clock):
    clock.set(START - timedelta(hours=10))
    specialist = make_user("specialist", username="sofia")
    slot = make_slot(specialist, starts_at=START)
    make_consultation(slot, make_user(username="anna"), status="accepted")
    assert sweep_at(clock, START - timedelta(hours=9)) == 0
    assert sweep_at(clock, START - timedelta(hours=1)) == 2
    assert [kind for _, kind in sent()] == ["reminder_1h", "reminder_1h"]


def test_cancelled_rejected_pending_and_deleted_get_no_reminder(clock):
    clock.set(START - timedelta(days=3))
    specialist = make_user("specialist", username="sofia")
    for n, status in enumerate(("cancelled", "rejected", "pending", "cancelled_by_specialist")):
        slot = make_slot(specialist, starts_at=START + timedelta(hours=n))
        make_consultation(slot, make_user(username=f"client{n}"), status=status)
    gone = make_slot(specialist, starts_at=START + timedelta(hours=5))
    make_consultation(gone, make_user(username="client5"), status="accepted")
    gone.deleted_at = START - timedelta(days=2)
    db.session.commit()
    for hours in (24, 1):
        assert sweep_at(clock, START - timedelta(hours=hours)) == 0
    assert sent() == []


def test_cancelled_between_the_two_reminders_gets_no_second_one(clock, booked):
    client, _, consultation = booked
    assert sweep_at(clock, START - timedelta(hours=24)) == 2
    consultation.status, consultation.cancelled_at = "cancelled", START - timedelta(hours=3)
    db.session.commit()
    assert sweep_at(clock, START - timedelta(hours=1)) == 0
    assert [kind for _, kind in sent()] == ["reminder_24h", "reminder_24h"]


def test_opting_out_stops_ones_own_reminders_only(clock, booked):
    client, specialist, _ = booked
    client.reminders_enabled = False
    db.session.commit()
    assert sweep_at(clock, START - timedelta(hours=24)) == 1
    specialist.reminders_enabled = False
    client.reminders_enabled = True
    db.session.commit()
    assert sweep_at(clock, START - timedelta(hours=1)) == 1
    assert sent() == [("sofia@example.com", "reminder_24h"), ("anna@example.com", "reminder_1h")]  # 24 h first


def test_a_recorded_reminder_is_never_sent_again(clock, booked):
    """What another worker already recorded (its notice row) stops this one at the unique constraint."""
    client, specialist, consultation = booked
    clock.set(START - timedelta(hours=24))
    due = reminders.due_reminders(START - timedelta(hours=24))
    assert due == {consultation.id: sorted([("reminder_24h", client.id), ("reminder_24h", specialist.id)])}
    assert reminders.sweep() == 2  # the other worker's sweep, first
    assert reminders.send_reminders(consultation.id, due[consultation.id], START - timedelta(hours=24)) == 0
    db.session.commit()
    assert len(sent()) == 2


@pytest.mark.parametrize(
    ("locale", "zone", "subject_24h", "subject_1h", "words"),
    [
        (
            "en",
            "America/New_York",
            "Reminder: consultation on Thu, 10 Dec 2026, 10:00 (America/New York)",
            "Starting soon: consultation on Thu, 10 Dec 2026, 10:00 (America/New York)",
            ["Hello anna,", "Specialist: @sofia", "Duration: 50 min"],
        ),
        (
            "ru",
            "Asia/Vladivostok",
            "Напоминание о консультации: пт, 11 дек. 2026, 01:00 (Asia/Vladivostok)",
            "Скоро начнётся консультация: пт, 11 дек. 2026, 01:00 (Asia/Vladivostok)",
            ["Здравствуйте, anna!", "Напоминаем о консультации: пт, 11 дек. 2026, 01:00 (Asia/Vladivostok)."],
        ),
    ],
)
def test_reminders_speak_the_recipients_language_and_zone(clock, booked, locale, zone, subject_24h, subject_1h, words):
    client, _, _ = booked
    client.locale, client.timezone = locale, zone
    db.session.commit()
    sweep_at(clock, START - timedelta(hours=24))
    sweep_at(clock, START - timedelta(hours=1))
    emails = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.recipient == "anna@example.com").order_by(OutboxEmail.id)
    ).all()
    assert [e.subject for e in emails] == [subject_24h, subject_1h]
    for word in words:
        assert word in emails[0].body_text
    assert "http://portal.test/client/consultations" in emails[0].body_text
    assert "http://portal.test/profile" in emails[0].body_text
    specialist_email = db.session.scalars(
        select(OutboxEmail).where(OutboxEmail.recipient == "sofia@example.com").order_by(OutboxEmail.id)
    ).first()
    assert specialist_email.subject == "Reminder: consultation on Thu, 10 Dec 2026, 15:00 (UTC)"
    assert "http://portal.test/specialist/consultations?status=accepted" in specialist_email.body_text


def test_a_blocked_account_gets_no_reminder(clock, booked):
    client, _, _ = booked
    client.is_blocked = True
    db.session.commit()
    assert sweep_at(clock, START - timedelta(hours=24)) == 1
    assert sent() == [("sofia@example.com", "reminder_24h")]
