"""In Chromium: a client asks for a new time for an accepted consultation and the specialist accepts it; the
specialist moves another one to a free slot, and cancels a third with a reason, removing its slot."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail, Slot
from tests.factories import make_consultation, make_slot, make_user
from tests.support.browser import log_in

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)  # Monday 09:00 in Moscow

TEXT = {
    "en": {
        "reschedule": "Reschedule",
        "request": "Request new time",
        "sent": "Your request for the new time is sent.",
        "replaces": "New time for the consultation accepted for",
        "accept": "Accept",
        "accepted": "Accepted",
        "cancelled": "Cancelled",
        "rescheduled": "Rescheduled",
    },
    "ru": {
        "reschedule": "Перенести",
        "request": "Запросить новое время",
        "sent": "Запрос нового времени отправлен.",
        "replaces": "Новое время для консультации, принятой на",
        "accept": "Принять",
        "accepted": "Принята",
        "cancelled": "Отменена",
        "rescheduled": "Перенесена",
    },
}


def fresh(consultation_id: int) -> Consultation:
    _db.session.expire_all()
    return _db.session.get(Consultation, consultation_id)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_client_reschedules_and_the_specialist_accepts(new_page, clock, lang):
    clock.set(NOW)
    t = TEXT[lang]
    locale = {"en": "en-US", "ru": "ru-RU"}[lang]
    doctor = make_user("specialist", username="dr_mira", locale=lang, timezone="Europe/Moscow")
    kate = make_user("client", username="kate", locale=lang, timezone="Europe/Moscow")
    old = make_slot(doctor, starts_at=NOW + timedelta(days=1, hours=1), minutes=50)
    new = make_slot(doctor, starts_at=NOW + timedelta(days=2, hours=3), minutes=50)
    booked = make_consultation(old, kate, "accepted")
    client_page, doctor_page = new_page(locale=locale), new_page(locale=locale)
    log_in(client_page, "kate")
    log_in(doctor_page, "dr_mira")

    client_page.goto("/client/consultations")
    client_page.locator(f"tr#consultation-{booked.id}").get_by_role("link", name=t["reschedule"]).click()
    client_page.locator(f"label[for='time-{new.id}']").click()  # Wednesday 12:00 in Moscow
    expect(client_page.locator(f"#time-{new.id}")).to_be_checked()
    client_page.get_by_role("button", name=t["request"]).click()
    expect(client_page.locator(".alert-success")).to_contain_text(t["sent"])
    expect(client_page.locator(f"tr#consultation-{booked.id}")).to_contain_text(t["accepted"])
    request_id = _db.session.scalars(select(Consultation.id).where(Consultation.rescheduled_from_id == booked.id)).one()

    doctor_page.goto("/specialist/consultations")
    row = doctor_page.locator("tr", has_text="kate")
    expect(row).to_contain_text(t["replaces"])
    row.get_by_role("button", name=t["accept"]).click()
    expect(doctor_page.locator(".alert-success")).to_be_visible()

    client_page.goto("/client/consultations?tab=past")  # Past and cancelled
    expect(client_page.locator(f"tr#consultation-{booked.id}")).to_contain_text(t["cancelled"])
    expect(client_page.locator(f"tr#consultation-{booked.id}")).to_contain_text(t["rescheduled"])
    client_page.goto("/client/consultations")
    expect(client_page.locator(f"tr#consultation-{request_id}")).to_contain_text(t["accepted"])
    assert (fresh(booked.id).status, fresh(request_id).status) == ("cancelled", "accepted")
    # The old time is free again, on the profile.
    client_page.goto("/specialists/dr_mira")
    expect(client_page.locator(f"a[href='/book/{old.id}']")).to_be_visible()


def test_specialist_moves_a_consultation(page, clock):
    clock.set(NOW)
    specialist = make_user("specialist", username="dr_move", timezone="Europe/Moscow")
    client = make_user("client", username="lev", timezone="Asia/Vladivostok")
    old = make_slot(specialist, starts_at=NOW + timedelta(days=1, hours=1), minutes=50)
    target = make_slot(specialist, starts_at=NOW + timedelta(days=3, hours=5), minutes=50)
    booked = make_consultation(old, client, "accepted")
    clock.set(NOW + timedelta(minutes=10))
    log_in(page, "dr_move")
    page.goto("/specialist/consultations?status=accepted")
    page.locator("tr", has_text="lev").get_by_role("link", name="Move").click()
    expect(page.get_by_role("heading", name="Move consultation")).to_be_visible()
    page.get_by_role("button", name="Move consultation").click()
    expect(page.locator(".field-error")).to_contain_text("Choose a time.")
    page.locator(f"label[for='time-{target.id}']").click()
    page.get_by_role("button", name="Move consultation").click()
    expect(page.locator(".alert-success")).to_contain_text("is moved")
    moved = fresh(booked.id)
    assert (moved.slot_id, moved.status) == (target.id, "accepted")
    mail = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "consultation_moved")).one()
    assert mail.recipient == client.email and f"UID:consultation-{booked.id}@" in mail.ics


def test_specialist_cancels_a_consultation_and_removes_the_slot(page, clock):
    clock.set(NOW)
    specialist = make_user("specialist", username="dr_stop", timezone="Europe/Moscow")
    client = make_user("client", username="ivan")
    slot = make_slot(specialist, starts_at=NOW + timedelta(days=1, hours=1), minutes=50)
    booked = make_consultation(slot, client, "accepted")
    log_in(page, "dr_stop")
    page.goto("/specialist/consultations?status=accepted")
    page.locator("tr", has_text="ivan").get_by_role("link", name="Cancel…").click()
    page.get_by_role("button", name="Cancel consultation").click()
    expect(page.locator(".field-error")).to_contain_text("Tell the client why.")
    assert fresh(booked.id).status == "accepted"
    page.get_by_label("Reason").fill("I have to travel that day.")
    page.get_by_label("Remove the slot").check()
    page.get_by_role("button", name="Cancel consultation").click()
    expect(page.locator(".alert-success")).to_contain_text("is cancelled")
    cancelled = fresh(booked.id)
    assert (cancelled.status, cancelled.cancel_comment) == ("cancelled_by_specialist", "I have to travel that day.")
    assert _db.session.get(Slot, slot.id).deleted_at is not None
    mail = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "specialist_cancelled")).one()
    assert mail.recipient == client.email and "METHOD:CANCEL" in mail.ics
