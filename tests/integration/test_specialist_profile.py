"""A specialist's public profile /specialists/<username>: who they are and 14 days of free times by day."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from portal.blueprints.directory.queries import FREE_TIMES_MAX
from portal.extensions import db as _db
from portal.models import Slot
from tests.factories import make_consultation, make_slot, make_user

NOW = datetime(2026, 10, 5, 21, 30, tzinfo=UTC)  # Monday 21:30 UTC, already Tuesday 07:30 in Vladivostok


@pytest.fixture
def doc(frozen):
    return make_user(
        "specialist",
        username="dr_lena",
        display_name="Lena Orlova",
        specialty="Family counsellor",
        bio="Fifteen years of practice.\nSessions online.",
        timezone="Europe/Moscow",
    )


def days(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each day heading's date and its times as (link, text of the link)."""
    found = []
    for block in html.split('<div class="free-day">')[1:]:
        day = re.search(r'<h3 id="day-[^"]+"><time datetime="(\d{4}-\d\d-\d\d)">', block).group(1)
        links = re.findall(r'<a class="time-link" href="([^"]+)"[^>]*><time datetime="[^"]+">([^<]+)</time></a>', block)
        found.append((day, links))
    return found


def test_profile_shows_who_the_specialist_is(client, doc):
    response = client.get("/specialists/dr_lena")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h1 id="profile-name">Lena Orlova</h1>' in html
    assert "@dr_lena" in html and "Family counsellor" in html
    assert "Fifteen years of practice.\nSessions online." in html
    assert "Works in the time zone Europe/Moscow" in html
    assert "<title>Lena Orlova @dr_lena · Consultation Portal</title>" in html
    # Any case of the username finds them.
    assert client.get("/specialists/DR_LENA").status_code == 200


@pytest.mark.parametrize(
    "kind", ["blocked", "unconfirmed", "client", "admin", "unknown", "bad characters", "too long", "nul"]
)
def test_anyone_but_an_active_specialist_is_not_found(client, frozen, kind):
    usernames = {
        "blocked": make_user("specialist", username="blocked_doc", blocked=True).username,
        "unconfirmed": make_user("specialist", username="new_doc", confirmed=False).username,
        "client": make_user("client", username="a_client").username,
        "admin": make_user("admin", username="an_admin").username,
        "unknown": "nobody",
        "bad characters": "dr%20lena",
        "too long": "d" * 33,
        "nul": "dr%00lena",
    }
    make_slot(make_user("specialist", username="active"), starts_in=timedelta(days=1))
    response = client.get(f"/specialists/{usernames[kind]}")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


def test_free_times_of_14_days_grouped_by_day_in_the_viewers_zone(client, auth, doc):
    client_user = make_user("client", username="kate", timezone="Asia/Vladivostok")
    other = make_user("client", username="oleg")
    local = lambda day, hour, minute=0: datetime(2026, 10, day, hour, minute, tzinfo=UTC) - timedelta(hours=10)  # noqa: E731
    free = [
        make_slot(doc, starts_at=local(6, 9), minutes=50),  # today in Vladivostok, later than now
        make_slot(doc, starts_at=local(6, 14, 30)),
        make_slot(doc, starts_at=local(8, 1)),  # 01:00 on the 8th in Vladivostok: still the 7th in Moscow
        make_slot(doc, starts_at=local(19, 23)),  # the last day of the window
    ]
    make_slot(doc, starts_at=local(20, 0))  # the 15th day: outside the window
    make_slot(doc, starts_at=NOW - timedelta(minutes=5))  # started
    gone = make_slot(doc, starts_at=local(7, 9), commit=False)
    gone.deleted_at = NOW
    taken = make_slot(doc, starts_at=local(7, 11))
    make_consultation(taken, other, status="accepted")
    asked = make_slot(doc, starts_at=local(7, 12))  # only a pending request: still free
    make_consultation(asked, other)
    auth.login_as(client_user)

    html = client.get("/specialists/dr_lena").get_data(as_text=True)
    assert days(html) == [
        ("2026-10-06", [(f"/book/{free[0].id}", "09:00"), (f"/book/{free[1].id}", "14:30")]),
        ("2026-10-07", [(f"/book/{asked.id}", "12:00")]),
        ("2026-10-08", [(f"/book/{free[2].id}", "01:00")]),
        ("2026-10-19", [(f"/book/{free[3].id}", "23:00")]),
    ]
    assert '<time datetime="2026-10-06T09:00+10:00">09:00</time>' in html
    assert "50 min" in html
    assert "Asia/Vladivostok" in html
    # The window reads in the viewer's days: from today (the 6th there) for 14 days.
    assert '<time datetime="2026-10-06">' in html and '<time datetime="2026-10-19">' in html


def test_anonymous_visitors_see_the_portals_zone_and_are_told_they_will_log_in(client, doc):
    slot = make_slot(doc, starts_at=datetime(2026, 10, 6, 6, 0, tzinfo=UTC))
    html = client.get("/specialists/dr_lena").get_data(as_text=True)
    assert days(html) == [("2026-10-06", [(f"/book/{slot.id}", "06:00")])]
    assert "You will be asked to log in or create an account before you book." in html


def test_from_moves_the_window_and_an_empty_window_links_to_the_next_free_time(client, doc):
    later = make_slot(doc, starts_at=datetime(2026, 12, 24, 15, 0, tzinfo=UTC))
    html = client.get("/specialists/dr_lena").get_data(as_text=True)
    assert days(html) == []
    assert "No free times on these days." in html
    link = re.search(r'<a class="btn" href="([^"]+)">Next free time: (<time[^>]+>[^<]+</time>)</a>', html)
    assert link.group(1) == "/specialists/dr_lena?from=2026-12-24"
    assert link.group(2) == '<time datetime="2026-12-24T15:00+00:00">Thu, 24 Dec 2026, 15:00</time>'
    html = client.get(link.group(1)).get_data(as_text=True)
    assert days(html) == [("2026-12-24", [(f"/book/{later.id}", "15:00")])]
    assert 'href="/specialists/dr_lena?from=2026-12-10" rel="prev"' in html
    assert 'href="/specialists/dr_lena?from=2027-01-07" rel="next"' in html
    # Nothing at all: said so, no link.
    later.deleted_at = NOW
    _db.session.commit()
    html = client.get("/specialists/dr_lena").get_data(as_text=True)
    assert "There are no free times at the moment." in html and "Next free time:" not in html


@pytest.mark.parametrize(
    "value", ["2026-10-01", "yesterday", "2026-02-30", "0001-01-01", "99999-01-01", "２０２６-10-07"]
)
def test_a_from_in_the_past_or_not_a_date_starts_today(client, doc, value):
    slot = make_slot(doc, starts_at=datetime(2026, 10, 6, 6, 0, tzinfo=UTC))
    response = client.get("/specialists/dr_lena", query_string={"from": value})
    assert response.status_code == 200
    assert days(response.get_data(as_text=True)) == [("2026-10-06", [(f"/book/{slot.id}", "06:00")])]


def test_a_busy_window_shows_at_most_the_cap_and_says_so(client, doc):
    start = datetime(2026, 10, 6, 0, 0, tzinfo=UTC)
    rows = [
        {
            "specialist_id": doc.id,
            "starts_at": start + n * timedelta(minutes=30),
            "ends_at": start + n * timedelta(minutes=30) + timedelta(minutes=25),
        }
        for n in range(FREE_TIMES_MAX + 20)
    ]
    _db.session.execute(insert(Slot), rows)
    _db.session.commit()
    html = client.get("/specialists/dr_lena").get_data(as_text=True)
    assert sum(len(times) for _, times in days(html)) == FREE_TIMES_MAX
    assert f"Only the first {FREE_TIMES_MAX} free times of these days are shown" in html


def test_the_profile_in_russian(client, doc):
    make_slot(doc, starts_at=datetime(2026, 10, 6, 6, 0, tzinfo=UTC))
    html = client.get("/specialists/dr_lena", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert "Свободное время" in html and "Работает в часовом поясе Europe/Moscow" in html
    assert '<time datetime="2026-10-06">вт, 6 окт. 2026</time>' in html
