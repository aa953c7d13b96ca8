"""The booking page /book/<slot_id>: what will be requested, a message to the specialist, every refusal of the
booking rules on the page itself with nothing written, and each side's email address once accepted."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail, User
from tests.factories import PASSWORD, make_consultation, make_slot, make_user

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
START = datetime(2026, 5, 6, 7, 0, tzinfo=UTC)  # 10:00 in Moscow, 17:00 in Vladivostok


@pytest.fixture
def doc(frozen):
    return make_user(
        "specialist",
        username="dr_house",
        display_name="Greg House",
        specialty="Diagnostician",
        timezone="Europe/Moscow",
    )


@pytest.fixture
def slot(doc):
    return make_slot(doc, starts_at=START, minutes=45, note="Room 4, second floor")


@pytest.fixture
def me(frozen, client, auth):
    user = make_user("client", username="alice", display_name="Alice Liddell", timezone="Asia/Vladivostok")
    auth.login_as(user)
    return user


def written() -> tuple[int, int, str]:
    """Consultations, outbox emails and a digest of every consultation row: any write changes it."""
    _db.session.expire_all()
    rows = _db.session.execute(select(Consultation).order_by(Consultation.id)).scalars().all()
    digest = "|".join(f"{c.id}:{c.status}:{c.message}" for c in rows)
    return len(rows), _db.session.scalar(select(func.count()).select_from(OutboxEmail)), digest


def alert(html: str) -> str | None:
    found = re.search(r'<div class="alert alert-error" role="alert">\s*<p>([^<]+)</p>', html)
    return found.group(1) if found else None


def test_the_page_says_what_will_be_requested_in_both_zones(client, me, slot):
    response = client.get(f"/book/{slot.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Request a consultation</h1>" in html
    person = '<strong class="person-name">Greg House</strong> <span class="username">@dr_house</span>'
    assert f'href="/specialists/dr_house"><span class="person-label">{person}</span></a>' in html
    assert "Diagnostician" in html
    # The client's zone, then the specialist's (they differ).
    assert (
        '<time datetime="2026-05-06T17:00+10:00">Wed, 6 May 2026, 17:00</time>–'
        '<time datetime="2026-05-06T17:45+10:00">17:45</time>'
    ) in html
    assert (
        '<time datetime="2026-05-06T10:00+03:00">Wed, 6 May 2026, 10:00</time>–'
        '<time datetime="2026-05-06T10:45+03:00">10:45</time>'
    ) in html
    assert "your time, Asia/Vladivostok" in html and "the specialist's time, Europe/Moscow" in html
    assert "45 min" in html and "Room 4, second floor" in html
    assert '<label for="message">Message to the specialist</label>' in html
    assert 'maxlength="500"' in html
    assert re.search(r'<button type="submit" class="btn">Request consultation</button>', html)


def test_one_zone_only_when_the_clocks_read_the_same(client, frozen, slot, auth):
    moscow = make_user("client", username="ivan", timezone="Europe/Moscow")
    auth.login_as(moscow)
    html = client.get(f"/book/{slot.id}").get_data(as_text=True)
    assert "the specialist's time" not in html
    assert html.count("<time ") == 2


def test_request_with_a_message_lands_on_my_consultations(client, me, slot, doc):
    message = "Hello!\r\nI would like to talk about sleep.\r\n" + "z" * 458  # 500 characters as typed
    response = client.submit(f"/book/{slot.id}", {"message": message})
    assert response.status_code == 303
    assert response.headers["Location"] == "/client/consultations"
    page = client.get("/client/consultations").get_data(as_text=True)
    assert "Your request is sent to Greg House @dr_house. Nothing is booked until they accept it" in page
    made = _db.session.scalars(select(Consultation)).one()
    assert (made.slot_id, made.client_id, made.status) == (slot.id, me.id, "pending")
    assert made.message == message.replace("\r\n", "\n").strip()
    email = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == doc.email)).one()
    assert "Their message:\n> Hello!\n> I would like to talk about sleep." in email.body_text


def test_an_empty_message_is_no_message(client, me, slot):
    assert client.submit(f"/book/{slot.id}", {"message": "   "}).status_code == 303
    assert _db.session.scalars(select(Consultation.message)).one() is None


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("x" * 501, "Use at most 500 characters."),
        ("hello\x00world", "Remove the control characters from this field."),
        ("bell\x07", "Remove the control characters from this field."),
    ],
)
def test_a_bad_message_is_refused_next_to_the_field(client, me, slot, message, error):
    before = written()
    response = client.submit(f"/book/{slot.id}", {"message": message})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field-error" id="message-error">{error}</p>' in html
    assert 'aria-describedby="message-hint message-error"' in html
    assert written() == before


def refuse_gone(slot, me, clock):
    slot.deleted_at = NOW
    _db.session.commit()


def refuse_taken(slot, me, clock):
    make_consultation(slot, make_user("client"), status="accepted")


def refuse_started(slot, me, clock):
    clock.set(START + timedelta(minutes=1))
    g.pop("now", None)


def refuse_pending(slot, me, clock):
    make_consultation(slot, me)


def refuse_rejected(slot, me, clock):
    make_consultation(slot, me, status="rejected")


def refuse_overlap(slot, me, clock):
    other = make_slot(make_user("specialist"), starts_at=START + timedelta(minutes=30))
    make_consultation(other, me, status="accepted")


def refuse_blocked(slot, me, clock):
    _db.session.get(User, slot.specialist_id).is_blocked = True
    _db.session.commit()


REFUSALS = {
    refuse_gone: "This slot is no longer available.",
    refuse_taken: "This slot has just been booked by someone else.",
    refuse_started: "This slot has already started and can no longer be requested.",
    refuse_pending: "You have already requested this slot.",
    refuse_rejected: "The specialist declined your request for this slot, so it cannot be requested again.",
    refuse_overlap: "You already have an accepted consultation at this time.",
    refuse_blocked: "This specialist is not taking requests at the moment.",
}


@pytest.mark.parametrize("make_it_so", list(REFUSALS), ids=lambda f: f.__name__)
def test_every_refusal_shows_its_message_on_the_page_and_writes_nothing(client, me, slot, frozen, make_it_so):
    token = client.csrf_token(f"/book/{slot.id}")  # the page as it was, with its form
    make_it_so(slot, me, frozen)
    before = written()
    response = client.post(f"/book/{slot.id}", data={"csrf_token": token, "message": "Please"})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert alert(html) == REFUSALS[make_it_so].replace("'", "&#39;")
    assert 'name="message"' not in html  # no form to try again
    assert 'href="/specialists/dr_house">See other free times of Greg House @dr_house</a>' in html
    assert written() == before
    # Opening the page afterwards tells the same before any click.
    response = client.get(f"/book/{slot.id}")
    assert response.status_code == 200
    assert alert(response.get_data(as_text=True)) == REFUSALS[make_it_so].replace("'", "&#39;")


def test_a_slot_that_never_existed_is_not_found(client, me):
    assert client.get("/book/2000000000").status_code == 404
    assert client.submit("/book/2000000000", {"message": "hi"}, from_url="/client/slots").status_code == 404
    assert client.get("/book/0").status_code == 404
    assert client.get("/book/2147483648").status_code == 404
    assert written()[0] == 0


def test_anonymous_visitors_log_in_and_come_back_to_the_page(client, frozen, slot):
    make_user("client", username="alice")
    response = client.get(f"/book/{slot.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/login?next=%2Fbook%2F{slot.id}"
    response = client.submit(
        f"/login?next=%2Fbook%2F{slot.id}", {"login": "alice", "password": PASSWORD}, from_url="/login"
    )
    assert response.headers["Location"] == f"/book/{slot.id}"
    assert "Request consultation" in client.get(f"/book/{slot.id}").get_data(as_text=True)


@pytest.mark.parametrize("role", ["specialist", "admin"])
def test_specialists_and_admins_may_not_book(client, auth, slot, role):
    auth.login_as(make_user(role))
    assert client.get(f"/book/{slot.id}").status_code == 403
    before = written()
    response = client.submit(f"/book/{slot.id}", {"message": "hi"}, from_url="/profile")
    assert response.status_code == 403
    assert written() == before


def test_once_accepted_each_side_sees_the_others_email_address(client, me, slot, doc, auth):
    assert client.submit(f"/book/{slot.id}", {"message": "See you"}).status_code == 303
    mine = client.get("/client/consultations").get_data(as_text=True)
    assert "dr_house@example.com" not in mine  # pending: not yet
    auth.logout()
    auth.login_as(doc)
    requests = client.get("/specialist/consultations").get_data(as_text=True)
    row = requests[requests.index('<span class="username">@alice</span>') :].split("</tr>")[0]
    assert "See you" in row and "alice@example.com" not in row
    consultation = _db.session.scalars(select(Consultation)).one()
    client.submit(f"/specialist/consultations/{consultation.id}/accept", {}, from_url="/specialist/consultations")
    accepted = client.get("/specialist/consultations?status=accepted").get_data(as_text=True)
    assert '<a class="row-email" href="mailto:alice@example.com">alice@example.com</a>' in accepted
    assert "See you" in accepted
    auth.logout()
    auth.login_as(me)
    mine = client.get("/client/consultations").get_data(as_text=True)
    assert '<a class="row-email" href="mailto:dr_house@example.com">dr_house@example.com</a>' in mine


def test_the_booking_page_in_russian(client, frozen, slot, auth):
    auth.login_as(make_user("client", locale="ru", timezone="Asia/Vladivostok"))
    html = client.get(f"/book/{slot.id}").get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Запись на консультацию" in html and "Сообщение специалисту" in html and "Отправить заявку" in html
    assert "время специалиста, Europe/Moscow" in html
