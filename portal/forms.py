"""Shared form pieces: a base form that refuses control characters, the empty CSRF form, the filter forms' base,
the Specialty select, the chosen new time and the rule of a reasonable date."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from flask import abort, flash, redirect, request
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import Select

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.services.errors import DomainError, Missing

# NUL and other control characters are refused in every text field (PostgreSQL cannot store NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f]")


def strip_filter(value):
    return value.strip() if isinstance(value, str) else value


class PortalForm(FlaskForm):
    """Every text field is stripped, and refused if it holds control characters."""

    class Meta:
        def bind_field(self, form, unbound_field, options):
            filters = unbound_field.kwargs.get("filters", ())
            if unbound_field.field_class in (StringField, TextAreaField) and strip_filter not in filters:
                unbound_field.kwargs["filters"] = (strip_filter, *filters)
            return unbound_field.bind(form=form, **options)

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            data = field.data
            # Nobody types into a hidden field, and an error there would show nowhere: views check those
            # values where they use them (a `next` goes through safe_next).
            if not isinstance(data, str) or isinstance(field, HiddenField):
                continue
            pattern = _CONTROL if isinstance(field, TextAreaField) else _CONTROL_SINGLE_LINE
            if pattern.search(data):
                field.errors = [*field.errors, _l("Remove the control characters from this field.")]
                ok = False
        return ok

    def apply_domain_error(self, error) -> bool:
        """Show a service's refusal next to its field; False if it names no field of this form."""
        field = getattr(self, error.field, None) if error.field else None
        if field is None:
            return False
        field.errors = [*field.errors, error.message]
        return True

    def commit(self, change: Callable[[], object], back: str | None = None, above_form: bool = False) -> "Outcome":
        """Run `change()` (a service call) and commit. A refusal is rolled back and shown next to its field of this
        form (the view shows the page again), or, naming none, above the form (`above_form`) or flashed: with a
        redirect to `back`, or without `back` above the page shown again. A missing object is a 404."""
        try:
            value = change()
            db.session.commit()
        except Missing:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            if self.apply_domain_error(error):
                return Outcome(done=False)
            if above_form:
                self.form_errors.append(error.message)
                return Outcome(done=False)
            flash(str(error.message), "error")
            return Outcome(done=False, response=redirect(back, 303) if back else None)
        return Outcome(done=True, value=value)


@dataclass(frozen=True)
class Outcome:
    """What `PortalForm.commit` did: done (with the service's value), or refused (with a redirect when flashed)."""

    done: bool
    value: object = None
    response: object = None


class EmptyForm(PortalForm):
    """For button-only POSTs: just the CSRF token."""


class QueryForm(PortalForm):
    """A filter form read from the query string (the request's unless given): no CSRF token, it changes nothing."""

    class Meta:
        csrf = False

    def __init__(self, formdata=None, **kwargs):
        super().__init__(request.args if formdata is None else formdata, **kwargs)


def name_search(label) -> StringField:
    """The search box of a filter form: a part of a person's name or username."""
    too_long = Length(max=64, message=_l("Use at most 64 characters."))
    return StringField(label, validators=[Optional(), too_long], description=_l("Name or username"))


class ChosenTimeForm(PortalForm):
    """A free time chosen from a list of radio buttons named slot_id (a new time, a move)."""

    slot_id = StringField(
        _l("New time"),
        validators=[
            InputRequired(message=_l("Choose a time.")),
            Regexp(r"^[0-9]{1,10}$", message=_l("Choose a time.")),
        ],
    )


EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


def reasonable_date(form, field):
    """Refuse dates no slot could have (and that time zone arithmetic cannot handle)."""
    if field.data and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(_l("Enter a date between 2000 and 2199."))


class RememberedOptions(Select):
    """WTForms' select, each plain <option> remembered per value, label and selection: the Specialty filter lists
    every specialty on every request, and WTForms builds each option anew (about 5 µs)."""

    @classmethod
    def render_option(cls, value, label, selected, **kwargs):
        if kwargs:  # an option with attributes of its own
            return super().render_option(value, label, selected, **kwargs)
        return _option(value, str(label), selected)


@lru_cache(maxsize=1024)
def _option(value, label: str, selected: bool) -> Markup:
    return Select.render_option(value, label, selected)


class SpecialtyField(SelectField):
    """The Specialty filter of the directory and the slot finder: *Any specialty*, then the specialties of active
    specialists, set by the view (`set_specialties`). A value no longer among them (its last specialist left)
    still filters, and finds nobody."""

    widget = RememberedOptions()

    def __init__(self, label=None, **kwargs):
        validators = [Optional(), Length(max=100, message=_l("Use at most 100 characters."))]
        super().__init__(label, validators, validate_choice=False, **kwargs)

    def set_specialties(self, specialties: list[str]) -> None:
        """*Any specialty*, then the given ones (and the requested one, if it is not among them)."""
        chosen = self.data or ""
        names = specialties if not chosen or chosen in specialties else [*specialties, chosen]
        self.choices = [("", _l("Any specialty")), *((name, name) for name in names)]
