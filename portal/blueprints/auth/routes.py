"""Register, confirm, log in and out, reset the password."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user, logout_user

from portal.access import home_endpoint, safe_next
from portal.blueprints.auth import bp
from portal.blueprints.auth.forms import LoginForm, RegisterForm, ResendForm, ResetPasswordForm, ResetRequestForm
from portal.blueprints.auth.sessions import end_session, start_session
from portal.blueprints.auth.two_factor import start_code_step
from portal.devices import Devices, remember_device
from portal.extensions import db
from portal.i18n import gettext as _
from portal.services import accounts, email_requests, throttle
from portal.services.tokens import RESET, TokenInvalid, find_token


def _address() -> str:
    return request.remote_addr or ""


def _refuse_flood(form, kind: str) -> bool:
    """True (and a message on the form) when this address sent too many such requests lately."""
    if throttle.request_allowed(kind, _address()):
        return False
    form.form_errors.append(_("Too many requests from your network. Please try again in an hour."))
    return True


def _page(template: str, form, status: int | None = None, **context):
    """The form page again: 422 when it has errors, unless a status is given."""
    return render_template(template, form=form, **context), status or (422 if form.errors else 200)


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Create an account; a confirmation link is emailed (a taken address: its owner is, the answer is the same)."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = RegisterForm()
    if not form.is_submitted():
        form.language.data = str(get_locale())
        form.role.data = request.args.get("role") if request.args.get("role") in ("client", "specialist") else "client"
    if not form.validate_on_submit():
        return _page("auth/register.html", form)
    if _refuse_flood(form, "register"):
        return _page("auth/register.html", form, 429)
    registered = form.commit(
        lambda: accounts.register(
            username=form.username.data,
            email=form.email.data,
            password=form.password.data,
            role=form.role.data,
            timezone=form.timezone.data,
            locale=form.language.data,
            specialty=form.specialty.data,
            bio=form.bio.data,
            display_name=form.display_name.data,
        ),
        above_form=True,
    )
    if not registered.done:
        return _page("auth/register.html", form, 422)
    # The same answer whether or not the address already had an account (its owner is emailed instead).
    session["lang"] = form.language.data
    return redirect(url_for("auth.registered"))


@bp.route("/register/done")
def registered():
    """Tell the new user to look for the confirmation email."""
    return render_template("auth/registered.html")


@bp.route("/confirm/<path:token>")
def confirm(token):
    """Confirm an email address from the emailed link."""
    try:
        user = accounts.confirm(token)
        db.session.commit()
    except TokenInvalid:
        db.session.rollback()
        return render_template("auth/token_invalid.html", kind="confirm"), 404
    flash(
        _("Thank you, %(username)s: your email address is confirmed. You can log in now.", username=user.username),
        "success",
    )
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by username or email; failures are throttled. With two-factor authentication a code is asked next."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for(home_endpoint(current_user)))
    form = LoginForm()
    if not form.validate_on_submit():
        return _page("auth/login.html", form, resend_form=None)
    try:
        user = accounts.authenticate(form.login.data, form.password.data, _address(), Devices.from_request())
    except accounts.LoginRefused as refusal:
        form.form_errors.append(refusal.message)
        resend_form = None
        if refusal.reason == "unconfirmed":
            resend_form = ResendForm(formdata=None, email=refusal.user.email)
        status = {"throttled": 429, "blocked": 403}.get(refusal.reason, 422)
        return _page("auth/login.html", form, status, resend_form=resend_form)
    if user.has_two_factor:
        return start_code_step(user, form.remember.data, safe_next(request.args.get("next")))
    start_session(user, remember=form.remember.data)
    response = redirect(safe_next(request.args.get("next")) or url_for(home_endpoint(user)))
    remember_device(response, user)
    return response


@bp.route("/confirm/resend", methods=["GET", "POST"])
def resend_confirmation():
    """Send a new confirmation link; the answer is the same for any address."""
    return _ask_by_email(
        ResendForm(),
        "auth/resend.html",
        email_requests.resend_confirmation,
        _("If an unconfirmed account uses this address, a new confirmation link is on its way."),
    )


def _ask_by_email(form, template: str, send, done: str):
    """A page that takes an email address and has a link sent there: throttled like a flood, answered the
    same way whether or not an account uses the address."""
    if not form.validate_on_submit():
        return _page(template, form)
    if _refuse_flood(form, "reset"):
        return _page(template, form, 429)
    send(form.email.data)
    db.session.commit()
    flash(done, "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout", methods=["POST"])
def logout():
    """End this and every other session of the account."""
    # The CSRF check is global: a POST without a valid token never gets here (400).
    if current_user.is_authenticated:
        current_user.rotate_session_token()
        db.session.commit()
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset-password", methods=["GET", "POST"])
def reset_request():
    """Ask for a reset link; the same answer whether or not the address exists."""
    return _ask_by_email(
        ResetRequestForm(),
        "auth/reset_request.html",
        email_requests.request_password_reset,
        _("If an account uses this address, a reset link is on its way. It is valid for one hour."),
    )


@bp.route("/reset-password/<path:token>", methods=["GET", "POST"])
def reset_password(token):
    """Set a new password from the emailed link."""
    try:
        found = find_token(token, RESET)
    except TokenInvalid:
        return render_template("auth/token_invalid.html", kind="reset"), 404
    form = ResetPasswordForm()
    form._username = found.user.username
    if not form.validate_on_submit():
        return _page("auth/reset_password.html", form)
    try:
        accounts.reset_password(token, form.new_password.data)
        db.session.commit()
    except TokenInvalid:  # used by a parallel request meanwhile
        db.session.rollback()
        return render_template("auth/token_invalid.html", kind="reset"), 404
    if current_user.is_authenticated:
        logout_user()
    flash(_("Your password is changed. Please log in with the new one."), "success")
    return redirect(url_for("auth.login"))
