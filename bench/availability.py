"""Saving a full week of working hours: the time to generate 90 days of slots, and to save the same hours again.

    DATABASE_URL=… SECRET_KEY=x .venv/bin/python -m bench.availability [--rounds 3]

Part of `make bench` (after the pages). Logs in as bench_specialist (Europe/Berlin, whose current week is full of
manual slots that the generated sessions must step around) through Flask's test client and POSTs the
availability page: Monday–Friday 09:00-12:00, 13:00-18:00 and Saturday 10:00-14:00, sessions of 50 minutes with
a 10-minute break, a 90-day horizon. Each round starts from no saved hours; the first save generates the slots,
the second (the same form) must create nothing. Reports wall time, SQL statements and slots per save; the
specialist is left as the generator made them. Then the calendar of a generated week (four weeks ahead, only
generated slots) is read --calendar-gets times, one after another: its median and 95th percentile, and statements.
"""

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import event, text

from bench import common

OUT = Path(__file__).resolve().parent / "out"
WEEK = {
    "monday": "09:00-12:00, 13:00-18:00",
    "tuesday": "09:00-12:00, 13:00-18:00",
    "wednesday": "09:00-12:00, 13:00-18:00",
    "thursday": "09:00-12:00, 13:00-18:00",
    "friday": "09:00-12:00, 13:00-18:00",
    "saturday": "10:00-14:00",
    "sunday": "",
}
FORM = {**WEEK, "session_minutes": "50", "break_minutes": "10", "notice_hours": "12", "horizon_days": "90"}
FORM["cutoff_hours"] = "24"


def forget_hours(db, specialist_id: int) -> None:
    """Back to a specialist who never saved the page: no rules, no hours, no generated slots without requests."""
    values = {"id": specialist_id}
    db.session.execute(
        text(
            "DELETE FROM slots s WHERE s.specialist_id = :id AND s.generated "
            "AND NOT EXISTS (SELECT 1 FROM consultations c WHERE c.slot_id = s.id)"
        ),
        values,
    )
    db.session.execute(text("DELETE FROM working_hours WHERE specialist_id = :id"), values)
    db.session.execute(text("DELETE FROM availabilities WHERE specialist_id = :id"), values)
    db.session.commit()


def generated(db, specialist_id: int) -> int:
    return db.session.scalar(
        text("SELECT count(*) FROM slots WHERE specialist_id = :id AND generated AND deleted_at IS NULL"),
        {"id": specialist_id},
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calendar-gets", type=int, default=50)
    args = parser.parse_args(argv)

    from portal import create_app
    from portal.clock import utcnow
    from portal.extensions import db
    from portal.models import User

    app = create_app({"WTF_CSRF_ENABLED": False})
    client = app.test_client()
    answer = client.post("/login", data={"login": common.SPECIALIST, "password": common.PASSWORD})
    if answer.status_code not in (302, 303):
        print(f"login as {common.SPECIALIST} failed: HTTP {answer.status_code}", file=sys.stderr)
        return 1
    statements = []
    rounds = []
    with app.app_context():
        specialist_id = db.session.query(User.id).filter(User.username == common.SPECIALIST).scalar()
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(1))

        def save() -> tuple[float, int, int]:
            before, started = generated(db, specialist_id), time.perf_counter()
            statements.clear()
            answer = client.post("/specialist/availability", data=FORM)
            elapsed, count = time.perf_counter() - started, len(statements)
            if answer.status_code != 303:
                raise SystemExit(f"saving the hours answered HTTP {answer.status_code}")
            db.session.remove()
            return elapsed, count, generated(db, specialist_id) - before

        for _ in range(args.rounds):
            forget_hours(db, specialist_id)
            first, again = save(), save()
            rounds.append({"first": first, "again": again})
            print(
                f"first save {first[0] * 1000:.0f} ms, {first[1]} statements, {first[2]} slots; "
                f"again {again[0] * 1000:.0f} ms, {again[1]} statements, {again[2]} slots",
                flush=True,
            )
        year, number, _ = (utcnow() + timedelta(weeks=4)).isocalendar()
        week_url = f"/specialist/calendar?week={year}-W{number:02d}"
        calendar_ms, calendar_statements = [], set()
        for _ in range(args.calendar_gets):
            statements.clear()
            started = time.perf_counter()
            answer = client.get(week_url)
            calendar_ms.append((time.perf_counter() - started) * 1000)
            calendar_statements.add(len(statements))
            if answer.status_code != 200:
                raise SystemExit(f"the calendar of a generated week answered HTTP {answer.status_code}")
            db.session.remove()
        calendar_ms.sort()
    result = {
        "what": "save a full week of hours (50 + 10 min, 90-day horizon) as bench_specialist",
        "calendar_generated_week_ms_median": statistics.median(calendar_ms),
        "calendar_generated_week_ms_p95": calendar_ms[int(len(calendar_ms) * 0.95) - 1],
        "calendar_generated_week_statements": sorted(calendar_statements),
        "first_save_ms_median": statistics.median(r["first"][0] for r in rounds) * 1000,
        "second_save_ms_median": statistics.median(r["again"][0] for r in rounds) * 1000,
        "statements_first": [r["first"][1] for r in rounds],
        "statements_again": [r["again"][1] for r in rounds],
        "slots_made": [r["first"][2] for r in rounds],
        "slots_made_again": [r["again"][2] for r in rounds],
    }
    OUT.mkdir(exist_ok=True)
    path = OUT / f"availability-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"==> full week of hours, 90 days: {result['first_save_ms_median']:.0f} ms to generate "
        f"{result['slots_made'][0]} slots ({result['statements_first'][0]} SQL statements); saving again "
        f"{result['second_save_ms_median']:.0f} ms, {result['slots_made_again'][0]} new. Results: {path}"
    )
    print(
        f"==> calendar of a generated week ({week_url}): median {result['calendar_generated_week_ms_median']:.1f} ms, "
        f"p95 {result['calendar_generated_week_ms_p95']:.1f} ms over {args.calendar_gets} reads one after another, "
        f"{result['calendar_generated_week_statements']} SQL statements"
    )
    return 0 if not any(result["slots_made_again"]) else 1


if __name__ == "__main__":
    sys.exit(main())
