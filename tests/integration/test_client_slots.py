"""The slot finder: what is offered, to whom, in which order, filtered and paged."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from portal.models import Slot
from tests.factories import make_consultation, make_slot, make_user

NOW = datetime(2026, 3, 10, 13, 59, tzinfo=UTC)  # 23:59 in Vladivostok, 06:59 in Los Angeles


def listed_ids(response) -> list[int]:
    return [int(m) for m in re.findall(r'<tr id="slot-(\d+)"', response.get_data(as_text=True))]


@pytest.fixture
def specialist(frozen):
    return make_user("specialist", username="drwho", display_name="Doctor Who", specialty="Psychologist")


@pytest.mark.parametrize(
    "zone, shown", [("Asia/Vladivostok", "2026-03-11T00:00+10:00"), ("America/Los_Angeles", "2026-03-10T07:00-07:00")]
)
def test_only_future_slots_are_listed_in_every_zone(client, auth, frozen, specialist, zone, shown):
    started = make_slot(specialist, starts_at=NOW - timedelta(minutes=1), minutes=1)
    soon = make_slot(specialist, starts_at=NOW + timedelta(minutes=1))
    auth.login_as(make_user("client", timezone=zone))
    response = client.get("/client/slots")
    assert response.status_code == 200
    assert listed_ids(response) == [soon.id]
    assert started.id not in listed_ids(response)
    assert f'<time datetime="{shown}">' in response.get_data(as_text=True)


def test_slot_starting_now_has_started(client, auth, frozen, specialist):
    make_slot(specialist, starts_at=NOW)
    auth.login_as(make_user("client"))
    assert listed_ids(client.get("/client/slots")) == []


@pytest.mark.parametrize(
    "zone, today_count, tomorrow_count", [("Asia/Vladivostok", 0, 1), ("America/Los_Angeles", 1, 0)]
)
def test_the_day_filters_follow_the_clients_zone(client, auth, frozen, specialist, zone, today_count, tomorrow_count):
    make_slot(specialist, starts_at=NOW + timedelta(minutes=1))  # 11 March 00:00 in Vladivostok, 10 March in LA
    auth.login_as(make_user("client", timezone=zone))
    assert len(listed_ids(client.get("/client/slots?date_from=2026-03-10&date_to=2026-03-10"))) == today_count
    assert len(listed_ids(client.get("/client/slots?date_from=2026-03-11&date_to=2026-03-11"))) == tomorrow_count
    assert len(listed_ids(client.get("/client/slots?date_to=2026-03-09"))) == 0


def test_taken_deleted_and_blocked_slots_are_never_listed(client, auth, frozen, specialist, db):
    free = make_slot(specialist, starts_in=timedelta(hours=1))
    booked = make_slot(specialist, starts_in=timedelta(hours=2))
    make_consultation(booked, make_user("client"), status="accepted")
    pending_only = make_slot(specialist, starts_in=timedelta(hours=3))
    make_consultation(pending_only, make_user("client"), status="pending")
    deleted = make_slot(specialist, starts_in=timedelta(hours=4))
    deleted.deleted_at = NOW
    blocked = make_user("specialist", blocked=True)
    make_slot(blocked, starts_in=timedelta(hours=1))
    unconfirmed = make_user("specialist", confirmed=False)
    make_slot(unconfirmed, starts_in=timedelta(hours=1))
    db.session.commit()
    auth.login_as(make_user("client"))
    assert listed_ids(client.get("/client/slots")) == [free.id, pending_only.id]


def test_soonest_first_with_specialist_details(client, auth, frozen, specialist):
    other = make_user("specialist", username="ann", display_name="Anna Karenina", specialty="Lawyer")
    later = make_slot(specialist, starts_in=timedelta(days=2), minutes=45, note="Bring your notes")
    sooner = make_slot(other, starts_in=timedelta(days=1), minutes=90)
    auth.login_as(make_user("client"))
    response = client.get("/client/slots")
    assert listed_ids(response) == [sooner.id, later.id]
    html = response.get_data(as_text=True)
    row = html[html.index(f'id="slot-{later.id}"') :].split("</tr>")[0]
    for text in ("Doctor Who", "drwho", "Psychologist", "45 min", "Bring your notes", ">Request</button>"):
        assert text in row
    assert "90 min" in html and "Anna Karenina" in html


def test_filters_by_specialist_and_specialty_ignoring_case(client, auth, frozen, specialist):
    other = make_user("specialist", username="ann_k", display_name="Анна Петрова", specialty="Юрист")
    mine = make_slot(specialist, starts_in=timedelta(days=1))
    hers = make_slot(other, starts_in=timedelta(days=2))
    auth.login_as(make_user("client"))
    assert listed_ids(client.get("/client/slots?specialist=DRW")) == [mine.id]
    assert listed_ids(client.get("/client/slots?specialist=who")) == [mine.id]
    assert listed_ids(client.get("/client/slots?specialist=анна")) == [hers.id]
    # The specialty is chosen from a select of whole specialties, in any case.
    assert listed_ids(client.get("/client/slots?specialty=PSYCHOLOGIST")) == [mine.id]
    assert listed_ids(client.get("/client/slots?specialty=юрист")) == [hers.id]
    assert listed_ids(client.get("/client/slots?specialty=psych")) == []
    # LIKE wildcards are plain characters.
    assert listed_ids(client.get("/client/slots?specialist=%25")) == []
    assert listed_ids(client.get("/client/slots?specialist=o_t")) == []
    empty = client.get("/client/slots?specialist=nobody")
    assert "No free slots match these filters." in empty.get_data(as_text=True)


def test_the_specialty_filter_follows_a_changed_specialty(client, auth, db, frozen, specialist):
    """Each slot carries its specialist's specialty, kept by the database: a specialty saved on the profile
    moves all of the specialist's slots, past ones and those published later included."""
    before = make_slot(specialist, starts_in=timedelta(days=1))
    auth.login_as(specialist)
    fields = {"timezone": "UTC", "language": "en", "specialty": "Family therapist", "submit": "Save profile"}
    form = {f"profile-{name}": value for name, value in fields.items()}
    saved = client.post("/profile", data={"profile-csrf_token": client.csrf_token("/profile"), **form})
    assert saved.status_code == 302
    after = make_slot(specialist, starts_in=timedelta(days=2))
    keys = db.session.execute(select(Slot.specialty_key).where(Slot.specialist_id == specialist.id)).scalars()
    assert set(keys) == {"family therapist"}

    auth.logout()
    auth.login_as(make_user("client"))
    assert listed_ids(client.get("/client/slots?specialty=Psychologist")) == []
    assert listed_ids(client.get("/client/slots?specialty=family THERAPIST")) == [before.id, after.id]


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("date_from=2026-13-40", "date_from", "Not a valid date value."),
        ("date_from=2026-03-11&date_to=2026-03-10", "date_to", "“To” cannot be before “From”."),
        ("date_to=0001-01-01", "date_to", "Enter a date between 2000 and 2199."),
        ("specialist=" + "x" * 65, "specialist", "Use at most 64 characters."),
        ("specialist=a%00b", "specialist", "Remove the control characters from this field."),
    ],
)
def test_bad_filters_show_an_error_next_to_the_field(client, auth, frozen, specialist, query, field, message):
    slot = make_slot(specialist, starts_in=timedelta(days=1))
    auth.login_as(make_user("client"))
    response = client.get(f"/client/slots?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}' in html.replace("&#34;", '"')
    assert listed_ids(response) == [slot.id]  # the valid filters still apply


@pytest.mark.parametrize("cursor", ["x", "1-2-3", "99999999999999999999-1", "1773151140000000-99999999999", "-1-1"])
def test_malformed_cursors_are_ignored(client, auth, frozen, specialist, cursor):
    slot = make_slot(specialist, starts_in=timedelta(days=1))
    auth.login_as(make_user("client"))
    for name in ("after", "before"):
        response = client.get(f"/client/slots?{name}={cursor}")
        assert response.status_code == 200
        assert listed_ids(response) == [slot.id]


def test_keyset_pages_are_stable_when_slots_are_added(client, auth, frozen, specialist, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    slots = [make_slot(specialist, starts_in=timedelta(hours=2 * i + 1)) for i in range(7)]
    auth.login_as(make_user("client"))
    first = client.get("/client/slots?specialty=Psychologist")
    assert listed_ids(first) == [s.id for s in slots[:3]]
    html = first.get_data(as_text=True)
    assert 'rel="prev"' not in html
    next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "specialty=Psychologist" in next_url and "offset" not in next_url
    # A slot published before the cursor does not shift the next page.
    make_slot(specialist, starts_in=timedelta(minutes=30), minutes=20)
    second = client.get(next_url)
    assert listed_ids(second) == [s.id for s in slots[3:6]]
    html = second.get_data(as_text=True)
    next_url = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    prev_url = re.search(r'href="([^"]+)" rel="prev"', html).group(1).replace("&amp;", "&")
    third = client.get(next_url)
    assert listed_ids(third) == [slots[6].id]
    assert 'rel="next"' not in third.get_data(as_text=True)
    back = client.get(prev_url)
    assert listed_ids(back)[-2:] == [s.id for s in slots[1:3]] and len(listed_ids(back)) == 3


def test_rows_show_the_clients_own_request_state_instead_of_the_button(client, auth, frozen, specialist):
    me = make_user("client")
    pending = make_slot(specialist, starts_in=timedelta(hours=1))
    rejected = make_slot(specialist, starts_in=timedelta(hours=2))
    cancelled = make_slot(specialist, starts_in=timedelta(hours=3))
    make_consultation(pending, me)
    make_consultation(rejected, me, status="rejected")
    make_consultation(cancelled, me, status="cancelled")
    make_consultation(pending, make_user("client"))
    auth.login_as(me)
    html = client.get("/client/slots").get_data(as_text=True)

    def row(slot):
        return html[html.index(f'id="slot-{slot.id}"') :].split("</tr>")[0]

    assert "status-pending" in row(pending) and "<button" not in row(pending)
    assert "status-rejected" in row(rejected) and "<button" not in row(rejected)
    assert ">Request</button>" in row(cancelled)


@pytest.mark.parametrize("role, status", [("specialist", 403), ("admin", 403)])
def test_other_roles_cannot_use_the_finder(client, auth, role, status):
    auth.login_as(make_user(role))
    assert client.get("/client/slots").status_code == status
    assert client.get("/client/consultations").status_code == status


def test_anonymous_is_sent_to_login(client):
    for url in ("/client/slots", "/client/consultations", "/client/consultations/1/cancel"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
