"""Register, confirm, log in and out, reset and change the password, edit the profile."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.access import home_endpoint, safe_next
from portal.blueprints.auth import bp
from portal.blueprints.auth.forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegisterForm,
    ResendForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from portal.extensions import db, limiter
from portal.forms import EmptyForm
from portal.services import DomainError, accounts
from portal.services.tokens import TokenInvalid, find_token


def _register_limit():
    return current_app.config["REGISTER_LIMIT"]


def _reset_limit():
    return current_app.config["RESET_LIMIT"]


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_register_limit, methods=["POST"])
def register():
    """Create an account; a confirmation link is emailed."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = RegisterForm()
    if not form.is_submitted():
        form.language.data = request.accept_languages.best_match(["en", "ru"]) or "en"
        form.role.data = request.args.get("role") if request.args.get("role") in ("client", "specialist") else "client"
    if form.validate_on_submit():
        try:
            user = accounts.register(
                username=form.username.data,
                email=form.email.data,
                password=form.password.data,
                role=form.role.data,
                timezone=form.timezone.data,
                locale=form.language.data,
                specialty=form.specialty.data,
                bio=form.bio.data,
                display_name=form.display_name.data,
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            if not form.apply_domain_error(error):
                flash(error.message, "error")
        else:
            session["lang"] = user.locale
            return redirect(url_for("auth.registered"))
    return render_template("auth/register.html", form=form), 200 if not form.errors else 422


@bp.route("/register/done")
def registered():
    """Tell the new user to look for the confirmation email."""
    return render_template("auth/registered.html")


@bp.route("/confirm/<token>")
def confirm(token):
    """Confirm an email address from the emailed link."""
    try:
        user = accounts.confirm(token)
        db.session.commit()
    except TokenInvalid:
        db.session.rollback()
        return render_template("auth/token_invalid.html", kind="confirm"), 404
    flash(_("Thank you, %(username)s: your email address is confirmed. You can log in now.", username=user.username), "success")
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Log in by username or email; failures are throttled."""
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user)))
    form = LoginForm()
    resend_form = None
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.login.data, form.password.data, request.remote_addr or "")
        except accounts.LoginRefused as refusal:
            status = {"throttled": 429, "blocked": 403}.get(refusal.reason, 200)
            form.form_errors.append(refusal.message)
            if refusal.reason == "unconfirmed":
                resend_form = ResendForm(formdata=None, email=refusal.user.email)
        else:
            login_user(user, remember=form.remember.data)
            session["lang"] = user.locale
            target = safe_next(request.args.get("next"))
            return redirect(target or url_for(home_endpoint(user)))
    elif form.errors:
        status = 422
    return render_template("auth/login.html", form=form, resend_form=resend_form), status


@bp.route("/confirm/resend", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def resend_confirmation():
    """Send a new confirmation link; the answer is the same for any address."""
    form = ResendForm()
    if form.validate_on_submit():
        accounts.resend_confirmation(form.email.data)
        db.session.commit()
        flash(_("If an unconfirmed account uses this address, a new confirmation link is on its way."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/resend.html", form=form), 200 if not form.errors else 422


@bp.route("/logout", methods=["POST"])
def logout():
    """End this and every other session of the account."""
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("main.index"))
    if current_user.is_authenticated:
        current_user.rotate_session_token()
        db.session.commit()
        logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit(_reset_limit, methods=["POST"])
def reset_request():
    """Ask for a reset link; the same answer whether or not the address exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses this address, a reset link is on its way. It is valid for one hour."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form), 200 if not form.errors else 422


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Set a new password from the emailed link."""
    try:
        found = find_token(token, "reset")
    except TokenInvalid:
        return render_template("auth/token_invalid.html", kind="reset"), 404
    form = ResetPasswordForm()
    form._username = found.user.username
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.new_password.data)
            db.session.commit()
        except TokenInvalid:
            db.session.rollback()
            return render_template("auth/token_invalid.html", kind="reset"), 404
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is changed. Please log in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form), 200 if not form.errors else 422


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit display name, time zone, language (and specialty and bio for specialists)."""
    user = current_user
    is_specialist = user.role == "specialist"
    form = ProfileForm(obj=user, is_specialist=is_specialist, prefix="profile")
    if not form.is_submitted():
        form.language.data = user.locale
    password_form = PasswordChangeForm(prefix="password")
    password_form._username = user.username
    if form.submit.data and form.validate_on_submit():
        user.display_name = form.display_name.data or None
        user.timezone = form.timezone.data
        user.locale = form.language.data
        if is_specialist:
            user.specialty = form.specialty.data
            user.bio = form.bio.data or None
        db.session.commit()
        session["lang"] = user.locale
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            accounts.change_password(user, password_form.current_password.data, password_form.new_password.data)
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            password_form.apply_domain_error(error)
        else:
            # Other sessions die with the old token; this one carries on with the new one.
            login_user(user)
            flash(_("Your password is changed. Other sessions have been logged out."), "success")
            return redirect(url_for("auth.profile"))
    status = 422 if (form.errors or password_form.errors) else 200
    return render_template("auth/profile.html", form=form, password_form=password_form), status
