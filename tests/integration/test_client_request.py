"""Requesting a slot: every refusal of the booking rules, from the button and from crafted POSTs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import func, select, text

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail, User
from portal.services import booking
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import body_of, subject_of

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def specialist(frozen):
    return make_user("specialist", username="dr_house", display_name="Greg House", timezone="Europe/Moscow")


@pytest.fixture
def me(frozen, client, auth):
    user = make_user("client", username="alice", display_name="Alice Liddell")
    auth.login_as(user)
    return user


def counts():
    _db.session.expire_all()
    return (
        _db.session.scalar(select(func.count()).select_from(Consultation)),
        _db.session.scalar(select(func.count()).select_from(OutboxEmail)),
    )


def request_button(client, slot_id: int) -> dict:
    """The Request form of a slot's row as the browser would submit it."""
    html = client.get("/client/slots").get_data(as_text=True)
    row = html[html.index(f'id="slot-{slot_id}"') :].split("</tr>")[0]
    action = re.search(r'action="([^"]+)"', row).group(1)
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', row))
    fields = {k: v.replace("&amp;", "&") for k, v in fields.items()}
    return {"url": action, "data": fields}


def click(client, button):
    return client.post(button["url"], data=button["data"])


def crafted(client, slot_id):
    return client.submit(f"/client/slots/{slot_id}/request", {}, from_url="/client/consultations")


def flash_after(client, response) -> str:
    assert response.status_code == 303, response.status_code
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def later(clock, moment):
    """Move the clock; the next request reads it afresh."""
    clock.set(moment)
    g.pop("now", None)


def test_request_creates_a_pending_consultation_and_emails_the_specialist(client, me, specialist):
    slot = make_slot(specialist, starts_at=datetime(2026, 5, 6, 7, 30, tzinfo=UTC), note="Room 2")
    response = click(client, request_button(client, slot.id))
    html = flash_after(client, response)
    assert "Your request is sent to Greg House @dr_house." in html
    row = html[html.index(f'id="slot-{slot.id}"') :].split("</tr>")[0]
    assert "Pending" in row and "<button" not in row
    consultation = _db.session.scalars(select(Consultation)).one()
    assert (consultation.client_id, consultation.slot_id, consultation.status) == (me.id, slot.id, "pending")
    email = _db.session.scalars(select(OutboxEmail)).one()
    assert (email.recipient, email.kind) == (specialist.email, "new_request")
    assert "alice" in email.body_text and "dr_house" in email.body_text
    assert "10:30 (Europe/Moscow)" in email.body_text  # the specialist's zone, not the client's
    assert "http://portal.test/specialist/consultations" in email.body_text


def test_several_clients_may_hold_pending_requests_on_one_slot(client, auth, me, specialist):
    slot = make_slot(specialist)
    make_consultation(slot, make_user("client"))
    make_consultation(slot, make_user("client"))
    flash_after(client, crafted(client, slot.id))
    statuses = _db.session.scalars(select(Consultation.status).where(Consultation.slot_id == slot.id)).all()
    assert statuses == ["pending"] * 3


REFUSALS = {
    "deleted": "This slot is no longer available.",
    "booked": "This slot has just been booked by someone else.",
    "started": "This slot has already started and can no longer be requested.",
    "blocked": "This specialist is not taking requests at the moment.",
    "pending": "You have already requested this slot.",
    "rejected": "The specialist declined your request for this slot, so it cannot be requested again.",
    "overlap": "You already have an accepted consultation at this time.",
}


def arrange(case, slot, me, clock):
    """Make the slot unrequestable for `me` in the way named by `case`."""
    if case == "deleted":
        slot.deleted_at = NOW
    elif case == "booked":
        make_consultation(slot, make_user("client"), status="accepted", commit=False)
    elif case == "started":
        later(clock, slot.starts_at + timedelta(minutes=1))
    elif case == "blocked":
        _db.session.get(User, slot.specialist_id).is_blocked = True
    elif case in ("pending", "rejected"):
        make_consultation(slot, me, status=case, commit=False)
    elif case == "overlap":
        other = make_slot(make_user("specialist"), starts_at=slot.starts_at + timedelta(minutes=30), commit=False)
        _db.session.flush()
        make_consultation(other, me, status="accepted", commit=False)
    _db.session.commit()


@pytest.mark.parametrize("case", list(REFUSALS))
@pytest.mark.parametrize("how", ["button", "crafted"])
def test_every_refusal_holds_for_the_button_and_a_crafted_post(client, me, specialist, frozen, case, how):
    slot = make_slot(specialist, starts_in=timedelta(hours=2))
    slot.specialist = specialist
    button = request_button(client, slot.id)  # the row offered the button before things changed
    arrange(case, slot, me, frozen)
    before = counts()
    response = click(client, button) if how == "button" else crafted(client, slot.id)
    html = flash_after(client, response)
    assert REFUSALS[case] in html
    assert counts() == before


def test_an_unknown_slot_is_refused_not_booked(client, me):
    response = crafted(client, "999999")
    assert "This slot is no longer available." in flash_after(client, response)
    assert counts() == (0, 0)


@pytest.mark.parametrize("slot_id", ["abc", "-1", "1.5", "0", str(2**31), str(2**63)])
def test_ids_no_slot_can_have_are_404(client, me, slot_id):
    """Malformed ids and ids beyond the database's integer never reach the view."""
    assert crafted(client, slot_id).status_code == 404
    assert counts() == (0, 0)


def test_request_needs_post_csrf_and_the_client_role(client, auth, me, specialist):
    slot = make_slot(specialist)
    assert client.get(f"/client/slots/{slot.id}/request").status_code == 405
    assert client.post(f"/client/slots/{slot.id}/request").status_code == 400
    auth.logout()
    auth.login_as(specialist)
    assert crafted(client, slot.id).status_code == 403
    assert counts() == (0, 0)


def test_redirect_back_stays_on_the_finder_at_the_slots_row(client, me, specialist):
    """Back to the page the button was on, at the slot's row: the browser keeps its place without JavaScript."""
    slot = make_slot(specialist)
    row = f"#slot-{slot.id}"
    for target, expected in (
        (
            "/client/slots?specialty=Psychologist&after=1773151140000000-1",
            "/client/slots?specialty=Psychologist&after=1773151140000000-1" + row,
        ),
        ("/client/slots#slot-1", "/client/slots" + row),
        ("//evil.test/", "/client/slots" + row),
        ("/admin/users", "/client/slots" + row),
    ):
        _db.session.execute(text("DELETE FROM consultations"))
        _db.session.execute(text("DELETE FROM outbox_emails"))
        _db.session.commit()
        response = client.submit(f"/client/slots/{slot.id}/request", {"next": target}, from_url="/client/slots")
        assert response.headers["Location"] == expected
    # A refusal comes back to the row too, which now shows the request already made.
    again = client.submit(f"/client/slots/{slot.id}/request", {"next": "/client/slots"}, from_url="/client/slots")
    assert again.headers["Location"] == "/client/slots" + row
    assert _db.session.scalar(select(func.count(Consultation.id))) == 1


def test_a_client_who_cancelled_may_request_again(client, me, specialist):
    slot = make_slot(specialist)
    make_consultation(slot, me, status="cancelled")
    flash_after(client, crafted(client, slot.id))
    statuses = sorted(_db.session.scalars(select(Consultation.status).where(Consultation.client_id == me.id)))
    assert statuses == ["cancelled", "pending"]


def test_a_duplicate_that_slips_past_the_checks_is_refused_by_the_index(app, frozen, specialist, monkeypatch):
    """The unique index catches a duplicate the checks missed; the SAVEPOINT keeps the transaction usable."""
    alice = make_user("client")
    slot = make_slot(specialist)

    def sneak_in(client, slot):
        _db.session.execute(
            text(
                "INSERT INTO consultations (slot_id, client_id, status, created_at, updated_at)"
                " VALUES (:s, :c, 'pending', now(), now())"
            ),
            {"s": slot.id, "c": client.id},
        )
        return False

    monkeypatch.setattr(booking, "_has_overlapping_booking", sneak_in)
    with app.test_request_context(), pytest.raises(booking.DomainError) as refused:
        booking.request_slot(alice, slot.id)
    assert str(refused.value) == "You have already requested this slot."
    assert _db.session.scalar(select(func.count()).select_from(Consultation)) == 1  # still usable
    _db.session.rollback()


def test_the_specialist_receives_the_email_in_their_language(client, me, frozen, rq_worker, mail):
    specialist = make_user("specialist", username="vrach", locale="ru", timezone="Asia/Vladivostok")
    slot = make_slot(specialist, starts_at=datetime(2026, 5, 6, 7, 30, tzinfo=UTC))
    flash_after(client, crafted(client, slot.id))
    (message,) = mail.wait_for(1, to=specialist.email)
    body = body_of(message)
    assert "Новый запрос" in subject_of(message) and "alice" in subject_of(message)
    assert "alice" in body and "vrach" in body
    assert "17:30 (Asia/Vladivostok)" in body and "ср, 6 мая 2026" in body
    assert "http://portal.test/specialist/consultations" in body
