"""Account forms."""

import json

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp, ValidationError

from portal.forms import PortalForm
from portal.i18n import (
    LANGUAGES,
    is_known_timezone,
    is_timezone,
    timezone_names,
    zone_aliases,
    zone_label,
    zone_region,
)
from portal.i18n import lazy_gettext as _l
from portal.security import password_problem
from portal.services.accounts import SELF_REGISTER_ROLES
from portal.words import region_label, role_labels

USERNAME_RULE = Regexp(r"^[A-Za-z0-9._-]+\Z", message=_l("Use only letters A–Z, digits and . _ -"))


def email_address(form, field):
    """A deliverable-looking address; stored in its ASCII form (IDN domains as punycode) so SMTP can send to it."""
    if field.errors:  # already refused (too long): one message is enough
        return
    try:
        info = validate_email(field.data or "", check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValidationError(_l("Enter a valid email address, e.g. name@example.com.")) from None
    field.data = info.ascii_email or info.normalized


def timezone_choices(kept: str | None = None) -> dict:
    """The time zone select's options grouped by region ({region: [(IANA name, label)]}, rendered as
    <optgroup>s); `kept`, an account's zone no longer in the list, stays selectable under "Other"."""
    groups: dict = {}
    for name in timezone_names():
        groups.setdefault(region_label(zone_region(name)), []).append((name, zone_label(name)))
    if kept and not is_timezone(kept):
        groups[region_label("Other")] = [(kept, zone_label(kept))]
    return groups


class TimezoneField(SelectField):
    """One of the curated zones, or the zone the account already has (`kept`)."""

    kept: str | None = None

    def pre_validate(self, form):
        data = self.data
        if not isinstance(data, str) or not (is_timezone(data) or (data == self.kept and is_known_timezone(data))):
            raise ValidationError(_l("Choose a time zone from the list."))


class ProfileFieldsMixin:
    def init_choices(self, kept: str | None = None):
        self.timezone.kept = kept
        self.timezone.choices = timezone_choices(kept)
        self.language.choices = list(LANGUAGES.items())
        if not self.is_submitted():
            self.timezone.data = self.timezone.data or current_app.config["DEFAULT_TIMEZONE"]


class RegisterForm(ProfileFieldsMixin, PortalForm):
    username = StringField(
        _l("Username"),
        validators=[InputRequired(), Length(min=3, max=32, message=_l("Use 3 to 32 characters.")), USERNAME_RULE],
        render_kw={"autocomplete": "username"},
    )
    email = StringField(
        _l("Email"), validators=[InputRequired(), Length(max=254), email_address], render_kw={"autocomplete": "email"}
    )
    password = PasswordField(_l("Password"), validators=[InputRequired()], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[InputRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    role = SelectField(
        _l("Role"), choices=[(role, role_labels()[role]) for role in SELF_REGISTER_ROLES], default="client"
    )
    timezone = TimezoneField(_l("Time zone"), validate_choice=False)
    language = SelectField(_l("Language"))
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=64)])
    specialty = StringField(
        _l("Specialty"),
        validators=[Length(max=100)],
        description=_l("Specialists only, e.g. “Psychologist”."),
    )
    bio = TextAreaField(_l("Bio"), validators=[Length(max=1000)], description=_l("Specialists only; optional."))
    submit = SubmitField(_l("Create account"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_choices()
        self.role.render_kw = {"data-role-select": "true"}
        if not self.is_submitted():
            # The browser's zone is preselected by script; without it DEFAULT_TIMEZONE stays.
            # Some browsers report an older name of a zone (Asia/Calcutta): the script finds it under its own.
            aliases = json.dumps(zone_aliases(), separators=(",", ":"))
            self.timezone.render_kw = {"data-detect-timezone": "true", "data-zone-aliases": aliases}

    def validate_password(self, field):
        problem = password_problem(field.data or "", self.username.data or "", self.email.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_specialty(self, field):
        if self.role.data == "specialist" and not field.data:
            raise ValidationError(_l("Specialists need a specialty."))


class LoginForm(PortalForm):
    login = StringField(
        _l("Username or email"), validators=[InputRequired(), Length(max=254)], render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"), validators=[InputRequired(), Length(max=128)], render_kw={"autocomplete": "current-password"}
    )
    remember = BooleanField(_l("Remember me"))
    submit = SubmitField(_l("Log in"))


class EmailForm(PortalForm):
    email = StringField(
        _l("Email"), validators=[InputRequired(), Length(max=254), email_address], render_kw={"autocomplete": "email"}
    )


class ResendForm(EmailForm):
    submit = SubmitField(_l("Resend confirmation email"))


class ResetRequestForm(EmailForm):
    submit = SubmitField(_l("Send reset link"))


class NewPasswordMixin:
    def validate_new_password(self, field):
        problem = password_problem(field.data or "", getattr(self, "_username", ""))
        if problem:
            raise ValidationError(problem)


class ResetPasswordForm(NewPasswordMixin, PortalForm):
    new_password = PasswordField(
        _l("New password"), validators=[InputRequired()], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Confirm password"),
        validators=[InputRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set new password"))


class ProfileForm(ProfileFieldsMixin, PortalForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=64)])
    timezone = TimezoneField(_l("Time zone"), validate_choice=False)
    language = SelectField(_l("Language"))
    specialty = StringField(_l("Specialty"), validators=[Length(max=100)])
    bio = TextAreaField(_l("Bio"), validators=[Length(max=1000)])
    reminders_enabled = BooleanField(_l("Email me reminders"))
    submit = SubmitField(_l("Save profile"))

    def __init__(self, *args, is_specialist=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_choices(kept=getattr(kwargs.get("obj"), "timezone", None))
        if not is_specialist:
            del self.specialty
            del self.bio
        self._is_specialist = is_specialist

    def validate_specialty(self, field):
        if not field.data:
            raise ValidationError(_l("Specialists need a specialty."))


class PasswordChangeForm(NewPasswordMixin, PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=128)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"), validators=[InputRequired()], render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Confirm new password"),
        validators=[InputRequired(), EqualTo("new_password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


def code_field(label, description, numeric: bool = False) -> StringField:
    """A code typed from an authenticator app, or a recovery code (`numeric`: app codes only, digits keyboard)."""
    extra = {"inputmode": "numeric"} if numeric else {"autocapitalize": "off"}
    return StringField(
        label,
        validators=[InputRequired(), Length(max=32)],
        description=description,
        render_kw={"autocomplete": "one-time-code", "spellcheck": "false", **extra},
    )


class CodeForm(PortalForm):
    """An authentication code from the app (six digits) or a recovery code."""

    code = code_field(
        _l("Authentication code"), _l("The six digits your authenticator app shows, or one of your recovery codes.")
    )
    submit = SubmitField(_l("Log in"))


class TurnOnForm(PortalForm):
    code = code_field(_l("Code"), _l("The six digits your authenticator app shows for this account."), numeric=True)
    submit = SubmitField(_l("Turn on"))


class NewRecoveryCodesForm(PortalForm):
    # Not `code`: it shares its page with the turn-off form, and each field needs an id of its own.
    current_code = code_field(_l("Code"), _l("A code from your authenticator app, or one of your recovery codes."))
    make_codes = SubmitField(_l("New recovery codes"))  # not `submit`: its id would be the turn-off button's


class TurnOffForm(PortalForm):
    code = code_field(_l("Code"), _l("A code from your authenticator app, or one of your recovery codes."))
    submit = SubmitField(_l("Turn off"))
