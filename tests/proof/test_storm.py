"""A booking storm through HTTP against gunicorn with several worker processes on PostgreSQL: fifty clients
request and cancel across twenty slots while five specialists (two browsers each) accept, reject and publish
overlapping slots, all through the real pages and their CSRF tokens. Afterwards the promises of SPEC §9 hold."""

import random
import re
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from portal.clock import utcnow
from tests.factories import PASSWORD, make_consultation, make_slot, make_user
from tests.proof.http import Browser, Gunicorn, page_form, server_env

pytestmark = [pytest.mark.slow, pytest.mark.serial]

CLIENTS, SPECIALISTS, SLOTS_EACH, ROUNDS = 50, 5, 4, 4
TRIALS = 20
ALLOWED = {200, 302, 303, 422}  # 422: a slot refused for overlapping another one of the same specialist
SAID = {
    "requested": "Your request is sent to",
    "accepted": "You accepted the request of",
    "rejected": "You rejected the request of",
    "cancelled": "The consultation is cancelled.",
    "published": "The slot is saved.",
}


@pytest.fixture
def storm_server(app_config, run_id, tmp_path):
    # Its own queue prefix: the emails stay in the outbox and in a queue no worker of the suite drains.
    env = server_env(app_config, RQ_QUEUE_PREFIX=f"{run_id}storm-", RATELIMIT_KEY_PREFIX=f"{run_id}storm")
    server = Gunicorn(env, tmp_path, workers=3, threads=4, name="storm").start()
    yield server
    server.stop()


class Storm:
    def __init__(self, url: str, seed: int = 7):
        self.url = url
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.told: Counter = Counter()
        self.browsers: list[Browser] = []
        self.failures: list[str] = []
        self.clients_done = threading.Event()

    def browser(self, username: str) -> Browser:
        browser = Browser(self.url)
        assert browser.login(username, PASSWORD).status == 302, username
        with self.lock:
            self.browsers.append(browser)
        return browser

    def note(self, page) -> None:
        """Count what the flashed message told the person."""
        with self.lock:
            for message in page.flashes():
                kind = next((k for k, words in SAID.items() if message.startswith(words)), "refused: " + message)
                self.told[kind] += 1

    def choice(self, items):
        with self.lock:
            return self.random.choice(items)

    def chance(self, p: float) -> bool:
        with self.lock:
            return self.random.random() < p

    def run(self, target, *args):
        def guarded():
            try:
                target(*args)
            except Exception as exc:  # reported by the test, with the thread's story
                self.failures.append(f"{target.__name__}{args}: {exc!r}")

        thread = threading.Thread(target=guarded)
        thread.start()
        return thread

    # ------------------------------------------------------------------ people

    def client(self, username: str) -> None:
        browser = self.browser(username)
        for _ in range(ROUNDS):
            page = browser.get("/client/slots")
            buttons = [f for f in page.forms() if f.method == "post" and f.action.endswith("/request")]
            if buttons:
                form = self.choice(buttons)
                self.note(browser.follow(browser.post(form.action, form.values())))
            if self.chance(0.35):
                self.cancel_one(browser)
            time.sleep(self.random.random() * 0.05)

    def cancel_one(self, browser: Browser) -> None:
        page = browser.get("/client/consultations")
        links = sorted(set(_hrefs(page.text, "/cancel")))
        if not links:
            return
        page = browser.get(self.choice(links))
        if page.status != 200:  # no longer cancellable: back to the list with a message
            self.note(browser.follow(page))
            return
        form = page_form(page, action=page.url)
        self.note(browser.follow(browser.post(form.action, form.values(reason="Personal"))))

    def specialist(self, username: str, start: threading.Barrier) -> None:
        try:
            browser = self.browser(username)
        except BaseException:
            start.abort()  # the other desks must not wait for this one: the failure is reported
            raise
        start.wait(timeout=60)
        day = (utcnow() + timedelta(days=3)).date().isoformat()
        # Both browsers of one specialist publish the same overlapping slots at the same moment.
        for begin, end in (("14:00", "15:00"), ("14:30", "15:30"), ("15:00", "16:00")):
            page = browser.get("/specialist/slots/new")
            form = page_form(page, action=page.url)
            answer = browser.post(form.action, form.values(date=day, start_time=begin, end_time=end))
            self.note(browser.follow(answer))
        while not self.clients_done.is_set():
            page = browser.get("/specialist/consultations")
            accepts = [f for f in page.forms() if f.method == "post" and f.action.endswith("/accept")]
            if not accepts:
                time.sleep(0.05)
                continue
            form = self.choice(accepts)
            if self.chance(0.2):
                reject = page_form(page, action=form.action.replace("/accept", "/reject"))
                form, values = reject, reject.values(reason="Fully booked")
            else:
                values = form.values()
            self.note(browser.follow(browser.post(form.action, values)))


def _hrefs(html: str, ending: str) -> list[str]:
    return [h for h in re.findall(r'href="([^"]+)"', html) if h.endswith(ending)]


def test_booking_storm_keeps_every_promise(storm_server, db):
    specialists = [make_user("specialist", username=f"storm.spec{n}") for n in range(SPECIALISTS)]
    clients = [make_user("client", username=f"storm.client{n:02d}") for n in range(CLIENTS)]
    tomorrow = (utcnow() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    for specialist in specialists:  # every specialist offers the same four hours: clients' bookings may clash
        for hour in range(SLOTS_EACH):
            make_slot(specialist, starts_at=tomorrow + timedelta(hours=hour), minutes=60)

    storm = Storm(storm_server.url)
    started = time.monotonic()
    start = threading.Barrier(SPECIALISTS * 2)
    staff = [storm.run(storm.specialist, s.username, start) for s in specialists for _ in range(2)]
    people = [storm.run(storm.client, c.username) for c in clients]
    for thread in people:
        thread.join(120)
    storm.clients_done.set()
    for thread in staff:
        thread.join(60)
    elapsed = time.monotonic() - started

    statuses = Counter(status for b in storm.browsers for _, _, status in b.statuses)
    print(f"\nstorm: {sum(statuses.values())} requests in {elapsed:.1f} s, statuses {dict(statuses)}")
    print(f"told: {dict(storm.told)}")
    assert storm.failures == []
    assert set(statuses) <= ALLOWED, [s for b in storm.browsers for s in b.statuses if s[2] not in ALLOWED][:20]
    assert storm_server.errors() == [], storm_server.log()[-3000:]

    facts = invariants(db)
    print(f"database: {facts}")
    assert facts["slots with two accepted"] == 0
    assert facts["booked slots still pending"] == 0
    assert facts["overlapping live slots"] == 0
    assert facts["clients booked twice at once"] == 0
    assert facts["emails missing or extra"] == []
    # What people were told is exactly what the database holds: no silent change, no false success.
    assert storm.told["requested"] == facts["requests"]
    assert storm.told["accepted"] == facts["accepted"]
    assert storm.told["rejected"] == facts["rejected by hand"]
    assert storm.told["cancelled"] == facts["cancelled"]
    assert storm.told["published"] == facts["published"]
    # The storm really stormed: races happened and were answered with messages.
    assert facts["accepted"] >= 10 and facts["cancelled"] >= 5 and facts["rejected automatically"] >= 5
    assert sum(n for kind, n in storm.told.items() if kind.startswith("refused")) >= 10


def test_two_specialists_accepting_one_client_at_the_same_moment_book_them_once(storm_server, db):
    """A client asked two specialists for the same hour; both press Accept together: one wins, one is told why."""
    first, second = make_user("specialist"), make_user("specialist")
    desks = [Browser(storm_server.url) for _ in range(2)]
    for desk, specialist in zip(desks, (first, second), strict=True):
        assert desk.login(specialist.username, PASSWORD).status == 302
    start = (utcnow() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    for n in range(TRIALS):
        client = make_user("client")
        when = start + timedelta(hours=n)
        ids = [make_consultation(make_slot(s, starts_at=when, minutes=60), client).id for s in (first, second)]
        forms = [
            page_form(desk.get("/specialist/consultations"), action=f"/specialist/consultations/{i}/accept")
            for desk, i in zip(desks, ids, strict=True)
        ]
        together, said = threading.Barrier(2), []
        threads = [
            threading.Thread(target=_press, args=(together, desk, form, said))
            for desk, form in zip(desks, forms, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        statuses = db.session.execute(
            text("SELECT status FROM consultations WHERE client_id = :c ORDER BY status"), {"c": client.id}
        ).scalars()
        assert list(statuses) == ["accepted", "pending"], n
        assert sum(m.startswith("You accepted the request of") for m in said) == 1, said
        assert f"{client.label} already has an accepted consultation at this time." in said, said
    assert all(status < 500 for desk in desks for _, _, status in desk.statuses)


def _press(together: threading.Barrier, desk: Browser, form, said: list) -> None:
    """Press the button at the same moment as the other desk; keep what the page said."""
    together.wait()
    said.extend(desk.follow(desk.post(form.action, form.values())).flashes())


def invariants(db) -> dict:
    one = lambda sql: db.session.execute(text(sql)).scalar()  # noqa: E731
    facts = {
        "requests": one("SELECT count(*) FROM consultations"),
        "accepted": one("SELECT count(*) FROM consultations WHERE accepted_at IS NOT NULL"),
        "rejected by hand": one("SELECT count(*) FROM consultations WHERE reject_reason IS NOT NULL"),
        "rejected automatically": one(
            "SELECT count(*) FROM consultations WHERE rejected_at IS NOT NULL AND reject_reason IS NULL"
        ),
        "cancelled": one("SELECT count(*) FROM consultations WHERE status = 'cancelled'"),
        "published": one("SELECT count(*) FROM slots WHERE note IS NULL AND starts_at > now() + interval '2 days'"),
        "slots with two accepted": one(
            "SELECT count(*) FROM (SELECT slot_id FROM consultations WHERE status = 'accepted'"
            " GROUP BY slot_id HAVING count(*) > 1) x"
        ),
        "booked slots still pending": one(
            "SELECT count(*) FROM consultations p JOIN consultations a ON a.slot_id = p.slot_id"
            " WHERE p.status = 'pending' AND a.status = 'accepted'"
        ),
        "overlapping live slots": one(
            "SELECT count(*) FROM slots a JOIN slots b ON a.specialist_id = b.specialist_id AND a.id < b.id"
            " WHERE a.deleted_at IS NULL AND b.deleted_at IS NULL"
            " AND tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)"
        ),
        "clients booked twice at once": one(
            "SELECT count(*) FROM consultations a JOIN slots sa ON sa.id = a.slot_id"
            " JOIN consultations b ON b.client_id = a.client_id AND a.id < b.id JOIN slots sb ON sb.id = b.slot_id"
            " WHERE a.status = 'accepted' AND b.status = 'accepted'"
            " AND tstzrange(sa.starts_at, sa.ends_at) && tstzrange(sb.starts_at, sb.ends_at)"
        ),
    }
    # Every status change has exactly one email, to the person it concerns.
    expected = Counter(
        tuple(row)
        for row in db.session.execute(
            text(
                "SELECT 'new_request', s.specialist_id FROM consultations c JOIN slots s ON s.id = c.slot_id"
                " UNION ALL SELECT 'request_accepted', client_id FROM consultations WHERE accepted_at IS NOT NULL"
                " UNION ALL SELECT 'request_rejected', client_id FROM consultations WHERE rejected_at IS NOT NULL"
                " UNION ALL SELECT 'request_cancelled', s.specialist_id FROM consultations c"
                " JOIN slots s ON s.id = c.slot_id WHERE c.status = 'cancelled'"
                " UNION ALL SELECT 'cancellation_confirmed', client_id FROM consultations WHERE status = 'cancelled'"
            )
        )
    )
    sent = Counter(tuple(row) for row in db.session.execute(text("SELECT kind, user_id FROM outbox_emails")))
    facts["emails"] = sum(sent.values())
    facts["emails missing or extra"] = sorted((expected - sent) + (sent - expected))
    return facts
