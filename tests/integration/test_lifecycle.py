"""A consultation after the request (SPEC §13): a client's new time, a specialist's move and cancellation, the
cutoff, the client's own cancellation email, and blocking a specialist."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import Availability, Consultation, OutboxEmail, Slot
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import body_of, calendar_part
from tests.support.pages import field_error, flashes

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
TOO_LATE = "It is too late to change this online; please contact the specialist."


@pytest.fixture
def specialist(frozen):
    return make_user("specialist", username="jung", display_name="Carl Jung")


@pytest.fixture
def me(frozen):
    return make_user("client", username="sabina", timezone="Europe/Berlin")


def at(specialist, hours: float, minutes: int = 50) -> Slot:
    return make_slot(specialist, starts_at=NOW + timedelta(hours=hours), minutes=minutes)


def browser_of(app, user):
    from tests.support.auth import logged_in_browser

    return logged_in_browser(app, user)


def emails(kind: str | None = None) -> list[OutboxEmail]:
    stmt = select(OutboxEmail).order_by(OutboxEmail.id)
    if kind:
        stmt = stmt.where(OutboxEmail.kind == kind)
    return list(_db.session.scalars(stmt))


def snapshot() -> tuple:
    """Everything a refused change must leave as it was."""
    rows = _db.session.execute(
        select(Consultation.id, Consultation.status, Consultation.slot_id, Consultation.updated_at).order_by(
            Consultation.id
        )
    ).all()
    slots = _db.session.execute(select(Slot.id, Slot.deleted_at, Slot.updated_at).order_by(Slot.id)).all()
    return rows, slots, _db.session.scalar(select(func.count(OutboxEmail.id)))


def fresh(consultation) -> Consultation:
    _db.session.expire_all()
    return _db.session.get(Consultation, consultation.id)


def test_reschedule_page_lists_the_same_specialists_free_times(app, specialist, me):
    current = at(specialist, 30)
    free = at(specialist, 50)
    later = at(specialist, 24 * 20)  # beyond 14 days
    other = at(make_user("specialist", username="adler"), 52)
    consultation = make_consultation(current, me, "accepted")
    page = browser_of(app, me).get(f"/client/consultations/{consultation.id}/reschedule")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{free.id}"' in html
    assert f'value="{current.id}"' not in html and f'value="{later.id}"' not in html
    assert f'value="{other.id}"' not in html
    assert "Request new time" in html and "<legend>New time</legend>" in html


def test_a_pending_request_simply_moves(app, specialist, me, frozen):
    old, new = at(specialist, 30), at(specialist, 50)
    consultation = make_consultation(old, me)
    frozen.set(NOW + timedelta(minutes=5))
    browser = browser_of(app, me)
    url = f"/client/consultations/{consultation.id}/reschedule"
    response = browser.submit(url, {"slot_id": str(new.id)})
    assert response.status_code == 303
    page = browser.get("/client/consultations").get_data(as_text=True)
    assert "Your request now asks for the new time." in flashes(page)
    moved = fresh(consultation)
    assert (moved.slot_id, moved.status, moved.rescheduled_from_id) == (new.id, "pending", None)
    assert _db.session.scalar(select(func.count(Consultation.id))) == 1
    assert [e.user_id for e in emails("reschedule_requested")] == [specialist.id]
    assert [e.user_id for e in emails("reschedule_sent")] == [me.id]


def test_an_accepted_consultation_stands_until_the_new_time_is_accepted(app, specialist, me, frozen):
    old, new = at(specialist, 30), at(specialist, 50)
    rival = make_user("client", username="otto")
    accepted = make_consultation(old, me, "accepted")
    rivals_request = make_consultation(new, rival)
    frozen.set(NOW + timedelta(minutes=5))
    browser = browser_of(app, me)
    response = browser.submit(f"/client/consultations/{accepted.id}/reschedule", {"slot_id": str(new.id)})
    assert response.status_code == 303
    request = _db.session.scalars(select(Consultation).where(Consultation.rescheduled_from_id == accepted.id)).one()
    assert (request.slot_id, request.status) == (new.id, "pending")
    assert fresh(accepted).status == "accepted"

    # A second request for a new time while the first waits is refused, and writes nothing.
    third = at(specialist, 70)
    before = snapshot()
    response = browser.submit(f"/client/consultations/{accepted.id}/reschedule", {"slot_id": str(third.id)})
    assert "already asked for a new time" in flashes(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert snapshot() == before

    # The specialist sees what the request is, and accepting it replaces the old one in one go.
    specialist_browser = browser_of(app, specialist)
    requests_page = specialist_browser.get("/specialist/consultations").get_data(as_text=True)
    assert "New time for the consultation accepted for" in requests_page
    frozen.set(NOW + timedelta(minutes=10))
    response = specialist_browser.submit(
        f"/specialist/consultations/{request.id}/accept", {}, from_url="/specialist/consultations"
    )
    assert response.status_code == 303
    old_one, new_one = fresh(accepted), fresh(request)
    assert (old_one.status, old_one.cancel_reason) == ("cancelled", "Rescheduled")
    assert new_one.status == "accepted"
    assert fresh(rivals_request).status == "rejected"
    # The old time is offered again.
    assert f"/book/{old.id}" in browser.get(f"/specialists/{specialist.username}").get_data(as_text=True)
    (mail,) = emails("reschedule_accepted")
    assert mail.user_id == me.id and "METHOD:REQUEST" in mail.ics
    assert f"UID:consultation-{request.id}@" in mail.ics
    # The earlier time leaves the client's calendar: its own UID, cancelled.
    (replaced,) = emails("reschedule_replaced")
    assert replaced.user_id == me.id and "METHOD:CANCEL" in replaced.ics
    assert f"UID:consultation-{accepted.id}@" in replaced.ics
    listing = browser.get("/client/consultations?tab=past").get_data(as_text=True)
    row = listing[listing.index(f'id="consultation-{accepted.id}"') :].split("</tr>")[0]
    assert "Cancelled" in row and "Rescheduled" in row


def test_a_rejected_new_time_leaves_the_consultation_standing(app, specialist, me, frozen):
    old, new = at(specialist, 30), at(specialist, 50)
    accepted = make_consultation(old, me, "accepted")
    browser_of(app, me).submit(f"/client/consultations/{accepted.id}/reschedule", {"slot_id": str(new.id)})
    request = _db.session.scalars(select(Consultation).where(Consultation.rescheduled_from_id == accepted.id)).one()
    specialist_browser = browser_of(app, specialist)
    specialist_browser.submit(
        f"/specialist/consultations/{request.id}/reject", {"reason": ""}, from_url="/specialist/consultations"
    )
    assert fresh(request).status == "rejected"
    assert fresh(accepted).status == "accepted"
    (mail,) = emails("request_rejected")
    assert "your consultation at the earlier time stands" in mail.body_text


@pytest.mark.parametrize("choice", ["", "abc", "999999", "self", "other_specialist", "booked"])
def test_bad_new_times_are_refused_next_to_the_list(app, specialist, me, choice):
    current = at(specialist, 30)
    at(specialist, 50)
    booked = at(specialist, 70)
    make_consultation(booked, make_user("client"), "accepted")
    foreign = at(make_user("specialist"), 40)
    consultation = make_consultation(current, me, "accepted")
    value = {"self": str(current.id), "other_specialist": str(foreign.id), "booked": str(booked.id)}.get(choice, choice)
    before = snapshot()
    response = browser_of(app, me).submit(f"/client/consultations/{consultation.id}/reschedule", {"slot_id": value})
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "slot_id")
    assert snapshot() == before


def test_cutoff_refuses_cancel_and_reschedule_and_writes_nothing(app, specialist, me):
    _db.session.add(Availability(specialist_id=specialist.id, cutoff_hours=24))
    _db.session.commit()
    soon, free = at(specialist, 20), at(specialist, 50)
    consultation = make_consultation(soon, me, "accepted")
    browser = browser_of(app, me)
    before = snapshot()
    for url, data in (
        (f"/client/consultations/{consultation.id}/cancel", {"reason": "Health"}),
        (f"/client/consultations/{consultation.id}/reschedule", {"slot_id": str(free.id)}),
    ):
        page = browser.get(url)
        assert page.status_code == 303
        assert TOO_LATE in flashes(browser.get(page.headers["Location"]).get_data(as_text=True))
        token = browser.csrf_token("/client/consultations")
        response = browser.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 303
        assert TOO_LATE in flashes(browser.get(response.headers["Location"]).get_data(as_text=True))
    assert snapshot() == before


def test_cutoff_default_allows_changes_until_the_start(app, specialist, me):
    soon = at(specialist, 0.5)
    consultation = make_consultation(soon, me)
    response = browser_of(app, me).submit(
        f"/client/consultations/{consultation.id}/cancel", {"reason": "Health", "comment": ""}
    )
    assert response.status_code == 303
    assert fresh(consultation).status == "cancelled"


def test_the_client_is_sent_their_own_cancellation(app, specialist, me, frozen):
    consultation = make_consultation(at(specialist, 30), me, "accepted")
    frozen.set(NOW + timedelta(minutes=3))
    browser_of(app, me).submit(f"/client/consultations/{consultation.id}/cancel", {"reason": "Personal"})
    (mail,) = emails("cancellation_confirmed")
    assert mail.user_id == me.id and "METHOD:CANCEL" in mail.ics
    assert f"UID:consultation-{consultation.id}@" in mail.ics
    pending = make_consultation(at(specialist, 60), me)
    browser_of(app, me).submit(f"/client/consultations/{pending.id}/cancel", {"reason": "Personal"})
    assert [e.ics for e in emails("cancellation_confirmed")][1] is None


def sequence_of(ics: str) -> int:
    return int(next(line for line in ics.splitlines() if line.startswith("SEQUENCE:")).split(":")[1])


def test_the_specialist_moves_an_accepted_consultation(app, specialist, me, frozen):
    old, target = at(specialist, 30), at(specialist, 50)
    consultation = make_consultation(old, me, "accepted")
    waiting = make_consultation(target, make_user("client", username="emma"))
    browser = browser_of(app, specialist)
    page = browser.get("/specialist/consultations?status=accepted").get_data(as_text=True)
    assert f"/specialist/consultations/{consultation.id}/move" in page
    frozen.set(NOW + timedelta(minutes=1))
    first_ics = browser_of(app, me).get(f"/client/consultations/{consultation.id}.ics").get_data(as_text=True)
    frozen.set(NOW + timedelta(minutes=7))
    url = f"/specialist/consultations/{consultation.id}/move"
    move_page = browser.get(url).get_data(as_text=True)
    assert f'value="{target.id}"' in move_page and "Move consultation" in move_page
    response = browser.submit(url, {"slot_id": str(target.id)})
    assert response.status_code == 303
    moved = fresh(consultation)
    assert (moved.slot_id, moved.status) == (target.id, "accepted")
    assert fresh(waiting).status == "rejected"
    (mail,) = emails("consultation_moved")
    assert mail.user_id == me.id
    uid = f"UID:consultation-{consultation.id}@"
    assert uid in mail.ics and uid in first_ics
    assert sequence_of(mail.ics) > sequence_of(first_ics)
    # The old slot is free again.
    assert f"/book/{old.id}" in browser_of(app, me).get(f"/specialists/{specialist.username}").get_data(as_text=True)


def test_only_accepted_future_consultations_can_be_moved_or_cancelled(app, specialist, me):
    pending = make_consultation(at(specialist, 30), me)
    browser = browser_of(app, specialist)
    for action in ("move", "cancel"):
        response = browser.get(f"/specialist/consultations/{pending.id}/{action}")
        assert response.status_code == 303
    other = make_user("specialist")
    theirs = make_consultation(at(other, 40), me, "accepted")
    assert browser.get(f"/specialist/consultations/{theirs.id}/move").status_code == 404
    assert browser.get(f"/specialist/consultations/{theirs.id}/cancel").status_code == 404


@pytest.mark.parametrize("remove", [False, True])
def test_the_specialist_cancels_with_a_reason(app, specialist, me, frozen, remove):
    slot = at(specialist, 30)
    consultation = make_consultation(slot, me, "accepted")
    browser = browser_of(app, specialist)
    url = f"/specialist/consultations/{consultation.id}/cancel"
    before = snapshot()
    response = browser.submit(url, {"reason": "  "})
    assert response.status_code == 422 and field_error(response.get_data(as_text=True), "reason")
    assert snapshot() == before
    frozen.set(NOW + timedelta(minutes=2))
    data = {"reason": "I am ill, sorry."} | ({"remove_slot": "y"} if remove else {})
    assert browser.submit(url, data).status_code == 303
    cancelled = fresh(consultation)
    assert (cancelled.status, cancelled.cancel_comment) == ("cancelled_by_specialist", "I am ill, sorry.")
    assert (_db.session.get(Slot, slot.id).deleted_at is not None) is remove
    (mail,) = emails("specialist_cancelled")
    assert mail.user_id == me.id and "METHOD:CANCEL" in mail.ics and "I am ill, sorry." in mail.body_text
    profile = browser_of(app, me).get(f"/specialists/{specialist.username}").get_data(as_text=True)
    assert (f"/book/{slot.id}" in profile) is not remove


def test_blocking_a_specialist_ends_their_consultations_one_email_per_client(app, specialist, me, rq_worker, mail):
    from tests.support.admin import block

    other = make_user("client", username="emma", locale="ru")
    third = make_user("client", username="hans")
    slots = [at(specialist, hours) for hours in (30, 50, 70, 90)]
    make_consultation(slots[0], me, "accepted")
    make_consultation(slots[1], me)
    make_consultation(slots[1], other)
    make_consultation(slots[2], other, "accepted")
    make_consultation(slots[3], third)
    past = make_slot(specialist, starts_at=NOW - timedelta(hours=3))
    make_consultation(past, third, "accepted")
    admin = make_user("admin", username="root")
    response = block(browser_of(app, admin), specialist, "Complaints")
    assert response.status_code in (302, 303)
    _db.session.expire_all()
    statuses = dict(
        _db.session.execute(
            select(Consultation.status, func.count())
            .where(Consultation.slot_id != past.id)
            .group_by(Consultation.status)
        ).all()
    )
    assert statuses == {"rejected": 3, "cancelled_by_specialist": 2}
    assert _db.session.scalar(select(Consultation.status).where(Consultation.slot_id == past.id)) == "accepted"
    for user in (me, other, third):
        assert len(mail.wait_for(1, to=user.email, timeout=30)) >= 1
    time.sleep(1.5)  # a second email to anyone would have arrived by now
    assert [len(mail.to(u.email)) for u in (me, other, third)] == [1, 1, 1]
    assert _db.session.scalar(select(Consultation.reject_reason).where(Consultation.slot_id == slots[3].id)) == (
        "The specialist is not available."
    )
    body = body_of(mail.to(me.email)[0])
    assert "your accepted consultation is cancelled" in body and "your request is declined" in body
    assert "METHOD:CANCEL" in calendar_part(mail.to(me.email)[0])
    assert "Специалист недоступен." in body_of(mail.to(other.email)[0])
    assert calendar_part(mail.to(third.email)[0]) == ""
