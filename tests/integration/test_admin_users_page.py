"""The users page: search, filters, sorting, keyset pages, bad input, and a fixed number of queries."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, or_, select, text

from portal.models import User
from portal.search import contains, contains_pattern
from tests.factories import make_user, password_hash
from tests.support.auth import logged_in_browser
from tests.support.fuzz import FUZZ
from tests.support.queries import explain

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


# Users whose fields test the suffix index's edges: words longer than its 16 characters, words of one and two,
# quotes and backslashes (the index's query syntax), % and _ (ILIKE's), Cyrillic in both cases.
ODD_USERS = [
    ("averyveryverylongusername", "averyveryverylongusername@sub.domain.example.org", "Maximilian Featherstonehaugh"),
    ("o_brien", "o'brien\\x@example.ie", "Seán O'Brien"),
    ("per_cent", "p100%@example.org", None),
    ("jo", "jo@ex.io", "Jo Li"),
    ("ivanova", "ivanova@example.ru", "Ольга Петровна ИВАНОВА"),
    ("x_y_z", "XYZ@EXAMPLE.COM", "A B C"),
]


def _odd_users() -> dict[str, int]:
    return {
        username: make_user("client", username=username, email=email, display_name=name).id
        for username, email, name in ODD_USERS
    }


def _found_by_ilike_alone(db, search: str) -> set[int]:
    """The users the search must find: its text inside one of the three columns, read without any index."""
    pattern = contains_pattern(search)
    columns = (User.username, User.display_name, User.email)
    return set(db.session.scalars(select(User.id).where(or_(*(contains(c, pattern) for c in columns)))))


@st.composite
def searches(draw):
    """A part of one of the users' fields, its case changed here and there, or any text at all."""
    field = draw(st.sampled_from([value for row in ODD_USERS for value in row if value]))
    start = draw(st.integers(0, len(field) - 1))
    part = field[start : start + draw(st.integers(1, 20))]
    part = "".join(c.swapcase() if draw(st.booleans()) else c for c in part)
    anything = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=30)
    return draw(st.one_of(st.just(part), st.just(f"  {part} "), anything))


@FUZZ
@given(search=searches())
def test_the_search_finds_exactly_the_users_holding_its_text(admin_browser, db, search):
    """The suffix index only narrows the search: the page finds what ILIKE over the three columns finds."""
    if not _found_by_ilike_alone(db, "averyveryverylong"):
        _odd_users()
    response = admin_browser.get(f"/admin/users?q={quote(search)}")
    assert response.status_code == 200, search
    wanted = search.strip()  # as every text field is
    everyone = set(db.session.scalars(select(User.id)))
    assert set(row_ids(response)) == (_found_by_ilike_alone(db, wanted) if wanted else everyone), search


def test_searches_at_the_index_edges(admin_browser, db):
    ids = _odd_users()
    for search, expected in [
        ("VERYVERYVERYLONGUSERNAME@SUB", "averyveryverylongusername"),  # longer than a suffix
        ("domain.example.org", "averyveryverylongusername"),
        ("n o'b", "o_brien"),  # a word's end, then a word's start
        ("'BRIEN\\x@", "o_brien"),
        ("етровна ИВАН", "ivanova"),  # one word's end, the next one's start
        ("ИВАНОВА@", None),  # the display name's word is not the email's
        ("jo li", "jo"),  # words too short for the index: every row is read
        ("a b c", "x_y_z"),
        ("%@example", "per_cent"),
    ]:
        assert row_ids(admin_browser.get(f"/admin/users?q={quote(search)}")) == ([ids[expected]] if expected else []), (
            search
        )


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


@pytest.mark.parametrize("filters", ["role=client", "q=BULK"])  # a filter, a search through the suffix index
def test_sorting_by_join_date_and_paging_keep_the_filters(admin_browser, db, app, filters):
    bulk_users(db, 45)
    size = app.config["PAGE_SIZE"]
    newest = admin_browser.get(f"/admin/users?{filters}")
    ids = row_ids(newest)
    assert len(ids) == size and ids == sorted(ids, reverse=True)
    seen, response = list(ids), newest
    while 'rel="next"' in response.get_data(as_text=True):
        link = re.search(r'href="([^"]+)" rel="next"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")
        assert filters in link
        response = admin_browser.get(link)
        seen += row_ids(response)
    assert len(seen) == 45 and len(set(seen)) == 45 and seen == sorted(seen, reverse=True)
    # Back from the last page gives the page before it.
    prev = re.search(r'href="([^"]+)" rel="prev"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert row_ids(admin_browser.get(prev)) == seen[size : 2 * size]

    oldest = row_ids(admin_browser.get("/admin/users?sort=oldest"))
    assert oldest[0] == admin_browser_user_id(db) and oldest[1:] == sorted(oldest[1:])
    assert row_ids(admin_browser.get(f"/admin/users?{filters}&sort=oldest")) == sorted(seen)[:size]


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
    # The search reads the suffix index, whose entries for "bulk123" are the 11 matches' own (bulk123, bulk1230 …).
    db.session.execute(text("ANALYZE users"))
    plan = explain(admin_browser, "/admin/users?q=BULK123", "matching_users")
    assert "ix_users_search_suffixes" in plan and "Seq Scan on users" not in plan, plan
    names = ["bulk123", *(f"bulk123{n}" for n in range(10))]
    expected = db.session.scalars(select(User.id).where(User.username.in_(names)).order_by(User.created_at.desc()))
    assert row_ids(admin_browser.get("/admin/users?q=BULK123")) == list(expected)
