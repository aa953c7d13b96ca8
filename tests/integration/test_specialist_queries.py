"""Every specialist list runs a fixed number of SQL statements, whether it holds 10 rows or 1,000."""

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from portal.models import Consultation, Slot
from tests.factories import make_user
from tests.support.slots import berlin

WEEK_START = berlin("2026-03-16 00:00")  # Monday of 2026-W12


@pytest.fixture
def specialist(auth, clock, request):
    # The past tab needs the slots behind "now"; every other page sees them ahead.
    past = "tab=past" in getattr(request, "param", "")
    clock.set(berlin("2026-04-01 08:00" if past else "2026-03-10 08:00"))
    user = make_user("specialist", timezone="Europe/Berlin")
    auth.login_as(user)
    return user


def fill(db, specialist, count: int, first: int = 0) -> None:
    """Back-to-back 10-minute slots number first..first+count-1 from Monday, each with one request, in bulk."""
    clients = [make_user("client", commit=False) for _ in range(10)]
    db.session.commit()
    db.session.execute(
        insert(Slot),
        [
            {
                "specialist_id": specialist.id,
                "starts_at": WEEK_START + timedelta(minutes=10 * i),
                "ends_at": WEEK_START + timedelta(minutes=10 * (i + 1)),
                "note": f"slot {i}",
                "created_at": WEEK_START - timedelta(days=30),
                "updated_at": WEEK_START - timedelta(days=30),
            }
            for i in range(first, first + count)
        ],
    )
    slot_ids = list(db.session.scalars(select(Slot.id).order_by(Slot.id).offset(first)))
    db.session.execute(
        insert(Consultation),
        [
            {
                "slot_id": slot_id,
                "client_id": clients[i % 10].id,
                "status": "accepted" if i % 3 == 0 else "pending",
                "created_at": WEEK_START - timedelta(days=1, minutes=i),
                "updated_at": WEEK_START - timedelta(days=1),
            }
            for i, slot_id in enumerate(slot_ids)
        ],
    )
    db.session.commit()


PAGES = [
    "/specialist/calendar?week=2026-W12",
    "/specialist/slots",
    "/specialist/slots?tab=past",
    "/specialist/consultations",
    "/specialist/consultations?status=accepted",
    "/specialist/consultations?status=all",
]


def statements(app, client, count_queries, url: str) -> int:
    """SQL statements of one GET, in its own app context as in production (nothing cached from earlier requests)."""
    with app.app_context(), count_queries() as counter:
        response = client.get(url)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("specialist", PAGES, indirect=True, ids=PAGES)
def test_fixed_query_count_at_10_and_1000_rows(request, app, client, db, specialist, count_queries):
    url = request.node.callspec.params["specialist"]
    fill(db, specialist, 10)
    small = statements(app, client, count_queries, url)
    fill(db, specialist, 990, first=10)  # 1,000 slots in the same week
    large = statements(app, client, count_queries, url)
    assert small == large, f"{url}: {small} statements at 10 rows, {large} at 1,000"
    assert large == 2  # the session's user, then the list itself


def test_the_week_shows_all_its_slots_and_pages_are_bounded(client, db, specialist):
    fill(db, specialist, 1000)
    page = client.get("/specialist/calendar?week=2026-W12").get_data(as_text=True)
    assert page.count('class="slot state-') == 1000
    table = client.get("/specialist/slots").get_data(as_text=True)
    assert table.count("<tr>") == 21  # header + one page
    requests = client.get("/specialist/consultations").get_data(as_text=True)
    assert requests.count("<tr>") == 21


def test_keyset_pages_walk_forward_and_back_without_gaps(client, db, specialist):
    import re

    fill(db, specialist, 45)
    seen, url, pages = [], "/specialist/slots", []
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'/specialist/slots/(\d+)/edit"', page)
        pages.append(url)
        found = re.search(r'href="([^"]+)" rel="next"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(pages) == 3 and len(seen) == 45 and len(set(seen)) == 45
    last = client.get(pages[-1]).get_data(as_text=True)
    back = re.search(r'href="([^"]+)" rel="prev"', last).group(1).replace("&amp;", "&")
    middle = client.get(back).get_data(as_text=True)
    assert re.findall(r'/specialist/slots/(\d+)/edit"', middle) == seen[20:40]


def test_a_bad_cursor_means_the_first_page(client, db, specialist):
    fill(db, specialist, 3)
    for cursor in ("x", "1_", "_1", "99999999999999999999_1", "-5_3", "1_99999999999999"):
        assert client.get(f"/specialist/slots?after={cursor}").status_code == 200
        assert client.get(f"/specialist/consultations?before={cursor}").status_code == 200
