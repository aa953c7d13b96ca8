"""The moderation log page: newest first, filters by admin and user, fixed query count."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from portal.models import ModerationLog
from tests.factories import make_user
from tests.support.admin import block, unblock
from tests.support.auth import logged_in_browser

ROW = re.compile(r'<tr id="log-(\d+)">(.*?)</tr>', re.S)


def rows(response) -> list[str]:
    return [body for _, body in ROW.findall(response.get_data(as_text=True))]


def test_log_shows_who_whom_what_when_and_why_newest_first(app, db, clock):
    clock.set(datetime(2026, 5, 4, 10, 0, tzinfo=UTC))
    ann, ben = make_user("admin", username="ann"), make_user("admin", username="ben")
    carol, dave = make_user(username="carol"), make_user(username="dave")
    ann_browser, ben_browser = logged_in_browser(app, ann), logged_in_browser(app, ben)
    block(ann_browser, carol, "Rude messages")
    clock.set(datetime(2026, 5, 4, 11, 30, tzinfo=UTC))
    block(ben_browser, dave, "")
    clock.set(datetime(2026, 5, 4, 12, 45, tzinfo=UTC))
    unblock(ben_browser, carol)

    response = ann_browser.get("/admin/log")
    assert response.status_code == 200
    newest, middle, oldest = rows(response)
    assert "ben" in newest and "carol" in newest and "Unblocked" in newest
    assert '<time datetime="2026-05-04T12:45+00:00">' in newest
    assert "ben" in middle and "dave" in middle and "Blocked" in middle and "—" in middle
    assert "ann" in oldest and "carol" in oldest and "Rude messages" in oldest
    assert '<time datetime="2026-05-04T10:00+00:00">' in oldest

    by_admin = rows(ann_browser.get("/admin/log?admin=BEN"))
    assert len(by_admin) == 2 and all("ben" in r for r in by_admin)
    by_user = rows(ann_browser.get("/admin/log?user=carol"))
    assert len(by_user) == 2 and all("carol" in r for r in by_user)
    assert len(rows(ann_browser.get("/admin/log?admin=ann&user=dave"))) == 0
    nothing = ann_browser.get("/admin/log?user=nobody")
    assert "No log entries match these filters." in nothing.get_data(as_text=True)


def test_log_filters_refuse_bad_input_without_failing(app, db):
    browser = logged_in_browser(app, make_user("admin"))
    assert browser.get("/admin/log?admin=" + "a" * 40).status_code == 422
    assert browser.get("/admin/log?user=x%00y").status_code == 422
    assert browser.get("/admin/log?after=zz&before=-3").status_code == 200


def test_log_page_runs_a_fixed_number_of_queries_at_10_and_3000_entries(app, db, count_queries):
    admin, user = make_user("admin", username="ann"), make_user(username="carol")
    browser = logged_in_browser(app, admin)
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def add(count: int, offset: int) -> None:
        db.session.execute(
            insert(ModerationLog),
            [
                {
                    "admin_id": admin.id,
                    "user_id": user.id,
                    "action": ("block", "unblock")[n % 2],
                    "reason": f"r{n}",
                    "created_at": start + timedelta(minutes=n),
                }
                for n in range(offset, offset + count)
            ],
        )
        db.session.commit()

    def measure() -> list[int]:
        counts = []
        for url in ("/admin/log", "/admin/log?admin=ann", "/admin/log?user=carol&after=5", "/admin/log?before=8"):
            with count_queries() as q:
                response = browser.get(url)
            assert response.status_code == 200 and len(rows(response)) <= app.config["PAGE_SIZE"]
            counts.append(q.count)
        return counts

    add(10, 0)
    small = measure()
    add(2990, 10)
    large = measure()
    assert small == large and max(large) <= 2, (small, large)
    first_page = rows(browser.get("/admin/log"))
    assert len(first_page) == app.config["PAGE_SIZE"] and "r2999" in first_page[0]
