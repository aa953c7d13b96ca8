"""Every admin form fed hostile input by Hypothesis: never a 5xx; filters never write; a refused block, unblock or
retry writes nothing at all; an accepted one saves exactly the cleaned input (and is undone before the next example)."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from portal.extensions import db
from portal.models import ModerationLog, OutboxEmail, User
from tests.factories import make_consultation, make_slot, make_user
from tests.support.fuzz import (
    FUZZ,
    Poster,
    button,
    cleaned,
    fingerprint,
    form,
    get_never_writes,
    hostile,
    ident,
    pick,
    quoted,
    shows_form_error,
)

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=60)
NEXT = pick("/admin/users?q=vic", "/admin/log", "//evil.example", "https://evil.example/")
CURSOR = st.one_of(pick("1", "3", "0", "-1", "2147483648", str(2**63), "٣", "abc"), hostile)


def outbox_row(user, state: str, minutes: int) -> OutboxEmail:
    row = OutboxEmail(
        user_id=user.id,
        recipient=user.email,
        kind="new_request",
        subject="New request",
        body_text="…",
        state=state,
        attempts=3 if state == "failed" else 1,
        last_error="550 mailbox unavailable" if state == "failed" else None,
        created_at=NOW - timedelta(minutes=minutes),
    )
    db.session.add(row)
    return row


@pytest.fixture
def scene(new_client, clock):
    """An admin, a second admin, an active client, a blocked one, log entries, emails in every state and a
    consultation requested on 8 December 2026."""
    clock.set(NOW)
    root = make_user("admin", username="root")
    deputy = make_user("admin", username="deputy")
    victim = make_user("client", username="victim")
    banned = make_user("specialist", username="banned", blocked=True, blocked_reason="spam")
    db.session.add(ModerationLog(admin_id=root.id, user_id=banned.id, action="block", reason="spam"))
    failed, sent = outbox_row(victim, "failed", 5), outbox_row(banned, "sent", 9)
    outbox_row(victim, "queued", 1)
    db.session.commit()
    consultation = make_consultation(make_slot(banned, starts_at=NOW + timedelta(days=1)), victim, created_at=NOW)
    scene = SimpleNamespace(
        root=root.id,
        deputy=deputy.id,
        victim=victim.id,
        banned=banned.id,
        failed=failed.id,
        sent=sent.id,
        consultation=consultation.id,
    )
    scene.admin = Poster(new_client(root), "/admin/users")
    scene.log_mark = db.session.scalar(select(ModerationLog.id))
    return scene


def restore(scene) -> None:
    """Undo an accepted example: the users, log and emails of the fixture as they were."""
    db.session.execute(text("DELETE FROM moderation_log WHERE id > :id"), {"id": scene.log_mark})
    db.session.execute(update(User).where(User.id == scene.victim).values(is_blocked=False, blocked_reason=None))
    db.session.execute(update(User).where(User.id == scene.banned).values(is_blocked=True, blocked_reason="spam"))
    db.session.execute(update(OutboxEmail).where(OutboxEmail.id == scene.failed).values(state="failed"))
    db.session.commit()


@FUZZ
@given(
    params=form(
        {
            "q": pick("vic", "EXAMPLE", "%", "_", "\\"),
            "role": pick("", "client", "specialist", "admin"),
            "blocked": pick("", "yes", "no"),
            "sort": pick("newest", "oldest"),
            "after": CURSOR,
            "before": CURSOR,
        }
    )
)
def test_admin_users_filter(scene, tally, params):
    get_never_writes(scene.admin, "/admin/users", params, tally)


@FUZZ
@given(params=form({"admin": pick("root", "ROOT", "nobody"), "user": pick("banned", "victim"), "after": CURSOR}))
def test_admin_log_filter(scene, tally, params):
    get_never_writes(scene.admin, "/admin/log", params, tally)


@FUZZ
@given(params=form({"state": pick("", "queued", "sent", "failed"), "after": CURSOR, "before": CURSOR}))
def test_admin_emails_filter(scene, tally, params):
    get_never_writes(scene.admin, "/admin/emails", params, tally)


@FUZZ
@given(data=form({"reason": WORDS, "confirm": pick("yes", ""), "next": NEXT}), which=st.data())
def test_block(scene, tally, data, which):
    user_id = which.draw(ident(scene.victim, scene.root, scene.banned, scene.deputy))
    body = button(scene.admin, f"/admin/users/{quoted(user_id)}/block", data, tally)
    if body:
        blocked = db.session.get(User, int(user_id))
        assert blocked.is_blocked and blocked.blocked_reason == (cleaned(body, "reason") or None)
        entry = db.session.scalars(select(ModerationLog).where(ModerationLog.id > scene.log_mark)).one()
        assert (entry.admin_id, entry.user_id, entry.action, entry.reason) == (
            scene.root,
            blocked.id,
            "block",
            blocked.blocked_reason,
        )
        db.session.execute(update(User).where(User.id == scene.deputy).values(is_blocked=False, blocked_reason=None))
        restore(scene)


@FUZZ
@given(data=form({"next": NEXT}), which=st.data())
def test_unblock(scene, tally, data, which):
    user_id = which.draw(ident(scene.banned, scene.victim, scene.root))
    if button(scene.admin, f"/admin/users/{quoted(user_id)}/unblock", data, tally):
        unblocked = db.session.get(User, scene.banned)
        assert not unblocked.is_blocked and unblocked.blocked_reason is None
        restore(scene)


@FUZZ
@given(data=form({"next": NEXT}), which=st.data())
def test_email_retry(scene, tally, data, which):
    outbox_id = which.draw(ident(scene.failed, scene.sent))
    if button(scene.admin, f"/admin/emails/{quoted(outbox_id)}/retry", data, tally):
        retried = db.session.get(OutboxEmail, scene.failed)
        assert (retried.state, retried.attempts, retried.queued_at) == ("queued", 3, NOW)
        restore(scene)


DAY = pick(
    "2026-12-01", "2026-12-08", "2026-12-09", "2000-01-01", "2199-12-31"
)  # odd dates come with the hostile values


@FUZZ
@given(params=form({"from": DAY, "to": DAY}))
def test_export_dates(scene, tally, params):
    """Any from/to: the CSV (200) or the overview with the errors next to the fields (422), never a 5xx, no write."""
    before = fingerprint()
    response = scene.admin.get("/admin/export/consultations.csv", params)
    assert response.status_code in (200, 422), response.status_code
    body = response.get_data()  # the whole stream, read to its end...
    response.close()  # ...and closed, as a server does: the request's database session ends
    if response.status_code == 200:
        assert body.startswith("\ufeffid,status,".encode())
        tally[
            "accepted, with the consultation" if b"\r\n" + str(scene.consultation).encode() in body else "accepted"
        ] += 1
    else:
        assert shows_form_error(response)
        tally["refused"] += 1
    assert fingerprint() == before
