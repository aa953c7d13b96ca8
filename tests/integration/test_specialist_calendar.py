"""The week calendar as a specialist reads it, and the requests page: the week as a range of days, a legend in
words, a slot with requests waiting opens them, competing requests under their slot."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from portal.models import Consultation, Slot
from tests.factories import make_consultation, make_slot, make_user
from tests.support.pages import flashes
from tests.support.queries import queries_for
from tests.support.slots import berlin, berlin_specialist

REQUESTS = "/specialist/consultations"


@pytest.fixture
def specialist(auth, clock):
    return berlin_specialist(auth, clock)


@pytest.fixture
def week(specialist):
    """2026-W11 (9–15 March): a free slot, one with two requests waiting, a booked one, a quarter-hour one."""
    free = make_slot(specialist, starts_at=berlin("2026-03-11 09:00"), minutes=45)
    waiting = make_slot(specialist, starts_at=berlin("2026-03-12 10:00"), minutes=45)
    booked = make_slot(specialist, starts_at=berlin("2026-03-13 14:00"), minutes=60)
    quarter = make_slot(specialist, starts_at=berlin("2026-03-13 15:00"), minutes=15)
    ann, bob, cid = (make_user("client", username=name) for name in ("ann", "bob", "cid"))
    make_consultation(waiting, ann)
    make_consultation(waiting, bob)
    make_consultation(quarter, cid)
    make_consultation(booked, cid, status="accepted")
    return {"free": free, "waiting": waiting, "booked": booked, "quarter": quarter}


def texts(html: str, css_class: str) -> list[str]:
    """The words of each element of a class, tags dropped, spaces joined."""
    found = re.findall(rf'<(\w+) class="{css_class}"[^>]*>(.*?)</\1>', html, re.S)
    return [
        " ".join(re.sub(r"<[^>]+>", " ", body).replace("\u202f", " ").replace("\u2009", " ").split())
        for _, body in found
    ]


@pytest.mark.parametrize(
    "locale, heading, legend",
    [
        ("en", "9–15 Mar 2026", ["1 free", "3 pending", "1 booked"]),
        ("ru", "9–15 мар. 2026 г.", ["1 свободный слот", "3 заявки", "1 занятый слот"]),
    ],
)
def test_the_week_reads_as_days_and_the_legend_in_words(client, db, specialist, week, locale, heading, legend):
    specialist.locale = locale
    db.session.commit()
    html = client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
    assert texts(html, "week-range") == [heading]
    assert '<time datetime="2026-W11">' in html and "2026-W11</" not in html
    legend_html = html[html.index('<ul class="legend"') :].split("</ul>")[0]
    assert [
        " ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in re.findall(r"<li>(.*?)</li>", legend_html)
    ] == legend


def test_a_week_across_two_months_and_years(client, specialist):
    html = client.get("/specialist/calendar?week=2026-W53").get_data(as_text=True)
    assert texts(html, "week-range") == ["28 Dec 2026 – 3 Jan 2027"]
    html = client.get("/specialist/calendar?week=2026-W49").get_data(as_text=True)
    assert texts(html, "week-range") == ["30 Nov – 6 Dec 2026"]


def test_a_slot_with_requests_waiting_opens_them(client, specialist, week):
    html = client.get("/specialist/calendar?week=2026-W11").get_data(as_text=True)
    links = re.findall(r'<li class="slot [^"]*">\s*<a href="([^"]+)"', html)
    assert links == [  # in the order of the week
        f"/specialist/slots/{week['free'].id}/edit",
        f"{REQUESTS}?slot={week['waiting'].id}",
        f"/specialist/slots/{week['booked'].id}/edit",
        f"{REQUESTS}?slot={week['quarter'].id}",
    ]

    page = client.get(f"{REQUESTS}?slot={week['waiting'].id}").get_data(as_text=True)
    assert "Requests on the slot" in page and '<time datetime="2026-03-12T10:00+01:00">' in page
    assert "ann" in page and "bob" in page and "cid" not in page
    assert f'href="/specialist/slots/{week["waiting"].id}/edit"' in page
    assert f'href="{REQUESTS}?status=pending"' in page  # the requests on every slot
    assert f'href="{REQUESTS}?status=all&amp;slot={week["waiting"].id}"' in page  # tabs keep to the slot


def test_answering_from_one_slots_requests_comes_back_to_them(client, db, specialist, week):
    here = f"{REQUESTS}?slot={week['waiting'].id}"
    ann = db.session.scalar(
        select(Consultation).where(Consultation.slot_id == week["waiting"].id).order_by(Consultation.id)
    )
    response = client.submit(f"{REQUESTS}/{ann.id}/accept", {"next": here}, from_url=here)
    assert response.status_code == 303 and response.headers["Location"] == here
    page = client.get(here).get_data(as_text=True)
    assert "You accepted the request of @ann. 1 other request on this slot was rejected." in flashes(page)
    assert "No requests are waiting for your answer." in page
    statuses = db.session.scalars(select(Consultation.status).where(Consultation.slot_id == week["waiting"].id))
    assert sorted(statuses) == ["accepted", "rejected"]


def test_another_specialists_deleted_or_made_up_slot_is_not_found(client, db, specialist, week):
    theirs = make_slot(make_user("specialist"), starts_at=berlin("2026-03-12 10:00"))
    make_consultation(theirs, make_user("client"))
    gone = make_slot(specialist, starts_at=berlin("2026-03-14 10:00"))
    gone.deleted_at = gone.starts_at - timedelta(days=3)
    db.session.commit()
    for value in (theirs.id, gone.id, "abc", "0", "-1", "99999999999", "1e3", ""):
        assert client.get(f"{REQUESTS}?slot={value}").status_code == 404, value


@pytest.mark.parametrize(
    "locale, competing",
    [
        ("en", "2 requests wait for this slot: accepting one rejects the others."),
        ("ru", "2 заявки ждут ответа: приняв одну, вы отклоните остальные."),
    ],
)
def test_competing_requests_are_grouped_under_their_slot(client, db, specialist, week, locale, competing):
    specialist.locale = locale
    db.session.commit()
    html = client.get(REQUESTS).get_data(as_text=True)
    groups = re.findall(r'<tbody class="slot-group">(.*?)</tbody>', html, re.S)
    assert len(groups) == 2  # the slot with two requests, the quarter-hour one with one
    first, second = groups
    assert first.index('<tr class="slot-head">') < first.index("@ann<")
    assert first.count("<tr>") == 2 and "@bob<" in first
    assert '<time datetime="2026-03-12T10:00+01:00">' in first and competing in first
    assert second.count("<tr>") == 1 and "@cid<" in second
    assert '<time datetime="2026-03-13T15:00+01:00">' in second and "ждут" not in second and "wait for" not in second


def fill(db, specialist, count: int, first: int = 0) -> None:
    """Back-to-back 15-minute slots from Monday of 2026-W12, each with two requests waiting, in bulk."""
    clients = [make_user("client", commit=False) for _ in range(2)]
    db.session.commit()
    monday = berlin("2026-03-16 00:00")
    ids = db.session.scalars(
        insert(Slot).returning(Slot.id),
        [
            {
                "specialist_id": specialist.id,
                "starts_at": monday + timedelta(minutes=15 * i),
                "ends_at": monday + timedelta(minutes=15 * (i + 1)),
                "created_at": monday - timedelta(days=30),
                "updated_at": monday - timedelta(days=30),
            }
            for i in range(first, first + count)
        ],
    ).all()
    db.session.execute(
        insert(Consultation),
        [
            {
                "slot_id": ident,
                "client_id": person.id,
                "status": "pending",
                "created_at": monday - timedelta(days=1),
                "updated_at": monday - timedelta(days=1),
            }
            for ident in ids
            for person in clients
        ],
    )
    db.session.commit()


def test_calendar_and_grouped_requests_run_a_fixed_number_of_queries(client, db, specialist, count_queries):
    fill(db, specialist, 10)
    one = db.session.scalar(select(Slot.id).order_by(Slot.id))
    pages = ("/specialist/calendar?week=2026-W12", REQUESTS, f"{REQUESTS}?status=all", f"{REQUESTS}?slot={one}")
    small = {url: queries_for(client, count_queries, url)[0] for url in pages}
    fill(db, specialist, 590, first=10)  # 600 quarter hours: every one of the week's first 150 hours
    large = {url: queries_for(client, count_queries, url) for url in pages}
    assert {url: count for url, (count, _) in large.items()} == small
    # The session's user, then the week or the page of requests; one slot's requests load that slot first.
    assert small == {pages[0]: 2, pages[1]: 2, pages[2]: 2, pages[3]: 3}
    assert large[pages[0]][1].count('class="slot state-pending') == 600
    assert large[pages[1]][1].count('<tr class="slot-head">') == 10  # 20 requests a page, two a slot
