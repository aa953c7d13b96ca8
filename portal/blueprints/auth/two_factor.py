"""Two-factor authentication pages: setting it up (QR code and secret), the login's code step, turning it off.

ADMIN_REQUIRE_2FA (admins set it up before anything else) is enforced with the session checks, in
portal/auth_session.py."""

import io
from datetime import timedelta

import segno
from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from markupsafe import Markup

from portal.access import home_endpoint, safe_next
from portal.blueprints.auth import bp
from portal.blueprints.auth.forms import CodeForm, NewRecoveryCodesForm, TurnOffForm, TurnOnForm
from portal.blueprints.auth.sessions import start_session
from portal.clock import utcnow
from portal.devices import Devices, remember_device
from portal.extensions import db
from portal.i18n import gettext as _
from portal.models import User
from portal.services import DomainError, two_factor

PENDING = "two_factor_pending"  # the account whose password was right, waiting for its code
SETUP = "two_factor_setup"  # the secret being set up, until a code of it is shown
PENDING_MINUTES = 5


def qr_svg(text: str) -> Markup:
    """The QR code of `text` as inline SVG (drawn here: no script, no image request, the CSP stays strict)."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(
        buffer,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=5,
        border=4,
        light="#fff",
        omitsize=True,
        svgclass="qr-code",
        lineclass=None,
    )
    svg = buffer.getvalue().decode()
    # The picture is described by the page around it; screen readers read the secret below it instead.
    # segno writes only its own markup (the text is encoded in the modules, never written out): safe as it is.
    return Markup(svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1))  # noqa: S704


def grouped(secret: str) -> str:
    """The secret in groups of four characters, easier to type into an app."""
    return " ".join(secret[n : n + 4] for n in range(0, len(secret), 4))


def _address() -> str:
    return request.remote_addr or ""


@bp.route("/profile/two-factor", methods=["GET", "POST"], endpoint="two_factor")
@login_required
def two_factor_page():
    """Set up two-factor authentication (QR code, secret, a code to prove it works), or turn it off."""
    user = current_user._get_current_object()
    if user.has_two_factor:
        return _manage(user)
    # Kept in the session (encrypted: the session cookie is signed, not secret) until a code of it is shown.
    stored = session.get(SETUP)
    secret = (two_factor.decrypt_secret(stored) if isinstance(stored, str) else None) or two_factor.new_secret()
    session[SETUP] = two_factor.encrypt_secret(secret)
    form = TurnOnForm()
    status = 200
    if form.validate_on_submit():
        outcome = form.commit(lambda: two_factor.turn_on(user, secret, form.code.data), above_form=True)
        if outcome.done:
            session.pop(SETUP, None)
            # Shown in this answer only: the page is not cached (no-store) and the codes are stored hashed.
            return render_template("auth/recovery_codes.html", codes=outcome.value)
    if form.errors or form.form_errors:
        status = 422
    return render_template(
        "auth/two_factor.html",
        form=form,
        qr=qr_svg(two_factor.provisioning_uri(user, secret)),
        secret=grouped(secret),
    ), status


def _with_code(field, check):
    """Run `check()` (a service that checks the code typed in `field`) and commit: (200, its result). A wrong
    code is shown next to the field, nothing kept: (422, None); too many failed attempts: (429, None)."""
    try:
        result = check()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        field.errors = [*field.errors, error.message]
        return (429 if isinstance(error, two_factor.CodeThrottled) else 422), None
    return 200, result


def _manage(user: User):
    """Two-factor authentication is on: the page, and its turn-off form posted here."""
    form = TurnOffForm()
    status = 200
    if form.validate_on_submit():
        status, _done = _with_code(
            form.code, lambda: two_factor.turn_off(user, form.code.data, _address(), Devices.from_request())
        )
        if status == 200:
            flash(_("Two-factor authentication is off."), "success")
            return redirect(url_for("auth.profile"))
    return _manage_page(user, form, NewRecoveryCodesForm(formdata=None), status)


def _manage_page(user: User, form: TurnOffForm, codes_form: NewRecoveryCodesForm, status: int = 200):
    """How many recovery codes are left, the form that makes new ones and the one that turns it off (the form
    that was posted with its errors, the other empty)."""
    if status == 200 and (form.errors or codes_form.errors):
        status = 422
    return render_template(
        "auth/two_factor_on.html",
        form=form,
        codes_form=codes_form,
        remaining=two_factor.remaining_recovery_codes(user),
    ), status


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
@login_required
def new_recovery_codes():
    """Ten new recovery codes (the old ones stop working), shown once, after a code from the app."""
    user = current_user._get_current_object()
    if not user.has_two_factor:
        return redirect(url_for("auth.two_factor"), code=303)
    codes_form = NewRecoveryCodesForm()
    status = 200
    if codes_form.validate_on_submit():
        status, codes = _with_code(
            codes_form.current_code,
            lambda: two_factor.replace_recovery_codes(
                user, codes_form.current_code.data, _address(), Devices.from_request()
            ),
        )
        if status == 200:
            return render_template("auth/recovery_codes.html", codes=codes, renewed=True)
    return _manage_page(user, TurnOffForm(formdata=None), codes_form, status)


def start_code_step(user: User, remember: bool, next_url: str | None):
    """The password was right and the account uses two-factor authentication: ask for the code (not logged in
    yet). The pending state lives in the signed session and expires after a few minutes."""
    session.pop(SETUP, None)
    session[PENDING] = {
        "user": user.id,
        "token": user.session_token,
        "remember": bool(remember),
        "next": next_url,
        "until": (utcnow() + timedelta(minutes=PENDING_MINUTES)).timestamp(),
    }
    return redirect(url_for("auth.login_code"), code=303)


def _pending_user() -> tuple[User | None, dict]:
    """The account waiting for its code, if the wait has not expired and its sessions were not ended."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("user"), int):
        return None, {}
    if not isinstance(pending.get("until"), (int, float)) or pending["until"] < utcnow().timestamp():
        return None, {}
    user = db.session.get(User, pending["user"])
    if user is None or user.session_token != pending.get("token") or user.is_blocked or not user.has_two_factor:
        return None, {}
    return user, pending


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step of logging in: an authentication code (or a recovery code), throttled like passwords."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please log in again: the time to enter the code has passed."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        status, used = _with_code(
            form.code, lambda: two_factor.check_code(user, form.code.data, _address(), Devices.from_request())
        )
        if status == 200:
            session.pop(PENDING, None)
            start_session(user, remember=pending.get("remember", False))
            if used == "recovery":
                left = two_factor.remaining_recovery_codes(user)
                flash(_("You logged in with a recovery code. Recovery codes left: %(count)s.", count=left), "info")
            response = redirect(safe_next(pending.get("next")) or url_for(home_endpoint(user)))
            remember_device(response, user)
            return response
    if status == 200 and form.errors:
        status = 422
    return render_template("auth/login_code.html", form=form), status
