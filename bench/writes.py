"""The write scenario: clients request slots while specialists accept, then the SPEC §9 promises are checked.

Four "writer" specialists have only free future slots; three clients per specialist request that
specialist's slots soonest first (so most slots get several requests), and each specialist accepts the
oldest pending request of each slot as soon as it appears (which rejects the others on that slot).
Buttons are pressed with real POSTs (CSRF token included) at URLs read from the pages' own forms; the
driver uses SQL only to see which slots and requests exist, as a person would by looking at the page.
"""

import re
import threading
import time
from dataclasses import dataclass, field

import psycopg2

from bench import common
from bench.web import Form, Session, csrf_token, login, parse_page


@dataclass
class Stats:
    latencies: list = field(default_factory=list)
    statuses: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    queries: list = field(default_factory=list)

    def record(self, started: float, answer) -> None:
        self.latencies.append(time.monotonic() - started)
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1
        if answer.query_count is not None:
            self.queries.append(answer.query_count)


class Template:
    """Builds the POST for any object id from one form seen acting on `known_id`."""

    def __init__(self, form: Form, known_id: int, button: str):
        self.form, self.known, self.button = form, str(known_id), button

    def request(self, obj_id: int, csrf: str | None = None) -> tuple[str, list]:
        """The action URL and fields for this object; `csrf` is the token of the session that will post it."""
        pattern = rf"/{self.known}(?=/|$|\?)"
        action = re.sub(pattern, f"/{obj_id}", self.form.action, count=1)
        fields = []
        for name, value in self.form.submit_fields(self.button):
            if name == "csrf_token" and csrf:
                value = csrf
            fields.append((name, str(obj_id) if value == self.known else value))
        return action, fields


def _numbers(form: Form) -> list[int]:
    found = [int(x) for x in re.findall(r"/(\d+)(?=/|$|\?)", form.action)]
    return found + [int(v) for n, v in form.fields if v.isdigit() and n != "csrf_token"]


def learn(session: Session, path: str, button: str, known) -> Template:
    """The form with this button on this page that acts on a known id; `known(numbers)` answers which of the
    numbers seen in the forms are ids of the objects meant."""
    page = session.get(path)
    forms, _ = parse_page(page.text, path)
    candidates = [(form, _numbers(form)) for form in forms if form.has_button(button)]
    ids = known({number for _, numbers in candidates for number in numbers})
    for form, numbers in candidates:
        for number in numbers:
            if number in ids:
                return Template(form, number, button)
    raise RuntimeError(f"no {button!r} form acting on a known id on {path} (HTTP {page.status})")


def _query(conn, sql: str, args=()) -> list:
    with conn.cursor() as cur:
        cur.execute(sql, args)
        return cur.fetchall()


def _token(session: Session, path: str) -> str:
    token = csrf_token(session.get(path).text)
    if not token:
        raise RuntimeError(f"no CSRF token on {path}")
    return token


def _client_loop(session: Session, template: Template, slot_ids: list, deadline: float, stats: Stats) -> None:
    token = _token(session, "/client/slots")
    for slot_id in slot_ids:
        if time.monotonic() >= deadline:
            return
        action, fields = template.request(slot_id, token)
        started = time.monotonic()
        try:
            stats.record(started, session.post(action, fields))
        except OSError as exc:
            stats.errors.append(repr(exc))


PENDING_ONE_PER_SLOT = """
    SELECT DISTINCT ON (c.slot_id) c.id FROM consultations c JOIN slots s ON s.id = c.slot_id
    WHERE s.specialist_id = %s AND c.status = 'pending' ORDER BY c.slot_id, c.created_at, c.id LIMIT 10
"""


def _specialist_loop(session, template, database_url, specialist_id, deadline, stats) -> None:
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    token = _token(session, "/specialist/consultations")
    try:
        while time.monotonic() < deadline:
            pending = [row[0] for row in _query(conn, PENDING_ONE_PER_SLOT, (specialist_id,))]
            if not pending:
                time.sleep(0.02)
            for consultation_id in pending:
                if time.monotonic() >= deadline:
                    break
                action, fields = template.request(consultation_id, token)
                started = time.monotonic()
                try:
                    stats.record(started, session.post(action, fields))
                except OSError as exc:
                    stats.errors.append(repr(exc))
    finally:
        conn.close()


def run_writes(base_url: str, database_url: str, seconds: float) -> dict:
    """Run the mixed booking/accepting scenario for `seconds`; returns rates, statuses and invariant checks."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    users = dict(_query(conn, "SELECT username, id FROM users WHERE username LIKE 'bench_writer%%'"))
    free = {}
    for name in common.WRITER_SPECIALISTS:
        free[name] = [
            r[0]
            for r in _query(
                conn,
                "SELECT id FROM slots s WHERE specialist_id = %s AND deleted_at IS NULL AND starts_at > now()"
                " AND NOT EXISTS (SELECT 1 FROM consultations c WHERE c.slot_id = s.id) ORDER BY starts_at",
                (users[name],),
            )
        ]
    before = dict(zip(("since", "outbox"), _query(conn, "SELECT now(), max(id) FROM outbox_emails")[0], strict=True))
    clients = [login(base_url, name, common.PASSWORD) for name in common.WRITER_CLIENTS]
    specialists = [login(base_url, name, common.PASSWORD) for name in common.WRITER_SPECIALISTS]

    # Learn the Request and Accept forms from the pages (one warm-up request on the first writer's first slot).
    first = common.WRITER_SPECIALISTS[0]

    def slot_ids(numbers: set[int]) -> set[int]:
        return {r[0] for r in _query(conn, "SELECT id FROM slots WHERE id = ANY(%s)", (list(numbers),))}

    request_form = learn(clients[0], "/client/slots", "Request", slot_ids)
    # Both warm-up posts also capture their SQL statements for the report.
    capture = {"X-Bench-Capture": "1"}
    warm_slot = free[first].pop(0)
    request_path, fields = request_form.request(warm_slot)
    clients[0].post(request_path, fields, headers=capture)
    pending = {r[0] for r in _query(conn, "SELECT id FROM consultations WHERE slot_id = %s", (warm_slot,))}
    accept_form = learn(specialists[0], "/specialist/consultations", "Accept", pending.intersection)
    accept_path, fields = accept_form.request(pending.pop())
    specialists[0].post(accept_path, fields, headers=capture)

    client_stats, specialist_stats = Stats(), Stats()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    threads = []
    for index, session in enumerate(clients):
        ids = free[common.WRITER_SPECIALISTS[index % len(common.WRITER_SPECIALISTS)]]
        threads.append(threading.Thread(target=_client_loop, args=(session, request_form, ids, deadline, client_stats)))
    for name, session in zip(common.WRITER_SPECIALISTS, specialists, strict=True):
        args = (session, accept_form, database_url, users[name], deadline, specialist_stats)
        threads.append(threading.Thread(target=_specialist_loop, args=args))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    from bench.invariants import check

    result = check(conn, before, [users[n] for n in common.WRITER_SPECIALISTS], elapsed)
    conn.close()
    result.update(
        seconds=round(elapsed, 1),
        threads={"clients": len(clients), "specialists": len(specialists)},
        request_posts=summarise(client_stats),
        accept_posts=summarise(specialist_stats),
        captured={"request": request_path, "accept": accept_path},
    )
    result["http_5xx"] = sum(
        count for stats in (client_stats, specialist_stats) for status, count in stats.statuses.items() if status >= 500
    )
    result["connection_errors"] = len(client_stats.errors) + len(specialist_stats.errors)
    return result


def summarise(stats: Stats) -> dict:
    lat = sorted(stats.latencies)

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000, 1) if lat else None

    queries = sorted(stats.queries)
    return {
        "count": len(lat),
        "statuses": stats.statuses,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "queries_median": queries[len(queries) // 2] if queries else None,
        "queries_max": queries[-1] if queries else None,
    }
