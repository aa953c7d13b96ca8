"""My consultations, their calendar files, and cancelling with a reason."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail
from tests.factories import make_consultation, make_slot, make_user
from tests.support.mail import body_of, subject_of

NOW = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)


@pytest.fixture
def specialist(frozen):
    return make_user("specialist", username="freud", display_name="Sigmund Freud", specialty="Psychoanalyst")


@pytest.fixture
def me(frozen, auth):
    user = make_user("client", username="dora", timezone="Europe/Berlin")
    auth.login_as(user)
    return user


def row_of(html: str, consultation) -> str:
    return html[html.index(f'id="consultation-{consultation.id}"') :].split("</tr>")[0]


def ids_in(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<tr id="consultation-(\d+)"', html)]


def consultation(slot, client, status="pending", **extra):
    return make_consultation(slot, client, status=status, **extra)


def test_upcoming_and_past_and_cancelled_with_every_status(client, me, specialist):
    def slot_at(hours, **kw):
        return make_slot(specialist, starts_at=NOW + timedelta(hours=hours), **kw)

    pending = consultation(slot_at(1), me)
    accepted = consultation(slot_at(3), me, "accepted")
    rejected = consultation(slot_at(5), me, "rejected", reject_reason="Fully booked that week")
    cancelled = consultation(slot_at(7), me, "cancelled", cancel_reason="Found_another_specialist")
    gone = slot_at(9)
    gone.deleted_at = NOW
    by_specialist = consultation(gone, me, "cancelled_by_specialist")
    expired = consultation(slot_at(-3), me)
    done = consultation(slot_at(-5), me, "accepted")
    under_way = consultation(make_slot(specialist, starts_at=NOW - timedelta(minutes=30)), me, "accepted")
    consultation(slot_at(11), make_user("client"))  # someone else's

    upcoming = client.get("/client/consultations").get_data(as_text=True)
    assert ids_in(client.get("/client/consultations?tab=upcoming").get_data(as_text=True)) == ids_in(upcoming)
    # Only pending and accepted ones, soonest first; an accepted one under way stays until it ends.
    assert ids_in(upcoming) == [under_way.id, pending.id, accepted.id]
    assert '<a href="/client/consultations?tab=upcoming" aria-current="page">Upcoming</a>' in upcoming
    assert '<a href="/client/consultations?tab=past">Past and cancelled</a>' in upcoming
    assert ">Pending</span>" in row_of(upcoming, pending) and ">Accepted</span>" in row_of(upcoming, accepted)
    first = row_of(upcoming, pending)
    assert "Sigmund Freud" in first and "@freud" in first and "Psychoanalyst" in first
    assert "freud (freud)" not in upcoming and "(Sigmund Freud)" not in upcoming
    # Start and end, in Berlin: still summer time at the start of the first, winter time by the second.
    assert (
        '<time datetime="2026-10-25T01:00+02:00">Sun, 25 Oct 2026, 01:00</time>–'
        '<time datetime="2026-10-25T01:45+02:00">01:45</time>'
    ) in first
    assert '<time datetime="2026-10-25T02:00+01:00">Sun, 25 Oct 2026, 02:00</time>–' in row_of(upcoming, accepted)
    cancel_links = re.findall(r"/client/consultations/(\d+)/cancel", upcoming)
    assert sorted(map(int, cancel_links)) == sorted([pending.id, accepted.id])
    assert re.findall(r"/client/consultations/(\d+)\.ics", upcoming) == [str(under_way.id), str(accepted.id)]

    past = client.get("/client/consultations?tab=past").get_data(as_text=True)
    # Everything else, newest first.
    assert ids_in(past) == [by_specialist.id, cancelled.id, rejected.id, expired.id, done.id]
    assert '<a href="/client/consultations?tab=past" aria-current="page">Past and cancelled</a>' in past
    expected = {
        rejected: "Rejected",
        cancelled: "Cancelled",
        by_specialist: "Cancelled by specialist",
        expired: "Expired",
        done: "Accepted",
    }
    for item, word in expected.items():
        assert f">{word}</span>" in row_of(past, item)
    assert "Reason: Fully booked that week" in row_of(past, rejected)  # the rejection's reason, to the client
    assert "Found another specialist" in row_of(past, cancelled)
    assert "/cancel" not in past and ".ics" not in past
    assert "<time" in row_of(past, done) and "–<time" in row_of(past, done)


def test_an_unknown_tab_is_the_upcoming_one(client, me, specialist):
    item = consultation(make_slot(specialist), me)
    html = client.get("/client/consultations?tab=everything").get_data(as_text=True)
    assert ids_in(html) == [item.id] and 'aria-current="page">Upcoming' in html


def test_empty_tabs_say_so(client, me, specialist):
    assert "You have no upcoming consultations." in client.get("/client/consultations").get_data(as_text=True)
    past = client.get("/client/consultations?tab=past").get_data(as_text=True)
    assert "No past or cancelled consultations yet." in past


def follow_pages(client, url: str) -> tuple[list[int], str]:
    html = client.get(url).get_data(as_text=True)
    seen = ids_in(html)
    while 'rel="next"' in html:
        html = client.get(re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")).get_data(
            as_text=True
        )
        seen += ids_in(html)
    return seen, html


def test_consultations_page_by_keyset(client, me, specialist, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    items = [consultation(make_slot(specialist, starts_at=NOW + timedelta(hours=h)), me) for h in (1, 2, 3, 4, 5)]
    seen, html = follow_pages(client, "/client/consultations")
    assert seen == [c.id for c in items]
    back = client.get(re.search(r'href="([^"]+)" rel="prev"', html).group(1).replace("&amp;", "&"))
    assert ids_in(back.get_data(as_text=True)) == [items[2].id, items[3].id]


def test_past_and_cancelled_page_by_keyset_and_keep_their_tab(client, me, specialist, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    statuses = ("rejected", "cancelled", "accepted", "pending", "cancelled_by_specialist")
    hours = (5, 3, -1, -2, 1)
    items = [
        consultation(make_slot(specialist, starts_at=NOW + timedelta(hours=h)), me, status)
        for h, status in zip(hours, statuses, strict=True)
    ]
    consultation(make_slot(specialist, starts_at=NOW + timedelta(hours=8)), me)  # upcoming: not on this tab
    first = client.get("/client/consultations?tab=past").get_data(as_text=True)
    assert "tab=past&amp;after=" in first
    seen, html = follow_pages(client, "/client/consultations?tab=past")
    by_start = sorted(zip(hours, items, strict=True), key=lambda pair: pair[0], reverse=True)
    assert seen == [item.id for _, item in by_start]
    assert 'aria-current="page">Past and cancelled' in html


def test_ics_of_an_accepted_consultation(client, me, specialist):
    accepted = consultation(make_slot(specialist, starts_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC)), me, "accepted")
    response = client.get(f"/client/consultations/{accepted.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    body = response.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "DTSTART:20261102T090000Z" in body
    assert "freud" in body and "dora" in body


def test_owner_only_and_only_what_exists(client, auth, me, specialist):
    mine_pending = consultation(make_slot(specialist), me)
    theirs = consultation(make_slot(specialist, starts_in=timedelta(days=2)), make_user("client"), "accepted")
    for url in (
        f"/client/consultations/{theirs.id}.ics",
        f"/client/consultations/{theirs.id}/cancel",
        f"/client/consultations/{mine_pending.id}.ics",
        "/client/consultations/999999/cancel",
        f"/client/consultations/{2**31}/cancel",
        f"/client/consultations/{2**64}.ics",
    ):
        assert client.get(url).status_code == 404, url
    response = client.submit(
        f"/client/consultations/{theirs.id}/cancel", {"reason": "Health"}, from_url="/client/slots"
    )
    assert response.status_code == 404
    assert _db.session.get(Consultation, theirs.id).status == "accepted"


def test_cancel_form_fields(client, me, specialist):
    item = consultation(make_slot(specialist), me)
    html = client.get(f"/client/consultations/{item.id}/cancel").get_data(as_text=True)
    assert '<select id="reason" name="reason"' in html
    options = re.findall(r'<option[^>]*value="([^"]*)"', html)
    assert options == ["", "Health", "Personal", "Found_another_specialist", "Other"]
    assert 'name="comment"' in html and "Cancel consultation" in html


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({}, "reason", "Choose a reason or write a comment."),
        ({"reason": "", "comment": "   "}, "reason", "Choose a reason or write a comment."),
        ({"reason": "Bored"}, "reason", "Choose one of the listed reasons."),
        ({"reason": "Other", "comment": "x" * 501}, "comment", "Use at most 500 characters."),
        ({"comment": "bad\x00byte"}, "comment", "Remove the control characters from this field."),
    ],
)
def test_bad_cancellations_show_the_form_again(client, me, specialist, data, field, message):
    item = consultation(make_slot(specialist), me)
    url = f"/client/consultations/{item.id}/cancel"
    response = client.submit(url, data)
    assert response.status_code == 422
    assert f'<p class="field-error" id="{field}-error">{message}</p>' in response.get_data(as_text=True)
    _db.session.expire_all()
    assert _db.session.get(Consultation, item.id).status == "pending"
    assert _db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


@pytest.mark.parametrize(
    "data", [{"reason": "Health"}, {"comment": "Something came up"}, {"reason": "Other", "comment": "Moving away"}]
)
def test_cancel_a_pending_request(client, me, specialist, data):
    item = consultation(make_slot(specialist), me)
    response = client.submit(f"/client/consultations/{item.id}/cancel", data)
    assert response.status_code == 303 and response.headers["Location"] == "/client/consultations"
    html = client.get("/client/consultations").get_data(as_text=True)
    assert "The consultation is cancelled." in html and f'id="consultation-{item.id}"' not in html
    past = client.get("/client/consultations?tab=past").get_data(as_text=True)
    assert ">Cancelled</span>" in row_of(past, item)
    _db.session.expire_all()
    saved = _db.session.get(Consultation, item.id)
    assert (saved.status, saved.cancel_reason, saved.cancel_comment) == (
        "cancelled",
        data.get("reason"),
        data.get("comment"),
    )
    assert saved.cancelled_at == NOW
    email = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == specialist.email)).one()
    assert email.recipient == specialist.email and email.kind == "request_cancelled"
    assert "dora" in email.body_text and "freud" in email.body_text
    if data.get("comment"):
        assert data["comment"] in email.body_text


def test_a_cancelled_booking_frees_the_slot_for_someone_else(client, auth, me, specialist):
    slot = make_slot(specialist)
    item = consultation(slot, me, "accepted")
    assert f'id="slot-{slot.id}"' not in client.get("/client/slots").get_data(as_text=True)
    client.submit(f"/client/consultations/{item.id}/cancel", {"reason": "Personal"})
    assert f'id="slot-{slot.id}"' in client.get("/client/slots").get_data(as_text=True)
    email = _db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient == specialist.email)).one()
    assert "The slot is free again" in email.body_text and "Reason: Personal" in email.body_text
    auth.logout()
    other = make_user("client")
    auth.login_as(other)
    client.submit(f"/client/slots/{slot.id}/request", {}, from_url="/client/slots")
    assert _db.session.scalars(select(Consultation.status).where(Consultation.client_id == other.id)).all() == [
        "pending"
    ]


@pytest.mark.parametrize("status", ["rejected", "cancelled", "cancelled_by_specialist"])
def test_only_active_consultations_can_be_cancelled(client, me, specialist, status):
    item = consultation(make_slot(specialist), me, status)
    url = f"/client/consultations/{item.id}/cancel"
    token = client.csrf_token("/client/slots")
    for response in (lambda: client.get(url), lambda: client.post(url, data={"reason": "Health", "csrf_token": token})):
        assert response().status_code == 303
        assert "This consultation can no longer be cancelled." in client.get("/client/consultations").get_data(
            as_text=True
        )
    _db.session.expire_all()
    assert _db.session.get(Consultation, item.id).status == status
    assert _db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


def test_a_started_consultation_cannot_be_cancelled(client, me, specialist, frozen):
    item = consultation(make_slot(specialist, starts_at=NOW + timedelta(minutes=5)), me, "accepted")
    assert client.get(f"/client/consultations/{item.id}/cancel").status_code == 200
    frozen.set(NOW + timedelta(minutes=5))
    from flask import g

    g.pop("now", None)
    response = client.submit(f"/client/consultations/{item.id}/cancel", {"reason": "Health"}, from_url="/client/slots")
    assert response.status_code == 303
    _db.session.expire_all()
    assert _db.session.get(Consultation, item.id).status == "accepted"


def test_cancellation_email_in_the_specialists_language(client, me, frozen, rq_worker, mail):
    specialist = make_user("specialist", username="psiholog", locale="ru", timezone="Europe/Moscow")
    item = consultation(make_slot(specialist, starts_at=datetime(2026, 10, 26, 12, 0, tzinfo=UTC)), me, "accepted")
    client.submit(
        f"/client/consultations/{item.id}/cancel", {"reason": "Found_another_specialist", "comment": "Спасибо"}
    )
    (message,) = mail.wait_for(1, to=specialist.email)
    body = body_of(message)
    assert "dora" in subject_of(message)
    for text in ("dora", "psiholog", "15:00 (Europe/Moscow)", "Нашёлся другой специалист", "Спасибо"):
        assert text in body
    assert "http://portal.test/specialist/consultations" in body
