"""In Chromium, across roles: a specialist publishes a slot, two clients request it, the specialist accepts one,
the other sees Rejected and the slot leaves every list; the accepted client cancels with a reason, the slot
comes back, and the specialist's cancellation email arrives through the real worker. In English and Russian."""

from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db as _db
from portal.models import Consultation, Slot
from tests.factories import make_user
from tests.support.browser import log_in
from tests.support.mail import body_of

pytestmark = pytest.mark.e2e

NOW = datetime(2026, 9, 14, 6, 0, tzinfo=UTC)  # Monday 09:00 in Moscow

TEXT = {
    "en": {
        "date": "Date",
        "start": "Start time",
        "end": "End time",
        "save": "Save slot",
        "request": "Request",
        "sent": "Your request is sent to",
        "accept": "Accept",
        "pending": "Pending",
        "accepted": "Accepted",
        "rejected": "Rejected",
        "cancelled": "Cancelled",
        "cancel_link": "Cancel…",
        "reason": "Reason",
        "health": "Health",
        "comment": "Comment",
        "cancel": "Cancel consultation",
        "done": "The consultation is cancelled.",
        "subject": "cancelled a consultation",
        "when": "Tue, 15 Sep 2026, 10:00 (Europe/Moscow)",
    },
    "ru": {
        "date": "Дата",
        "start": "Время начала",
        "end": "Время окончания",
        "save": "Сохранить слот",
        "request": "Записаться",
        "sent": "Заявка отправлена",
        "accept": "Принять",
        "pending": "Ожидает",
        "accepted": "Принята",
        "rejected": "Отклонена",
        "cancelled": "Отменена",
        "cancel_link": "Отменить…",
        "reason": "Причина",
        "health": "Здоровье",
        "comment": "Комментарий",
        "cancel": "Отменить консультацию",
        "done": "Консультация отменена.",
        "subject": "отменил(а) консультацию",
        "when": "вт, 15 сент. 2026, 10:00 (Europe/Moscow)",
    },
}


def slot_row(page, slot_id: int):
    return page.locator(f"tr#slot-{slot_id}")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_booking_journey_across_roles(new_page, clock, rq_worker, mail, lang):
    clock.set(NOW)
    t = TEXT[lang]
    browser_locale = {"en": "en-US", "ru": "ru-RU"}[lang]
    make_user("specialist", username="dr_lena", locale=lang, timezone="Europe/Moscow", display_name="Lena")
    make_user("client", username="kate", locale=lang, timezone="Asia/Vladivostok")
    make_user("client", username="oleg", locale=lang, timezone="America/Los_Angeles")
    specialist, kate, oleg = (new_page(locale=browser_locale) for _ in range(3))
    for page, name in ((specialist, "dr_lena"), (kate, "kate"), (oleg, "oleg")):
        log_in(page, name)

    # The specialist publishes tomorrow 10:00–10:45 (Moscow).
    specialist.goto("/specialist/slots/new")
    specialist.get_by_label(t["date"], exact=True).fill("2026-09-15")
    specialist.get_by_label(t["start"]).fill("10:00")
    specialist.get_by_label(t["end"]).fill("10:45")
    specialist.get_by_role("button", name=t["save"]).click()
    expect(specialist.locator(".alert-success")).to_be_visible()
    slot_id = _db.session.scalars(select(Slot.id)).one()

    # Both clients see it in their own zone and request it.
    for page, shown in ((kate, "2026-09-15T17:00+10:00"), (oleg, "2026-09-15T00:00-07:00")):
        page.goto("/client/slots")
        row = slot_row(page, slot_id)
        expect(row.locator(f'time[datetime="{shown}"]')).to_be_visible()
        expect(row).to_contain_text("dr_lena")
        row.get_by_role("button", name=t["request"]).click()
        expect(page.locator(".alert-success")).to_contain_text(t["sent"])
        expect(slot_row(page, slot_id)).to_contain_text(t["pending"])

    # The specialist accepts Kate's request.
    specialist.goto("/specialist/consultations")
    kate_row = specialist.locator("tr", has_text="kate")
    kate_row.get_by_role("button", name=t["accept"]).click()
    expect(specialist.locator(".alert-success")).to_be_visible()

    # Oleg reads Rejected; the slot is gone from both lists.
    oleg.goto("/client/consultations?tab=past")  # Past and cancelled
    expect(oleg.locator("tbody tr")).to_contain_text(t["rejected"])
    for page in (kate, oleg):
        page.goto("/client/slots")
        expect(slot_row(page, slot_id)).to_have_count(0)

    # Kate cancels with a reason; the slot is offered again.
    kate.goto("/client/consultations")
    row = kate.locator("tbody tr").first
    expect(row).to_contain_text(t["accepted"])
    row.get_by_role("link", name=t["cancel_link"]).click()
    kate.get_by_label(t["reason"]).select_option(label=t["health"])
    kate.get_by_label(t["comment"]).fill("Flu" if lang == "en" else "Грипп")
    kate.get_by_role("button", name=t["cancel"]).click()
    expect(kate.locator(".alert-success")).to_contain_text(t["done"])
    kate.goto("/client/consultations?tab=past")
    expect(kate.locator("tbody tr").first).to_contain_text(t["cancelled"])
    kate.goto("/client/slots")
    expect(slot_row(kate, slot_id).get_by_role("button", name=t["request"])).to_be_visible()
    oleg.goto("/client/slots")
    expect(slot_row(oleg, slot_id)).to_contain_text(t["rejected"])  # a rejected client may not ask again

    _db.session.expire_all()
    statuses = sorted(_db.session.scalars(select(Consultation.status)))
    assert statuses == ["cancelled", "rejected"]

    # The specialist's cancellation email, in their language and zone.
    messages = [m for m in mail.wait_for(3, to="dr_lena@example.com") if t["subject"] in subject_of(m)]
    assert len(messages) == 1
    body = body_of(messages[0])
    for text in ("kate", "dr_lena", t["when"], t["health"], "Flu" if lang == "en" else "Грипп"):
        assert text in body
    assert "http://portal.test/specialist/consultations" in body
    # Every email the journey caused has gone out: two requests and the cancellation, Kate's and Oleg's answers,
    # and Kate's own confirmation of her cancellation.
    assert len(mail.wait_for(6)) == 6
    assert (len(mail.to("kate@example.com")), len(mail.to("oleg@example.com"))) == (2, 1)


def subject_of(message) -> str:
    return str(make_header(decode_header(message["Subject"])))
