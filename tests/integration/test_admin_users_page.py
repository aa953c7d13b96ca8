"""The users page: search, filters, sorting, keyset pages, bad input, and a fixed number of queries."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from portal.models import User
from tests.factories import make_user, password_hash
from tests.support.auth import logged_in_browser

ROW = re.compile(r'<tr id="user-(\d+)"')
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def row_ids(response) -> list[int]:
    return [int(n) for n in ROW.findall(response.get_data(as_text=True))]


def bulk_users(db, count: int, start: int = 0, **values) -> None:
    """Insert many users in one statement, one minute apart."""
    rows = [
        {
            "username": f"bulk{n}",
            "email": f"bulk{n}@example.org",
            "password_hash": password_hash(),
            "role": "client",
            "created_at": START + timedelta(minutes=n),
            "confirmed_at": START,
            **values,
        }
        for n in range(start, start + count)
    ]
    db.session.execute(insert(User), rows)
    db.session.commit()


@pytest.fixture
def admin_browser(app, db):
    return logged_in_browser(app, make_user("admin", username="root", created_at=START - timedelta(days=1)))


def test_search_matches_part_of_a_display_name_too(admin_browser, db):
    olga = make_user("specialist", username="dr_o", email="o@example.net", display_name="Olga Petrovna Ivanova")
    petr = make_user("client", username="petr", email="p@example.net", display_name=None)
    for query in ("petrovna", "OLGA P", "a Iv"):
        response = admin_browser.get(f"/admin/users?q={query}")
        assert row_ids(response) == [olga.id], query
    assert "Olga Petrovna Ivanova" in response.get_data(as_text=True)
    assert sorted(row_ids(admin_browser.get("/admin/users?q=petr"))) == sorted([olga.id, petr.id])


def test_search_matches_part_of_username_or_email_ignoring_case(admin_browser, db):
    alice = make_user(username="alice", email="Alice.Smith@Example.com")
    make_user(username="bob", email="bob@example.net")
    percent = make_user(username="per_cent", email="p100%@example.org")
    response = admin_browser.get("/admin/users?q=SMITH%40example")
    assert row_ids(response) == [alice.id]
    text = response.get_data(as_text=True)
    # An address may break before its @ (<wbr>) in a narrow column; it reads the same.
    assert "Alice.Smith<wbr>@Example.com" in text and 'value="SMITH@example"' in text
    assert row_ids(admin_browser.get("/admin/users?q=ALI")) == [alice.id]
    # % and _ are matched literally, not as wildcards.
    assert row_ids(admin_browser.get("/admin/users?q=100%25")) == [percent.id]
    assert row_ids(admin_browser.get("/admin/users?q=r_c")) == [percent.id]
    empty = admin_browser.get("/admin/users?q=nobody-like-this")
    assert row_ids(empty) == [] and "No users match these filters." in empty.get_data(as_text=True)


def test_a_search_spanning_two_fields_matches_nobody(admin_browser, db):
    """One index holds username, email and display name side by side; a match is still within one of them."""
    carol = make_user(username="carol", email="kent@example.net", display_name="Carol Kent")
    assert row_ids(admin_browser.get("/admin/users?q=carol kent")) == [carol.id]  # her display name
    for spanning in ("carol kent@example", "kent@example.net carol", "net carol"):
        assert row_ids(admin_browser.get(f"/admin/users?q={spanning}")) == [], spanning


def test_filters_by_role_and_blocked_show_each_rows_details(admin_browser, db):
    specialist = make_user("specialist", username="drsmith", confirmed=False)
    blocked = make_user("client", username="spammer", blocked=True, blocked_reason="Sends spam")
    client = make_user("client", username="carol")
    assert row_ids(admin_browser.get("/admin/users?role=specialist")) == [specialist.id]
    assert row_ids(admin_browser.get("/admin/users?blocked=yes")) == [blocked.id]
    assert set(row_ids(admin_browser.get("/admin/users?role=client&blocked=no"))) == {client.id}

    text = admin_browser.get("/admin/users?q=spammer").get_data(as_text=True)
    row = text[text.index('<tr id="user-') : text.index("</tr>", text.index('<tr id="user-'))]
    for expected in (
        "spammer",
        "spammer<wbr>@example.com",
        "Client",
        "Blocked",
        "Sends spam",
        "<time datetime=",
        "Unblock",
    ):
        assert expected in row
    text = admin_browser.get("/admin/users?q=drsmith").get_data(as_text=True)
    row = text[text.index('<tr id="user-') :]
    assert "Specialist" in row and f'href="/admin/users/{specialist.id}/block?next=' in row


def test_sorting_by_join_date_and_paging_keep_the_filters(admin_browser, db, app):
    bulk_users(db, 45)
    size = app.config["PAGE_SIZE"]
    newest = admin_browser.get("/admin/users?role=client")
    ids = row_ids(newest)
    assert len(ids) == size and ids == sorted(ids, reverse=True)
    seen, response = list(ids), newest
    while 'rel="next"' in response.get_data(as_text=True):
        link = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")
        assert "role=client" in link
        response = admin_browser.get(link)
        seen += row_ids(response)
    assert len(seen) == 45 and len(set(seen)) == 45 and seen == sorted(seen, reverse=True)
    # Back from the last page gives the page before it.
    prev = re.search(r'href="([^"]+)" rel="prev"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert row_ids(admin_browser.get(prev)) == seen[size : 2 * size]

    oldest = row_ids(admin_browser.get("/admin/users?sort=oldest"))
    assert oldest[0] == admin_browser_user_id(db) and oldest[1:] == sorted(oldest[1:])


def admin_browser_user_id(db) -> int:
    from sqlalchemy import select

    return db.session.scalar(select(User.id).where(User.username == "root"))


@pytest.mark.parametrize(
    "query, message",
    [
        ("role=superuser", "Not a valid choice"),
        ("blocked=maybe", "Not a valid choice"),
        ("sort=sideways", "Not a valid choice"),
        ("q=a%00b", "control characters"),
        ("q=" + "x" * 300, "254"),
    ],
)
def test_bad_filters_show_the_form_with_a_message(admin_browser, query, message):
    response = admin_browser.get(f"/admin/users?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True) and 'class="field-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("cursor", ["abc", "-1", "0", "99999999999", "1e5", "٣"])
def test_odd_cursors_never_fail(admin_browser, cursor):
    for name in ("after", "before"):
        assert admin_browser.get(f"/admin/users?{name}={cursor}").status_code == 200


def test_users_page_runs_a_fixed_number_of_queries_at_50_and_10000_users(admin_browser, db, count_queries, app):
    urls = [
        "/admin/users",
        "/admin/users?sort=oldest",
        "/admin/users?q=bulk12&role=client&blocked=no",
        "/admin/users?q=EXAMPLE.ORG",
        "/admin/users?blocked=yes",
    ]

    def next_cursor(url: str) -> str:
        return re.search(r'href="[^"]*after=([^"&]+)[^"]*" rel="next"', admin_browser.get(url).get_data(as_text=True))[
            1
        ]

    def measure() -> list[int]:
        # Two pages deep, so that the page before it is a full page of its own at both sizes.
        cursor = next_cursor(f"/admin/users?after={next_cursor('/admin/users')}")
        counts = []
        for url in [*urls, f"/admin/users?after={cursor}", f"/admin/users?before={cursor}"]:
            with count_queries() as q:
                response = admin_browser.get(url)
            assert response.status_code == 200
            assert len(row_ids(response)) <= app.config["PAGE_SIZE"]
            counts.append(q.count)
        return counts

    bulk_users(db, 50)
    small = measure()
    bulk_users(db, 9950, start=50)
    large = measure()
    assert small == large, (small, large)
    assert max(large) <= 3
    assert len(row_ids(admin_browser.get("/admin/users"))) == app.config["PAGE_SIZE"]
