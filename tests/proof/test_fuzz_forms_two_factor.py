"""The two-factor forms fed hostile input by Hypothesis: the set-up's code, the login's code step, the form that
turns it off and the one that makes new recovery codes. Never a 5xx; a refused code writes nothing (no secret,
no recovery code spent, no email); the right code does exactly what it should (and is undone before the next
example)."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, update

from portal.extensions import db
from portal.models import OutboxEmail, RecoveryCode, User
from portal.services import throttle
from portal.services.two_factor import _code_hash, encrypt_secret
from tests.factories import make_user
from tests.support.auth import post_login
from tests.support.fuzz import FUZZ, Poster, fingerprint, form, hostile, pick, shows_form_error

NOW = datetime(2026, 12, 8, 8, 0, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RIGHT = "<the right code>"  # replaced by the code of the moment when the example is sent
RECOVERY = "<a recovery code>"
CODES = st.one_of(
    pick(RIGHT, RIGHT, RECOVERY, "000000", "123 456", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "-12345"), hostile
)


def wrote_nothing_else(before: dict, recovery: int) -> None:
    assert fingerprint() == before
    assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == recovery


def refused(tally, response, before: dict, recovery: int) -> None:
    """A refused code: the form again with its message (or 400 for a bad token, 429 throttled), nothing written."""
    tally["refused"] += 1
    assert response.status_code in (400, 422, 429), response.status_code
    assert response.status_code == 400 or shows_form_error(response)
    wrote_nothing_else(before, recovery)


def fill(data: dict, recovery_code: str | None) -> dict:
    code = data.get("code")
    if code == RIGHT:
        data["code"] = pyotp.TOTP(SECRET).at(NOW)
    elif code == RECOVERY:
        data["code"] = recovery_code or "x"
    return data


def protect(user_id: int) -> str:
    """Turn two-factor authentication on for the user directly; one recovery code, returned."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(totp_secret=encrypt_secret(SECRET), totp_enabled_at=NOW, totp_last_step=None)
    )
    db.session.add(RecoveryCode(user_id=user_id, code_hash=_code_hash("abcde12345")))
    db.session.commit()
    return "abcde-12345"


@pytest.fixture
def scene(new_client, clock):
    clock.set(NOW)
    nina = make_user("client", username="nina")
    # Plain values: the fingerprints between examples end the session the object was loaded in.
    return SimpleNamespace(id=nina.id, username=nina.username, email=nina.email), new_client


@FUZZ
@given(data=form({"code": CODES}))
def test_turn_on(scene, tally, data):
    nina, new_client = scene
    client = new_client(nina)
    page = client.get("/profile/two-factor").get_data(as_text=True)
    secret = re.search(r'id="secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    if data.get("code") == RIGHT:
        data["code"] = pyotp.TOTP(secret).at(NOW)
    before, emails = fingerprint(), db.session.scalar(select(func.count()).select_from(OutboxEmail))
    response, _ = Poster(client, "/profile/two-factor").post("/profile/two-factor", data)
    if response.status_code == 200 and "recovery-codes" in response.get_data(as_text=True):
        tally["accepted"] += 1
        db.session.expire_all()
        assert db.session.get(User, nina.id).has_two_factor
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 10
        assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == emails + 1
        db.session.execute(delete(RecoveryCode))
        db.session.execute(delete(OutboxEmail))
        db.session.execute(update(User).values(totp_secret=None, totp_enabled_at=None, totp_last_step=None))
        db.session.commit()
        return
    assert response.status_code != 429, "setting up is not throttled"
    refused(tally, response, before, 0)


@FUZZ
@given(data=form({"code": CODES}))
def test_login_code_step(scene, tally, data):
    nina, new_client = scene
    recovery = protect(nina.id)
    throttle.clear_names(nina.username, nina.email)
    client = new_client()
    assert post_login(client, "nina").headers["Location"] == "/login/code"
    fill(data, recovery)
    before, spare = fingerprint(), db.session.scalar(select(func.count()).select_from(RecoveryCode))
    response, _ = Poster(client, "/login/code").post("/login/code", data)
    if response.status_code == 302:
        tally["accepted"] += 1
        assert response.headers["Location"] == "/client/slots"
        # Either the code of the moment (its step now spent) or the recovery code (now used) let her in.
        db.session.expire_all()
        spent_step = db.session.get(User, nina.id).totp_last_step == pyotp.TOTP(SECRET).timecode(NOW)
        used = db.session.scalar(select(RecoveryCode.used_at)) is not None
        assert spent_step != used
        assert client.get("/client/slots").status_code == 200
        return
    refused(tally, response, before, spare)
    assert client.get("/client/slots").headers["Location"].startswith("/login")  # still not logged in
    assert db.session.scalar(select(RecoveryCode.used_at)) is None  # the recovery code is still good


@FUZZ
@given(data=form({"code": CODES}))
def test_turn_off(scene, tally, data):
    nina, new_client = scene
    db.session.execute(update(User).values(totp_secret=None, totp_enabled_at=None))
    db.session.commit()
    client = new_client(nina)
    recovery = protect(nina.id)
    throttle.clear_names(nina.username, nina.email)
    fill(data, recovery)
    before, spare = fingerprint(), db.session.scalar(select(func.count()).select_from(RecoveryCode))
    response, _ = Poster(client, "/profile/two-factor").post("/profile/two-factor", data)
    if response.status_code == 302:
        tally["accepted"] += 1
        db.session.expire_all()
        assert not db.session.get(User, nina.id).has_two_factor
        assert db.session.scalar(select(func.count()).select_from(RecoveryCode)) == 0
        db.session.execute(delete(OutboxEmail))
        db.session.commit()
        return
    refused(tally, response, before, spare)


@FUZZ
@given(data=form({"current_code": CODES}))
def test_new_recovery_codes(scene, tally, data):
    nina, new_client = scene
    db.session.execute(update(User).values(totp_secret=None, totp_enabled_at=None))  # logs in with the password
    db.session.commit()
    client = new_client(nina)
    recovery = protect(nina.id)
    throttle.clear_names(nina.username, nina.email)
    code = data.get("current_code")
    if code in (RIGHT, RECOVERY):
        data["current_code"] = pyotp.TOTP(SECRET).at(NOW) if code == RIGHT else recovery
    before, spare = fingerprint(), db.session.scalar(select(func.count()).select_from(RecoveryCode))
    url = "/profile/two-factor/recovery-codes"
    response, _ = Poster(client, "/profile/two-factor").post(url, data)
    if response.status_code == 200:
        tally["accepted"] += 1
        codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", response.get_data(as_text=True))
        assert len(codes) == 10 and recovery not in codes
        db.session.expire_all()
        stored = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(stored) == 10 and _code_hash(recovery.replace("-", "")) not in stored
        assert db.session.scalars(select(OutboxEmail.kind)).all() == ["recovery_codes_new"]
        db.session.execute(delete(OutboxEmail))
        db.session.commit()
        return
    refused(tally, response, before, spare)
