"""The profile's API tokens section: create a named token (its value shown once), revoke one, list them."""

from flask import flash, redirect, url_for
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import InputRequired, Length

from portal.api import tokens
from portal.forms import PortalForm
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.models import User


class ApiTokenForm(PortalForm):
    """Name a new token."""

    name = StringField(
        _l("Name"),
        validators=[
            InputRequired(message=_l("Give the token a name.")),
            Length(max=tokens.NAME_MAX, message=_l("Use at most 64 characters.")),
        ],
        description=_l("What the token is for, e.g. “Calendar sync script”."),
    )
    submit = SubmitField(_l("Create token"))


class RevokeTokenForm(PortalForm):
    """Revoke one token (its id in a hidden field)."""

    token_id = HiddenField()
    submit = SubmitField(_l("Revoke"))


class ApiTokenSection:
    """The section's forms, the value of a token just created, and the list."""

    def __init__(self, user: User):
        self.user = user
        self.form = ApiTokenForm(prefix="token")
        self.revoke_form = RevokeTokenForm(prefix="revoke")
        self.created: str | None = None

    def handle(self):
        """Handle this section's POST: a redirect after a revoke; None to show the page (with a new token)."""
        if self.form.submit.data and self.form.validate_on_submit():

            def create():
                token, value = tokens.create_token(self.user, self.form.name.data)
                return token.name, value

            outcome = self.form.commit(create)
            if outcome.done:
                name, self.created = outcome.value
                flash(_("The token “%(name)s” is created. Copy it now: it is shown only once.", name=name), "success")
                self.form = ApiTokenForm(prefix="token", formdata=None)
        elif self.revoke_form.submit.data and self.revoke_form.validate_on_submit():
            ident = self.revoke_form.token_id.data or ""
            token_id = int(ident) if ident.isdigit() and len(ident) < 10 else 0
            outcome = self.revoke_form.commit(lambda: tokens.revoke_token(self.user, token_id).name)
            if outcome.done:
                flash(_("The token “%(name)s” is revoked: it no longer works.", name=outcome.value), "success")
            return redirect(url_for("auth.profile", _anchor="api-tokens"), 303)
        return None

    @property
    def errors(self) -> bool:
        return bool(self.form.errors)

    def tokens(self):
        """The user's working tokens, newest first."""
        return tokens.active_tokens(self.user)
