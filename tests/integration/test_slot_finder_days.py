"""The slot finder as a list by day: a heading per day in the client's zone, the Specialty select, and
*Busy at this time* where the client already has an accepted consultation."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import make_consultation, make_slot, make_user

NOW = datetime(2026, 3, 10, 13, 59, tzinfo=UTC)  # 23:59 in Vladivostok, 06:59 in Los Angeles


@pytest.fixture
def specialist(frozen):
    return make_user("specialist", username="drwho", display_name="Doctor Who", specialty="Psychologist")


def listed_days(response) -> list[tuple[str, list[int]]]:
    """(day heading's date, slot ids beneath it) in page order."""
    html = response.get_data(as_text=True)
    sections = re.findall(r'<section class="slot-day" aria-labelledby="day-([0-9-]+)">(.*?)</section>', html, re.S)
    days = []
    for day, body in sections:
        heading = re.search(r'<h2 id="day-[0-9-]+" class="day-heading"><time datetime="([0-9-]+)">', body)
        assert heading and heading.group(1) == day
        days.append((day, [int(m) for m in re.findall(r'<tr id="slot-(\d+)"', body)]))
    return days


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("Asia/Vladivostok", [("2026-03-11", [0, 1]), ("2026-03-12", [2])]),
        ("America/Los_Angeles", [("2026-03-10", [0, 1]), ("2026-03-11", [2])]),
        ("UTC", [("2026-03-10", [0]), ("2026-03-11", [1, 2])]),
    ],
)
def test_slots_are_grouped_under_a_heading_per_day_in_the_clients_zone(
    client, auth, frozen, specialist, zone, expected
):
    slots = [
        make_slot(specialist, starts_at=NOW + timedelta(minutes=1)),  # 14:00 UTC
        make_slot(specialist, starts_at=NOW + timedelta(hours=10, minutes=1)),  # 00:00 UTC
        make_slot(specialist, starts_at=NOW + timedelta(days=1, minutes=1)),
    ]
    auth.login_as(make_user("client", timezone=zone))
    response = client.get("/client/slots")
    assert listed_days(response) == [(day, [slots[i].id for i in ids]) for day, ids in expected]


def test_the_time_column_reads_start_and_end(client, auth, frozen, specialist):
    slot = make_slot(specialist, starts_at=NOW + timedelta(minutes=1), minutes=45)
    auth.login_as(make_user("client", timezone="Europe/Berlin"))
    html = client.get("/client/slots").get_data(as_text=True)
    row = html[html.index(f'id="slot-{slot.id}"') :].split("</tr>")[0]
    assert (
        '<time datetime="2026-03-10T15:00+01:00">15:00</time>–<time datetime="2026-03-10T15:45+01:00">15:45</time>'
        in row
    )


@pytest.mark.parametrize("locale, busy_words", [("en", "Busy at this time"), ("ru", "В это время вы заняты")])
def test_slots_overlapping_the_clients_accepted_consultation_read_busy(
    client, auth, db, frozen, specialist, locale, busy_words
):
    me = make_user("client", locale=locale)
    elsewhere = make_user("specialist", username="other_doc")
    mine = make_slot(elsewhere, starts_at=NOW + timedelta(hours=2), minutes=60)
    make_consultation(mine, me, status="accepted")
    dropped = make_slot(elsewhere, starts_at=NOW + timedelta(hours=5), minutes=60)
    make_consultation(dropped, me, status="cancelled")
    overlapping = make_slot(specialist, starts_at=NOW + timedelta(hours=2, minutes=30), minutes=45)
    touching = make_slot(make_user("specialist"), starts_at=NOW + timedelta(hours=3), minutes=45)
    after_cancelled = make_slot(specialist, starts_at=NOW + timedelta(hours=5, minutes=15), minutes=30)
    someone_elses = make_slot(make_user("specialist"), starts_at=NOW + timedelta(hours=7), minutes=30)
    make_consultation(make_slot(elsewhere, starts_at=NOW + timedelta(hours=7)), make_user("client"), status="accepted")
    auth.login_as(me)
    html = client.get("/client/slots").get_data(as_text=True)

    def row(slot):
        return html[html.index(f'id="slot-{slot.id}"') :].split("</tr>")[0]

    assert busy_words in row(overlapping) and "<button" not in row(overlapping)
    for free in (touching, after_cancelled, someone_elses):
        assert busy_words not in row(free) and "<button" in row(free)
    assert html.count(busy_words) == 1


def test_specialty_is_a_select_of_the_active_specialists_specialties(client, auth, db, frozen, specialist):
    make_user("specialist", specialty="lawyer")
    make_user("specialist", specialty="Lawyer")
    make_user("specialist", specialty="Astrologer", blocked=True)
    make_user("specialist", specialty="Numerologist", confirmed=False)
    auth.login_as(make_user("client"))
    html = client.get("/client/slots?specialty=Lawyer").get_data(as_text=True)
    select = html[html.index("<select class=") if "<select class=" in html else html.index("<select") :]
    select = select[: select.index("</select>")]
    assert 'id="specialty"' in select
    options = re.findall(r"<option(?: selected)? value=\"([^\"]*)\"", select)
    assert options[0] == "" and "Any specialty" in select
    assert sorted(o.lower() for o in options[1:]) == ["lawyer", "psychologist"]
    assert "Astrologer" not in select and "Numerologist" not in select
