"""The shared form base: text is stripped, control characters are refused, service errors land on their field."""

import pytest
from wtforms import PasswordField, StringField, TextAreaField

from portal.forms import PortalForm
from portal.services.errors import DomainError


class SampleForm(PortalForm):
    name = StringField("Name")
    note = TextAreaField("Note")
    secret = PasswordField("Secret")


def _form(app, **data):
    with app.test_request_context(method="POST", data=data):
        form = SampleForm(meta={"csrf": False})
        valid = form.validate()
        return form, valid


def test_text_is_stripped_but_passwords_are_kept_as_typed(app):
    form, valid = _form(app, name="  Anna  ", note="  two\nlines  ", secret="  spaced  ")
    assert valid
    assert (form.name.data, form.note.data, form.secret.data) == ("Anna", "two\nlines", "  spaced  ")


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "An\x00na"), ("name", "line\nbreak"), ("name", "bell\x07"), ("note", "nul\x00"), ("secret", "a\x00b")],
)
def test_control_characters_are_refused_at_their_field(app, field, value):
    form, valid = _form(app, **{field: value})
    assert not valid
    assert form.errors == {field: ["Remove the control characters from this field."]}


def test_unicode_and_tabs_in_notes_are_fine(app):
    form, valid = _form(app, name="Мария 🙂", note="a\tb\r\nc")
    assert valid and form.name.data == "Мария 🙂"


def test_domain_errors_land_on_their_field_or_are_reported_as_not_placed(app):
    form, _ = _form(app, name="x")
    assert form.apply_domain_error(DomainError("Taken.", field="name"))
    assert form.name.errors == ["Taken."]
    assert not form.apply_domain_error(DomainError("General refusal."))
    assert not form.apply_domain_error(DomainError("Elsewhere.", field="missing"))
