"""Calendar feeds over HTTP: the private address on the profile and its reset, 404s, ETag/304, a fixed number
of statements, and the migration that gives existing accounts their address."""

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import psycopg2
import pytest

from portal import feeds
from portal.models import User
from tests.factories import make_consultation, make_slot, make_user
from tests.support.feeds import browser, events_of, fetch, token_of
from tests.support.paths import ROOT

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
FEED_URL = re.compile(r'value="http://portal\.test/feeds/([A-Za-z0-9_-]{43})\.ics"')


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_profile_shows_the_address_and_reset_kills_the_old_one(app, db, role):
    user = make_user(role, username=f"feed_{role}")
    me = browser(app, user)
    page = me.get("/profile").get_data(as_text=True)
    old = token_of(db, user)
    assert ">Calendar feed</h2>" in page and FEED_URL.findall(page) == [old]
    assert f'value="webcal://portal.test/feeds/{old}.ics"' in page
    assert f'href="webcal://portal.test/feeds/{old}.ics"' in page and 'value="Reset feed link"' in page
    assert fetch(app, f"/feeds/{old}.ics").status_code == 200

    refused = me.post("/profile", data={"feed-submit": "Reset feed link"})
    assert refused.status_code == 400 and token_of(db, user) == old

    response = me.submit("/profile", {"feed-submit": "Reset feed link"})
    assert response.status_code == 302 and response.headers["Location"] == "/profile"
    new = token_of(db, user)
    assert new != old and len(new) == 43
    page = me.get("/profile").get_data(as_text=True)
    assert "Your feed has a new link. The old one no longer works" in page and FEED_URL.findall(page) == [new]
    assert fetch(app, f"/feeds/{old}.ics").status_code == 404
    assert fetch(app, f"/feeds/{new}.ics").status_code == 200


def test_an_admin_has_no_feed(app, db):
    admin = make_user("admin")
    page = browser(app, admin).get("/profile").get_data(as_text=True)
    assert "Calendar feed" not in page and "/feeds/" not in page
    assert fetch(app, f"/feeds/{token_of(db, admin)}.ics").status_code == 404


def test_russian_profile_section(app, db):
    user = make_user("client", locale="ru")
    page = browser(app, user).get("/profile").get_data(as_text=True)
    assert "Подписка на календарь" in page and 'value="Сбросить ссылку"' in page


def test_etag_and_not_modified(app, db, clock):
    clock.set(T0)
    me = make_user("specialist")
    make_slot(me, starts_at=T0 + timedelta(days=1))
    path = f"/feeds/{token_of(db, me)}.ics"
    first = fetch(app, path)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag.startswith('"') and first.headers["Cache-Control"] == "private, max-age=300"
    assert "Set-Cookie" not in first.headers
    again = fetch(app, path)
    assert again.get_data() == first.get_data() and again.headers["ETag"] == tag
    unchanged = fetch(app, path, **{"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    make_slot(me, starts_at=T0 + timedelta(days=2))
    changed = fetch(app, path, **{"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag and len(events_of(changed.get_data())) == 2


def test_blocked_unconfirmed_unknown_and_malformed_feeds_are_404(app, db):
    specialist = make_user("specialist")
    path = f"/feeds/{token_of(db, specialist)}.ics"
    assert fetch(app, path).status_code == 200
    db.session.get(User, specialist.id).is_blocked = True
    db.session.commit()
    blocked = fetch(app, path)
    assert blocked.status_code == 404 and b"BEGIN:VCALENDAR" not in blocked.get_data()
    db.session.get(User, specialist.id).is_blocked = False
    db.session.commit()
    assert fetch(app, path).status_code == 200  # unblocking gives the same feed back
    unconfirmed = make_user("client", confirmed=False)
    assert fetch(app, f"/feeds/{token_of(db, unconfirmed)}.ics").status_code == 404
    for token in ("A" * 43, "short", token_of(db, specialist) + "x", token_of(db, specialist)[:-1] + "%00"):
        assert fetch(app, f"/feeds/{token}.ics").status_code == 404, token
    assert fetch(app, f"/feeds/{token_of(db, specialist)}").status_code == 404


@pytest.mark.parametrize("role", ["client", "specialist"])
def test_a_feed_is_a_fixed_number_of_statements_whatever_the_history(app, db, clock, count_queries, role):
    clock.set(T0)
    doctor, patient = make_user("specialist"), make_user("client")
    owner = doctor if role == "specialist" else patient
    path = f"/feeds/{token_of(db, owner)}.ics"

    made = iter(range(1000))

    def add(count: int) -> None:
        for _ in range(count):
            n = next(made)
            slot = make_slot(doctor, starts_at=T0 + timedelta(days=n % 50 - 20, hours=n // 50), commit=False)
            db.session.flush()
            status = ("pending", "accepted", "cancelled")[n % 3]
            extra = {"cancelled_at": T0} if status == "cancelled" else {}
            make_consultation(slot, patient, status=status, commit=False, **extra)
        db.session.commit()

    counts, sizes = [], []
    for size in (3, 90):
        add(size)
        with count_queries() as queries:
            response = fetch(app, path)
        with count_queries() as polled:
            unchanged = fetch(app, path, **{"If-None-Match": response.headers["ETag"]})
        assert (response.status_code, unchanged.status_code) == (200, 304)
        counts.append((queries.count, polled.count))
        sizes.append(len(events_of(response.get_data())))
    # The owner and the rows' digest; the rows themselves only for a body not kept yet (none for a 304).
    assert counts == [(3, 2), (3, 2)], counts
    assert sizes == [3, 93]


def test_the_migration_gives_existing_accounts_a_feed_each(worker_env, empty_database):
    env = {**worker_env, "DATABASE_URL": empty_database, "REDIS_URL": ""}

    def migrate(*args: str) -> None:
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "db", *args]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    def users(cur) -> list:
        cur.execute("SELECT username, feed_token FROM users ORDER BY id")
        return cur.fetchall()

    migrate("upgrade", "0002")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        for name in ("early", "bird"):
            cur.execute(
                "INSERT INTO users (username, email, password_hash, role, timezone, locale, is_blocked,"
                " session_token, created_at) VALUES (%s, %s, 'x', 'client', 'UTC', 'en', false, %s, now())",
                (name, f"{name}@example.com", name),
            )
    conn.close()
    migrate("upgrade", "0005")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        found = users(cur)
        assert [name for name, _ in found] == ["early", "bird"]
        tokens = [token for _, token in found]
        assert len(set(tokens)) == 2 and all(feeds.TOKEN_SHAPE.fullmatch(token) for token in tokens)
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute("UPDATE users SET feed_token = %s WHERE username = 'bird'", (tokens[0],))
    conn.close()
    migrate("downgrade", "0002")
    with psycopg2.connect(empty_database) as conn, conn.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")
        assert "feed_token" not in {row[0] for row in cur.fetchall()}
    conn.close()


def test_a_body_is_rendered_once_per_change_and_kept_under_its_etag(app, db, clock, redis_client, monkeypatch):
    """Apps polling without the ETag get the kept bytes; a change makes a new body, never a stale one."""
    clock.set(T0)
    me = make_user("specialist")
    make_slot(me, starts_at=T0 + timedelta(days=1))
    path = f"/feeds/{token_of(db, me)}.ics"
    rendered = []
    real = feeds.feed_ics
    monkeypatch.setattr(feeds, "feed_ics", lambda user, entries: rendered.append(len(entries)) or real(user, entries))
    first, again = fetch(app, path), fetch(app, path)
    assert again.get_data() == first.get_data() and rendered == [1]
    key = f"{app.config['RATELIMIT_KEY_PREFIX']}:feed:{first.headers['ETag'].strip(chr(34))}"
    assert redis_client.get(key) == first.get_data() and 0 < redis_client.ttl(key) <= feeds.FEED_KEEP_SECONDS
    make_slot(me, starts_at=T0 + timedelta(days=2))
    changed = fetch(app, path)
    assert rendered == [1, 2] and len(events_of(changed.get_data())) == 2
    changed_key = f"{app.config['RATELIMIT_KEY_PREFIX']}:feed:{changed.headers['ETag'].strip(chr(34))}"
    redis_client.delete(changed_key)  # lost from Redis: rendered again, the same bytes
    assert fetch(app, path).get_data() == changed.get_data() and rendered == [1, 2, 2]
