"""The account pages issue a fixed number of SQL queries whatever the number of accounts."""

from portal.extensions import db
from portal.models import User
from tests.factories import PASSWORD, make_user, password_hash
from tests.support.auth import isolated_client

# login page: none; log in: find the account; profile: load the session's user;
# reset request: record it (the worker looks the address up, whoever it belongs to).
# The profile lists the account's API tokens: its second statement.
EXPECTED = {"login page": 0, "log in": 1, "profile": 2, "reset request": 1}


def add_accounts(prefix: str, n: int) -> None:
    db.session.add_all(
        User(username=f"{prefix}{i}", email=f"{prefix}{i}@example.com", password_hash=password_hash(), role="client")
        for i in range(n)
    )
    db.session.commit()


def measure(app, count_queries, username: str, email: str) -> dict[str, int]:
    browser, stranger = isolated_client(app), isolated_client(app)
    counts = {}
    with count_queries() as q:
        browser.get("/login")
    counts["login page"] = q.count
    data = {"login": username, "password": PASSWORD, "csrf_token": browser.csrf_token("/login")}
    with count_queries() as q:
        assert browser.post("/login", data=data).status_code == 302
    counts["log in"] = q.count
    with count_queries() as q:
        assert browser.get("/profile").status_code == 200
    counts["profile"] = q.count
    data = {"email": email, "csrf_token": stranger.csrf_token("/reset-password")}
    with count_queries() as q:
        assert stranger.post("/reset-password", data=data).status_code == 302
    counts["reset request"] = q.count
    return counts


def test_query_counts_do_not_grow_with_the_number_of_accounts(app, count_queries):
    add_accounts("few", 2)
    make_user(username="anna", email="anna@example.com")
    small = measure(app, count_queries, "anna", "few0@example.com")
    add_accounts("many", 500)
    make_user(username="boris", email="boris@example.com")
    large = measure(app, count_queries, "boris", "many0@example.com")
    assert small == large == EXPECTED
