"""Minimum notice and booking horizon (SPEC §12): a slot sooner than the notice or beyond the horizon is listed
nowhere a client looks (finder, directory, profile, API) and a request for it is refused everywhere (finder's
button, booking page, API) with nothing written. Without a saved availability the defaults apply."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.api import tokens as api_tokens
from portal.extensions import db as _db
from portal.models import Availability, Consultation, OutboxEmail, User
from tests.factories import make_slot, make_user

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
TOO_SOON = "This time is too soon to book."
NOT_OPEN = "This time is not open for booking yet."


@pytest.fixture
def doc(frozen):
    """A specialist who wants a day's notice and opens ten days ahead."""
    doc = make_user("specialist", username="dr_rules", timezone="Europe/Berlin")
    _db.session.add(Availability(specialist_id=doc.id, notice_hours=24, horizon_days=10, generated_until=NOW))
    _db.session.commit()
    return doc


@pytest.fixture
def slots(doc):
    """Too soon (in 23 h), open (in 25 h and in 9 days), not open yet (in 11 days)."""
    return {
        name: make_slot(doc, starts_at=NOW + delay, minutes=50)
        for name, delay in {
            "soon": timedelta(hours=23),
            "open": timedelta(hours=25),
            "late_open": timedelta(days=9, hours=23),
            "late": timedelta(days=10, minutes=1),
        }.items()
    }


@pytest.fixture
def me(frozen, auth):
    user = make_user("client", username="carol")
    auth.login_as(user)
    return user


def written() -> tuple[int, int]:
    _db.session.expire_all()
    return (
        _db.session.scalar(select(func.count()).select_from(Consultation)),
        _db.session.scalar(select(func.count()).select_from(OutboxEmail)),
    )


def listed_ids(html: str, pattern: str) -> set[int]:
    return {int(found) for found in re.findall(pattern, html)}


def test_only_times_inside_the_window_are_listed_on_any_page(client, me, slots):
    inside = {slots["open"].id, slots["late_open"].id}
    finder = client.get("/client/slots").get_data(as_text=True)
    assert listed_ids(finder, r"/client/slots/(\d+)/request") == inside
    profile = client.get("/specialists/dr_rules").get_data(as_text=True)
    assert listed_ids(profile, r'href="/book/(\d+)"') == {slots["open"].id, slots["late_open"].id}
    directory = client.get("/specialists").get_data(as_text=True)
    # The next free time is the first one after the notice, not the sooner one.
    assert "2026-06-02T11:00+02:00" in directory or "2026-06-02T09:00" in directory
    assert slots["soon"].starts_at.isoformat()[:16] not in directory


def test_the_api_lists_only_times_inside_the_window(app, me, slots):
    _, raw = api_tokens.create_token(_db.session.get(User, me.id), "script")
    _db.session.commit()
    response = app.test_client().get("/api/v1/slots", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert {item["id"] for item in response.get_json()["items"]} == {slots["open"].id, slots["late_open"].id}


@pytest.mark.parametrize(("name", "message"), [("soon", TOO_SOON), ("late", NOT_OPEN)])
def test_a_request_outside_the_window_is_refused_everywhere_with_nothing_written(app, client, me, slots, name, message):
    slot = slots[name]
    page = client.get(f"/book/{slot.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and message in html and "Request consultation</button>" not in html
    response = client.submit(f"/book/{slot.id}", {"message": "please"}, from_url=f"/book/{slots['open'].id}")
    assert response.status_code == 409 and message in response.get_data(as_text=True)
    response = client.submit(f"/client/slots/{slot.id}/request", {}, from_url="/client/slots", follow_redirects=True)
    assert message in response.get_data(as_text=True)
    _, raw = api_tokens.create_token(_db.session.get(User, me.id), "script")
    _db.session.commit()
    before = written()
    api = app.test_client().post(f"/api/v1/slots/{slot.id}/request", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 422 and api.get_json()["detail"] == message
    assert written() == before == (0, 0)


def test_a_time_inside_the_window_can_be_requested(client, me, slots):
    response = client.submit(f"/book/{slots['open'].id}", {"message": ""})
    assert response.status_code == 303
    assert written()[0] == 1


def test_the_window_moves_with_the_clock(client, me, slots, frozen):
    frozen.set(NOW + timedelta(days=1, hours=2))  # the 9-days-23-hours slot is now 8 days 21 hours away
    finder = client.get("/client/slots").get_data(as_text=True)
    assert listed_ids(finder, r"/client/slots/(\d+)/request") == {slots["late_open"].id, slots["late"].id}


def test_without_saved_availability_the_defaults_apply(frozen, client, me):
    free = make_user("specialist", username="dr_free")
    soon = make_slot(free, starts_at=NOW + timedelta(minutes=5))
    far = make_slot(free, starts_at=NOW + timedelta(days=364))
    beyond = make_slot(free, starts_at=NOW + timedelta(days=365, minutes=1))  # past the default 365 days
    finder = client.get("/client/slots").get_data(as_text=True)
    assert listed_ids(finder, r"/client/slots/(\d+)/request") == {soon.id, far.id}
    response = client.submit(f"/book/{beyond.id}", {"message": ""}, from_url=f"/book/{soon.id}")
    assert NOT_OPEN in response.get_data(as_text=True) and written() == (0, 0)
