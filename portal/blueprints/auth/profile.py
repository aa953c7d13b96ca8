"""The profile page: personal details, the password change, the calendar feed's address and API tokens."""

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from portal.blueprints.auth import bp
from portal.blueprints.auth.api_tokens import ApiTokenSection
from portal.blueprints.auth.forms import PasswordChangeForm, ProfileForm
from portal.blueprints.auth.sessions import start_session
from portal.blueprints.feeds.forms import FeedResetForm
from portal.devices import Devices, remember_device
from portal.extensions import db
from portal.feeds import feed_urls, reset_feed_token
from portal.i18n import gettext as _
from portal.services import DomainError, accounts


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    """Edit display name, time zone, language, reminders (and specialty and bio for specialists); change the password;
    see and reset the calendar feed's address."""
    user = current_user._get_current_object()
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
        user.reminders_enabled = form.reminders_enabled.data
        if is_specialist:
            user.specialty = form.specialty.data
            user.bio = form.bio.data or None
        db.session.commit()
        session["lang"] = user.locale
        flash(_("Your profile is saved."), "success")
        return redirect(url_for("auth.profile"))
    feed_form = FeedResetForm(prefix="feed")
    if feed_form.submit.data and feed_form.validate_on_submit() and feed_urls(user):
        reset_feed_token(user)
        db.session.commit()
        flash(_("Your feed has a new link. The old one no longer works: subscribe again with the new one."), "success")
        return redirect(url_for("auth.profile"))
    throttled = False
    if password_form.submit.data and password_form.validate_on_submit():
        try:
            accounts.change_password(
                user,
                password_form.current_password.data,
                password_form.new_password.data,
                _address(),
                Devices.from_request(),
            )
            db.session.commit()
        except DomainError as error:
            db.session.rollback()
            password_form.apply_domain_error(error)
            throttled = isinstance(error, accounts.PasswordCheckThrottled)
        else:
            return _password_changed(user)
    # Section API tokens (portal/blueprints/auth/api_tokens.py): create (shown on this page) or revoke.
    tokens = ApiTokenSection(user)
    if (answer := tokens.handle()) is not None:
        return answer
    status = 429 if throttled else 422 if (form.errors or password_form.errors or tokens.errors) else 200
    page = render_template(
        "auth/profile.html",
        form=form,
        password_form=password_form,
        feed_form=feed_form,
        feed=feed_urls(user),
        tokens=tokens,
    )
    return page, status


def _address() -> str:
    """The client's address (as trusted proxies forwarded it, when there are any: portal/proxy.py)."""
    return request.remote_addr or ""


def _password_changed(user):
    """This session carries on under the new password; other sessions died with the old session token."""
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
    start_session(user, remember=remembered)
    flash(_("Your password is changed. Other sessions have been logged out."), "success")
    response = redirect(url_for("auth.profile"))
    remember_device(response, user)  # the browser's old device cookie died with the old password
    return response
