"""The admin overview: twelve weeks of figures equal to counts the test makes itself in SQL (in the admin's zone,
across a DST change, with empty weeks), the same on the embedded demo's SQLite, drawn as SVG bar charts with
tables, in a fixed number of queries."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, select, text

from portal import create_app
from portal.blueprints.admin.insights import CANCELLATIONS, WEEKS, weekly_figures, weeks_until
from portal.extensions import db as _db
from portal.models import Consultation, OutboxEmail, Slot, User
from tests.factories import make_user
from tests.support.activity import Activity, generate
from tests.support.auth import logged_in_browser

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 11 November 2026, 10:00 in Berlin: the twelve weeks begin on Monday 24 August (summer time) and hold
# the night of Sunday 25 October, when Berlin's clocks go back from 03:00 to 02:00.
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=BERLIN)
FIRST_MONDAY = date(2026, 8, 24)
EDGES = (
    datetime(2026, 8, 24, 0, 0, tzinfo=BERLIN),  # the very first instant of the first week (22:00 UTC on Sunday)
    datetime(2026, 8, 30, 23, 59, 59, tzinfo=BERLIN),  # the last second of that week
    datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN),  # 02:30 summer time, the first of the two 02:30s of that night
    datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),  # 02:30 winter time, an hour later
    datetime(2026, 10, 25, 23, 30, tzinfo=BERLIN),  # Sunday night in Berlin, 22:30 UTC
    datetime(2026, 10, 26, 0, 30, tzinfo=BERLIN),  # Monday 00:30 in Berlin, still Sunday (23:30) in UTC
    datetime(2026, 11, 11, 9, 59, tzinfo=BERLIN),  # a minute ago
)
EMPTY = (3, 4)  # the weeks of 31 August and 7 September (0 = the oldest of the generated fourteen)


def counted(sql: str, **params) -> list[int]:
    """Per dashboard week, the count of rows whose `week` (a local Monday) the SQL returns."""
    found = dict(_db.session.execute(text(sql), params).all())
    return [found.get(FIRST_MONDAY + timedelta(weeks=n), 0) for n in range(WEEKS)]


def week_in_berlin(column: str) -> str:
    return f"date_trunc('week', {column} AT TIME ZONE 'Europe/Berlin')::date"


def expected_figures() -> dict:
    """Every series of the dashboard, counted by PostgreSQL's own calendar arithmetic in Europe/Berlin."""
    requests = week_in_berlin("created_at")
    figures = {
        ("requests", ""): counted(f"SELECT {requests}, count(*) FROM consultations GROUP BY 1"),
        ("accepted", ""): counted(f"SELECT {week_in_berlin('accepted_at')}, count(*) FROM consultations GROUP BY 1"),
        ("rejected", ""): counted(f"SELECT {week_in_berlin('rejected_at')}, count(*) FROM consultations GROUP BY 1"),
        ("expired", ""): counted(
            f"SELECT {week_in_berlin('s.starts_at')}, count(*) FROM consultations c JOIN slots s ON s.id = c.slot_id "
            "WHERE (c.status = 'pending' AND s.starts_at <= :now) OR c.status = 'expired' GROUP BY 1",
            now=NOW,
        ),
        ("emails_failed", ""): counted(
            f"SELECT {week_in_berlin('created_at')}, count(*) FROM outbox_emails WHERE state = 'failed' GROUP BY 1"
        ),
    }
    for kind in CANCELLATIONS:
        condition = "status = :kind" if kind == "cancelled_by_specialist" else "status = 'cancelled' AND "
        if kind == "Other":
            condition += "(cancel_reason = 'Other' OR cancel_reason IS NULL)"
        elif kind != "cancelled_by_specialist":
            condition += "cancel_reason = :kind"
        figures[("cancelled", kind)] = counted(
            f"SELECT {week_in_berlin('cancelled_at')}, count(*) FROM consultations WHERE {condition} GROUP BY 1",
            kind=kind,
        )
    for role in ("client", "specialist", "admin"):
        figures[("users", role)] = counted(
            f"SELECT {week_in_berlin('created_at')}, count(*) FROM users WHERE role = :role GROUP BY 1", role=role
        )
    return figures


@pytest.fixture
def activity(db, clock):
    """Fourteen weeks of generated activity up to NOW, two of them empty, with events on the edges of weeks."""
    clock.set(NOW)
    plan = Activity(NOW, BERLIN, empty=EMPTY, edges=EDGES)
    generate(plan)
    return plan


def test_the_weeks_are_the_admins_mondays_across_the_dst_change():
    weeks = weeks_until(NOW, BERLIN)
    assert weeks.mondays == [FIRST_MONDAY + timedelta(weeks=n) for n in range(WEEKS)]
    assert weeks.bounds[0] == datetime(2026, 8, 23, 22, 0, tzinfo=UTC)  # midnight in summer time
    assert weeks.bounds[9] == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # the first Monday in winter time
    assert weeks.bounds[-1] == datetime(2026, 11, 15, 23, 0, tzinfo=UTC)  # the end of the current week
    # A week spanning the change lasts an hour longer.
    assert weeks.bounds[9] - weeks.bounds[8] == timedelta(days=7, hours=1)


def test_figures_equal_the_counts_postgresql_makes_in_the_admins_zone(activity, app, db):
    expected = expected_figures()
    figures = weekly_figures(NOW.astimezone(UTC), BERLIN)
    for key, series in expected.items():
        assert figures.series(*key) == series, key
    # The data really covers what the figures must get right: two weeks in which nothing happened...
    assert [sum(s[week] for s in expected.values()) for week in (1, 2)] == [0, 0]
    assert [figures.series("requests")[week] for week in (1, 2)] == [0, 0]
    assert all(sum(expected[(m, "")]) > 0 for m in ("requests", "accepted", "rejected", "expired", "emails_failed"))
    assert all(sum(expected[("cancelled", kind)]) > 0 for kind in CANCELLATIONS)
    # The night of the change: both 02:30s, Sunday 23:30 and the Monday 00:30 that UTC still calls Sunday.
    dst_week, after = 8, 9
    assert expected[("requests", "")][dst_week] >= 3 and expected[("requests", "")][after] >= 1
    # Weeks before the twelve (the generated fourteen begin two weeks earlier) are not counted.
    total = db.session.scalar(text("SELECT count(*) FROM consultations"))
    assert sum(figures.series("requests")) < total


def test_a_stored_expired_status_counts_as_expired(activity, app, db):
    """Another change may store "expired"; the overview counts it the same as a pending request whose slot began."""
    before = weekly_figures(NOW.astimezone(UTC), BERLIN).series("expired")
    db.session.execute(text("ALTER TABLE consultations DROP CONSTRAINT ck_consultations_status"))
    stored = db.session.execute(
        text(
            "UPDATE consultations c SET status = 'expired' FROM slots s WHERE s.id = c.slot_id "
            "AND c.status = 'pending' AND s.starts_at <= :now RETURNING c.id"
        ),
        {"now": NOW},
    ).all()
    after = weekly_figures(NOW.astimezone(UTC), BERLIN).series("expired")
    db.session.rollback()  # the constraint comes back with the transaction
    assert stored and after == before


def test_the_embedded_demo_on_sqlite_shows_the_same_figures(activity, app, db, tmp_path, monkeypatch):
    on_postgresql = weekly_figures(NOW.astimezone(UTC), BERLIN)
    rows = {
        model: [
            {c.key: getattr(row, c.key) for c in model.__table__.columns} for row in db.session.scalars(select(model))
        ]
        for model in (User, Slot, Consultation, OutboxEmail)
    }
    for name in ("REDIS_URL", "MAIL_SERVER", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x")
    demo = create_app({"EMBEDDED": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'demo.sqlite3'}"})
    with demo.app_context():
        _db.create_all()
        for model, values in rows.items():
            _db.session.execute(insert(model), values)
        _db.session.commit()
        assert _db.engine.dialect.name == "sqlite"
        on_sqlite = weekly_figures(NOW.astimezone(UTC), BERLIN)
        _db.session.remove()
        _db.engine.dispose()
    assert on_sqlite.counts == on_postgresql.counts
    assert sum(on_sqlite.series("expired")) > 0


ROWS = re.compile(r"<tbody>(.*?)</tbody>", re.S)
CELLS = re.compile(r"<td>(\d+)</td>")


def section(html: str, key: str) -> str:
    start = html.index(f'aria-labelledby="chart-{key}-title"')
    return html[start : html.index("</section>", start)]


def test_the_overview_page_draws_each_series_and_tables_the_same_figures(activity, app, db):
    admin = make_user("admin", username="root", timezone="Europe/Berlin", created_at=NOW)
    browser = logged_in_browser(app, admin)
    response = browser.get("/admin")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    expected = expected_figures()  # the admin's own account included, made this week
    assert expected[("users", "admin")][-1] == 1
    layout = {
        "requests": [("requests", ""), ("accepted", ""), ("rejected", ""), ("expired", "")],
        "cancellations": [("cancelled", kind) for kind in CANCELLATIONS],
        "users": [("users", role) for role in ("client", "specialist", "admin")],
        "emails": [("emails_failed", "")],
    }
    for key, series in layout.items():
        part = section(html, key)
        assert '<svg class="chart"' in part and 'role="img"' in part
        # One bar per non-zero figure, each titled with its week and value.
        assert part.count("<rect ") == sum(1 for s in series for value in expected[s] if value)
        rows = re.findall(r"<tr>(.*?)</tr>", ROWS.search(part).group(1), re.S)
        assert len(rows) == WEEKS
        for week, row in enumerate(rows):
            values = [int(v) for v in CELLS.findall(row)]
            wanted = [expected[s][week] for s in series]
            assert values[: len(series)] == wanted, (key, week)
            if len(series) > 1 and key != "requests":
                assert values[-1] == sum(wanted)  # the stack's total
    first_row = re.search(r"<tbody>\s*<tr>\s*<th scope=\"row\">(.*?)</th>", section(html, "requests"), re.S).group(1)
    assert '<time datetime="2026-08-24">Mon, 24 Aug 2026</time>' in first_row
    assert "(this week)" in section(html, "requests").split("</tbody>")[0].rsplit("<tr>", 1)[1]
    assert "The last twelve weeks in your time zone (Europe/Berlin)" in html


def test_the_overview_is_the_admins_home_and_its_own_nav_entry(app, db):
    admin = make_user("admin", username="root")
    browser = logged_in_browser(app, admin)
    assert browser.get("/profile").status_code == 200
    for path, current in (("/admin", "Overview"), ("/admin/users", "Users")):
        html = browser.get(path).get_data(as_text=True)
        assert re.findall(r'aria-current="page">([^<]+)</a>', html) == [current], path


def test_the_overview_in_russian(app, db, clock):
    """The words and the dates of the weeks in the admin's language."""
    clock.set(NOW)
    admin = make_user("admin", username="root", locale="ru", timezone="Europe/Berlin")
    html = logged_in_browser(app, admin).get("/admin").get_data(as_text=True)
    for words in ("Обзор", "Заявки и ответы", "Отмены по причинам", "Новые пользователи", "Экспорт консультаций"):
        assert words in html, words
    assert '<time datetime="2026-11-09">пн, 9 нояб. 2026</time>' in html


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_only_admins_see_the_overview(app, db, role):
    assert logged_in_browser(app, make_user(role)).get("/admin").status_code == 403


def test_the_overview_runs_a_fixed_number_of_queries_at_two_sizes(app, db, clock, count_queries):
    clock.set(NOW)
    browser = logged_in_browser(app, make_user("admin", username="root", timezone="Europe/Berlin"))

    def measure() -> int:
        with count_queries() as q:
            response = browser.get("/admin")
        assert response.status_code == 200
        return q.count

    small = measure()
    # 30,000 consultations on 30,000 slots of 300 specialists, 3,000 new clients, 2,000 failed emails.
    db.session.execute(
        text(
            """
            INSERT INTO users (username, email, password_hash, role, timezone, locale, is_blocked, session_token,
                               created_at)
            SELECT 'bulk' || n, 'bulk' || n || '@example.org', 'x', CASE WHEN n <= 300 THEN 'specialist'
                   ELSE 'client' END, 'UTC', 'en', false, 'token' || n, :now - n * interval '37 minutes'
            FROM generate_series(1, 3300) n;
            INSERT INTO slots (specialist_id, starts_at, ends_at, created_at, updated_at)
            SELECT u.id, :now - interval '90 days' + (n / 300) * interval '1 hour',
                   :now - interval '90 days' + (n / 300) * interval '1 hour' + interval '30 minutes',
                   :now - interval '100 days', :now
            FROM generate_series(0, 29999) n
            JOIN users u ON u.username = 'bulk' || (1 + n % 300);
            INSERT INTO consultations (slot_id, client_id, status, cancel_reason, created_at, accepted_at,
                                       rejected_at, cancelled_at, updated_at)
            SELECT s.id, (SELECT min(id) FROM users WHERE role = 'client'),
                   (ARRAY['pending', 'accepted', 'rejected', 'cancelled'])[1 + s.id % 4],
                   CASE WHEN s.id % 4 = 3 THEN 'Health' END, s.starts_at - interval '2 days',
                   CASE WHEN s.id % 4 = 1 THEN s.starts_at - interval '1 day' END,
                   CASE WHEN s.id % 4 = 2 THEN s.starts_at - interval '1 day' END,
                   CASE WHEN s.id % 4 = 3 THEN s.starts_at - interval '1 day' END, :now
            FROM slots s;
            INSERT INTO outbox_emails (recipient, kind, subject, body_text, state, attempts, created_at, updated_at)
            SELECT 'x@example.org', 'new_request', 's', 'b', 'failed', 3, :now - n * interval '1 hour', :now
            FROM generate_series(1, 2000) n;
            """
        ),
        {"now": NOW},
    )
    db.session.commit()
    assert measure() == 1  # the same minute: its figures are kept, only the user's row is read
    clock.set(NOW + timedelta(minutes=1))
    large = measure()
    assert small == large, (small, large)
    assert large <= 3  # the user's row, then the two aggregate queries


def test_the_figures_of_a_minute_serve_its_other_requests_and_the_next_minute_counts_again(app, db, clock):
    clock.set(NOW)
    admin = make_user("admin", username="root", timezone="Europe/Berlin")
    browser = logged_in_browser(app, admin)
    make_user("client", username="newcomer")

    def new_clients() -> int:
        """The legend's count of clients who joined in the twelve weeks (the page's CSRF token, signed with the
        real time, is not compared)."""
        html = browser.get("/admin").get_data(as_text=True)
        assert "Updated every minute." in html
        found = re.findall(r'</span>Clients <span class="legend-total">(\d+)</span>', html)
        assert len(found) == 1, found
        return int(found[0])

    assert new_clients() == 1
    make_user("client", username="latecomer")
    assert new_clients() == 1  # the same minute: the same figures
    clock.set(NOW + timedelta(minutes=1))
    assert new_clients() == 2  # the next one counts the latecomer
