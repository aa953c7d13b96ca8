"""Every account form fed hostile input by Hypothesis: never a 5xx; a refusal answers with the form and writes
nothing at all; an acceptance saves exactly the cleaned input."""

from datetime import UTC, datetime

import pytest
from email_validator import validate_email
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import AccountEmailRequest, User
from portal.security import verify_password
from portal.services import email_requests, tokens
from tests.factories import PASSWORD, make_user, password_hash
from tests.support.fuzz import (
    FUZZ,
    MISSING,
    Poster,
    cleaned,
    fingerprint,
    form,
    hostile,
    on_site,
    pick,
    quoted,
    received,
    refused_cleanly,
)

NOW = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
STRONG = pick("plum-orbit-canvas-71", "Teal lantern 9 river", "ёжик-в-тумане-2026", "🙂 four quiet words 🙂")
USERNAME = st.from_regex(r"[A-Za-z][A-Za-z0-9._-]{5,31}", fullmatch=True)
EMAIL = st.one_of(st.from_regex(r"[a-z0-9]{1,12}@example\.(com|org)", fullmatch=True), st.emails().map(str))
WORDS = st.text(st.characters(categories=["L", "N", "Zs", "P", "So", "Mn"]), max_size=40)
ZONE = pick("UTC", "Europe/Berlin", "Asia/Vladivostok", "America/St_Johns", "Europe/Moscow")


def first(body: str, name: str) -> str | None:
    """The first raw value of a field as the server received it."""
    values = received(body).getlist(name)
    return values[0] if values else None


@pytest.fixture
def anonymous(new_client, clock):
    """An anonymous visitor's poster, with the clock frozen."""
    clock.set(NOW)
    return Poster(new_client(), "/login")


@st.composite
def registrations(draw):
    data = draw(
        form(
            {
                "username": USERNAME,
                "email": EMAIL,
                "password": STRONG,
                "confirm": STRONG,
                "role": pick("client", "specialist"),
                "timezone": ZONE,
                "language": pick("en", "ru"),
                "display_name": WORDS,
                "specialty": pick("Psychologist", "Логопед", "Coach 🧭"),
                "bio": WORDS,
            }
        )
    )
    if draw(st.booleans()):
        data["confirm"] = data["password"]
    return data


@FUZZ
@given(data=registrations())
def test_register(anonymous, tally, data):
    before = fingerprint()
    response, body = anonymous.post("/register", data)
    if response.status_code != 302:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 400, 429))
    tally["accepted"] += 1
    email = cleaned(body, "email")
    info = validate_email(email, check_deliverability=False)
    stored = info.ascii_email or info.normalized
    user = db.session.scalars(select(User).where(User.username == cleaned(body, "username"))).one_or_none()
    if user is None:  # an earlier example took the address: the same answer, nothing created, its owner emailed
        after = fingerprint()
        assert (after["users"], after["auth_tokens"]) == (before["users"], before["auth_tokens"])
        assert after["outbox_emails"][0] == before["outbox_emails"][0] + 1
        assert db.session.scalar(select(func.count()).where(func.lower(User.email) == stored.lower())) == 1
        return
    assert user.email == stored
    assert verify_password(user.password_hash, first(body, "password"))
    assert (user.role, user.timezone, user.locale) == (
        first(body, "role"),
        first(body, "timezone"),
        first(body, "language"),
    )
    assert user.display_name == (cleaned(body, "display_name") or None)
    specialist = user.role == "specialist"
    assert user.specialty == (cleaned(body, "specialty") if specialist else None)
    assert user.bio == ((cleaned(body, "bio") or None) if specialist else None)
    assert user.confirmed_at is None


LOGIN = form(
    {
        "login": pick("fuzzer", "FUZZER", " fuzzer ", "fuzzer@example.com", "Fuzzer@Example.com"),
        "password": pick(PASSWORD),
        "remember": pick("y", "", "on"),
    }
)
NEXT = st.one_of(
    st.just(""), pick("/profile", "//evil.example/", "https://evil.example/", "/\\evil", "javascript:x"), hostile
)


@pytest.fixture
def fuzzer(db):
    """The id of a confirmed account."""
    return make_user(username="fuzzer", email="fuzzer@example.com").id


@pytest.fixture
def waiting(db):
    return make_user(username="waiting", email="waiting@example.com", confirmed=False)


@FUZZ
@given(data=LOGIN, next_=NEXT)
def test_login(fuzzer, anonymous, redis_client, run_id, tally, data, next_):
    before = fingerprint()
    response, body = anonymous.post(f"/login?next={quoted(next_)}", data)
    if response.status_code != 302:
        tally["refused"] += 1
        refused_cleanly(response, before, (422, 429, 400))
        with anonymous.client.session_transaction() as session:
            assert "_user_id" not in session
    else:
        tally["accepted"] += 1
        assert cleaned(body, "login").lower() in ("fuzzer", "fuzzer@example.com")
        assert first(body, "password") == PASSWORD
        assert on_site(response.location)
        assert fingerprint() == before  # logging in writes nothing
        anonymous.client._cookies.clear()
        anonymous.refresh()
    # Failures of this one account would soon lock it (5 per 15 minutes): start each example afresh.
    for key in redis_client.scan_iter(match=f"{run_id}:throttle*", count=1000):
        redis_client.delete(key)


def _email_form_test(poster, tally, url, data, owner, app):
    """Resend and reset: the same answer and the same single write for any address; handling it issues a token
    and an email only for the owner's address."""
    before = fingerprint()
    response, body = poster.post(url, data)
    if response.status_code != 302:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 400, 429))
    tally["accepted"] += 1
    assert response.location.endswith("/login")
    after = fingerprint()
    assert [t for t in after if after[t] != before[t]] == ["account_email_requests"]
    (request_id,) = db.session.scalars(select(AccountEmailRequest.id)).all()
    db.session.remove()
    with app.app_context():  # what the worker does; its email goes to a queue no worker reads
        assert email_requests.handle(request_id) == "handled"
        db.session.remove()
    handled = fingerprint()
    if cleaned(body, "email").lower() == owner.lower():
        assert handled["auth_tokens"][0] == before["auth_tokens"][0] + 1
        assert handled["outbox_emails"][0] == before["outbox_emails"][0] + 1
    else:
        assert handled == before


EMAIL_FORM = form(
    {
        "email": st.one_of(
            pick("waiting@example.com", "FUZZER@example.com", " waiting@example.com", "fuzzer@example.com"), EMAIL
        )
    }
)


@FUZZ
@given(data=EMAIL_FORM)
def test_resend_confirmation(waiting, anonymous, tally, fuzz_app, data):
    _email_form_test(anonymous, tally, "/confirm/resend", data, "waiting@example.com", fuzz_app)


@FUZZ
@given(data=EMAIL_FORM)
def test_reset_request(fuzzer, anonymous, tally, fuzz_app, data):
    _email_form_test(anonymous, tally, "/reset-password", data, "fuzzer@example.com", fuzz_app)


@FUZZ
@given(
    data=form({"new_password": STRONG, "confirm": STRONG}),
    same=st.booleans(),
    token=st.one_of(st.just(None), st.just(None), hostile),
)
def test_reset_password(fuzzer, anonymous, tally, data, same, token):
    if token is None:
        if "link" not in tally.state:
            tally.state["link"] = tokens.issue_token(db.session.get(User, fuzzer), tokens.RESET)
            db.session.commit()
        token = tally.state["link"]
    if same:
        data["confirm"] = data["new_password"]
    before = fingerprint()
    response, body = anonymous.post(f"/reset-password/{quoted(token)}", data)
    if response.status_code != 302:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 404, 400))
    tally["accepted"] += 1
    assert verify_password(db.session.get(User, fuzzer).password_hash, first(body, "new_password"))
    del tally.state["link"]  # used: the next valid example needs a new link


@pytest.fixture
def member(new_client, clock):
    """A logged-in specialist's poster (the profile with every field), with the clock frozen."""
    clock.set(NOW)
    user = make_user("specialist", username="member", email="member@example.com")
    poster = Poster(new_client(user), "/profile")
    poster.user_id = user.id
    return poster


PROFILE = form(
    {
        "profile-display_name": WORDS,
        "profile-timezone": ZONE,
        "profile-language": pick("en", "ru"),
        "profile-specialty": pick("Psychologist", "Логопед", "Coach 🧭"),
        "profile-bio": WORDS,
        "profile-reminders_enabled": pick("y", MISSING),  # a checkbox: sent ticked, left out unticked
        "profile-submit": pick("Save profile"),
    }
)


@FUZZ
@given(data=PROFILE)
def test_profile(member, tally, data):
    before = fingerprint()
    was = db.session.get(User, member.user_id)
    old = {
        "display_name": was.display_name,
        "timezone": was.timezone,
        "language": was.locale,
        "specialty": was.specialty,
        "bio": was.bio,
    }
    response, body = member.post("/profile", data)
    if response.status_code != 302:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 200, 400))
    tally["accepted"] += 1
    user = db.session.get(User, member.user_id)

    def sent(name: str, value):
        """What a field holds once saved: one left out of the submission keeps its value (WTForms)."""
        return value if f"profile-{name}" in received(body) else old[name]

    assert user.display_name == sent("display_name", cleaned(body, "profile-display_name") or None)
    assert user.timezone == sent("timezone", first(body, "profile-timezone"))
    assert user.locale == sent("language", first(body, "profile-language"))
    assert user.specialty == sent("specialty", cleaned(body, "profile-specialty"))
    assert user.bio == sent("bio", cleaned(body, "profile-bio") or None)
    # A checkbox: ticked when sent with a value, unticked when left out.
    assert user.reminders_enabled is (first(body, "profile-reminders_enabled") not in (None, "", "false"))
    member.flashes()


PASSWORD_CHANGE = form(
    {
        "password-current_password": pick(PASSWORD),
        "password-new_password": STRONG,
        "password-confirm": STRONG,
        "password-submit": pick("Change password"),
    }
)


@FUZZ
@given(data=PASSWORD_CHANGE, same=st.booleans())
def test_password_change(member, tally, data, same):
    if same:
        data["password-confirm"] = data["password-new_password"]
    before = fingerprint()
    response, body = member.post("/profile", data)
    if response.status_code != 302:
        tally["refused"] += 1
        return refused_cleanly(response, before, (422, 200, 400))
    tally["accepted"] += 1
    user = db.session.get(User, member.user_id)
    assert verify_password(user.password_hash, first(body, "password-new_password"))
    # Back to the known password for the next example; this session stays valid.
    user.password_hash = password_hash()
    db.session.commit()
    member.flashes()


@FUZZ
@given(
    lang=st.booleans().flatmap(
        lambda ok: pick("en", "ru") if ok else st.one_of(hostile, st.lists(hostile, max_size=3))
    ),
    next_=NEXT,
    extra=form({}),
)
def test_language_switch(member, tally, lang, next_, extra):
    before = fingerprint()
    locale = db.session.get(User, member.user_id).locale
    response, body = member.post("/language", {**extra, "lang": lang, "next": next_})
    assert response.status_code == 302 and on_site(response.location)
    chosen = first(body, "lang")
    if chosen in ("en", "ru"):
        tally["accepted"] += 1
        assert db.session.get(User, member.user_id).locale == chosen
    else:
        tally["refused"] += 1
        assert db.session.get(User, member.user_id).locale == locale
        assert fingerprint() == before
