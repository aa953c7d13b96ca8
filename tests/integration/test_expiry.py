"""Expiry of unanswered requests (SPEC §13): stored as expired at the right instant, the client emailed once, the
pages showing the same word before and after the sweep."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Availability, Consultation, ConsultationNotice, OutboxEmail
from portal.services import expiry
from tests.factories import make_consultation, make_slot, make_user

START = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)


def sweep_at(clock, when: datetime) -> int:
    clock.set(when)
    return expiry.sweep()


def stored(consultation) -> Consultation:
    db.session.expire_all()
    return db.session.get(Consultation, consultation.id)


def expiry_emails() -> list[OutboxEmail]:
    db.session.expire_all()
    return db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "request_expired")).all()


@pytest.fixture
def waiting(clock):
    """A pending request on a slot starting at START, made two days ahead: (client, specialist, consultation)."""
    clock.set(START - timedelta(days=2))
    specialist = make_user("specialist", username="sofia")
    client = make_user(username="anna")
    slot = make_slot(specialist, starts_at=START)
    return client, specialist, make_consultation(slot, client)


def test_a_request_unanswered_when_its_slot_starts_expires_then_and_its_client_is_emailed_once(clock, waiting):
    client, _, consultation = waiting
    assert sweep_at(clock, START - timedelta(seconds=1)) == 0
    assert stored(consultation).status == "pending"
    assert sweep_at(clock, START) == 1
    row = stored(consultation)
    assert (row.status, row.expired_at) == ("expired", START)
    for later in (timedelta(seconds=1), timedelta(minutes=5), timedelta(days=1)):
        assert sweep_at(clock, START + later) == 0
    (email,) = expiry_emails()
    assert email.recipient == "anna@example.com"
    assert email.subject == "Your consultation request expired: @sofia did not answer in time"
    assert "When: Thu, 10 Dec 2026, 15:00 (UTC)" in email.body_text
    assert "http://portal.test/client/slots" in email.body_text
    (notice,) = db.session.scalars(select(ConsultationNotice)).all()
    assert (notice.kind, notice.user_id, notice.outbox_email_id) == ("expired", client.id, email.id)


def test_a_worker_down_at_the_instant_expires_it_on_its_first_sweep(clock, waiting):
    _, _, consultation = waiting
    assert sweep_at(clock, START + timedelta(hours=3)) == 1
    assert stored(consultation).expired_at == START + timedelta(hours=3)
    assert len(expiry_emails()) == 1


def test_the_specialists_minimum_notice_expires_it_earlier(clock, waiting):
    _, specialist, consultation = waiting
    db.session.add(Availability(specialist_id=specialist.id, notice_hours=3))
    db.session.commit()
    assert sweep_at(clock, START - timedelta(hours=3, seconds=1)) == 0
    assert sweep_at(clock, START - timedelta(hours=3)) == 1
    assert stored(consultation).status == "expired"
    assert len(expiry_emails()) == 1


def test_answered_and_withdrawn_requests_never_expire(clock):
    clock.set(START - timedelta(days=2))
    specialist = make_user("specialist")
    for n, status in enumerate(("accepted", "rejected", "cancelled", "cancelled_by_specialist")):
        make_consultation(make_slot(specialist, starts_at=START + timedelta(hours=n)), make_user(), status=status)
    assert sweep_at(clock, START + timedelta(days=1)) == 0
    assert expiry_emails() == []
    assert "expired" not in set(db.session.scalars(select(Consultation.status)))


def test_the_email_speaks_the_clients_language_and_zone(clock, waiting):
    client, _, _ = waiting
    client.locale, client.timezone = "ru", "Asia/Vladivostok"
    db.session.commit()
    sweep_at(clock, START)
    (email,) = expiry_emails()
    assert email.subject == "Ваш запрос на консультацию истёк: @sofia не ответил(а) вовремя"
    assert "Когда: пт, 11 дек. 2026, 01:00 (Asia/Vladivostok)" in email.body_text


def test_pages_show_expired_before_and_after_the_sweep(clock, waiting, client, auth):
    anna, sofia, _ = waiting
    clock.set(START + timedelta(minutes=1))
    auth.login_as(anna)
    before = client.get("/client/consultations?tab=past").get_data(as_text=True)
    expiry.sweep()
    after = client.get("/client/consultations?tab=past").get_data(as_text=True)
    assert ">Expired</span>" in before and ">Expired</span>" in after
    auth.logout()
    auth.login_as(sofia)
    page = client.get("/specialist/consultations?status=all").get_data(as_text=True)
    assert "Expired" in page and ">Accept</button>" not in page
    assert "anna" not in client.get("/specialist/consultations?status=pending").get_data(as_text=True)
