"""The filter and cancellation forms on their own."""

import pytest
from werkzeug.datastructures import MultiDict

from portal.blueprints.client.forms import CancelForm, SlotFilterForm


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


def cancel_form(**data):
    form = CancelForm(formdata=MultiDict(data), meta={"csrf": False})
    return form, form.validate()


@pytest.mark.parametrize(
    "data",
    [
        {"reason": "Health"},
        {"reason": "Found_another_specialist"},
        {"comment": "Something came up"},
        {"reason": "Other", "comment": "x" * 500},
    ],
)
def test_a_reason_or_a_comment_is_enough(request_context, data):
    assert cancel_form(**data)[1]


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "reason"),
        ({"reason": "", "comment": " \t "}, "reason"),
        ({"reason": "health"}, "reason"),
        ({"reason": "Health", "comment": "x" * 501}, "comment"),
    ],
)
def test_refusals_name_their_field(request_context, data, field):
    form, ok = cancel_form(**data)
    assert not ok and list(form.errors) == [field]


def test_reason_choices_start_empty(request_context):
    form = CancelForm(meta={"csrf": False})
    assert [value for value, *_ in form.reason.iter_choices()] == [
        "",
        "Health",
        "Personal",
        "Found_another_specialist",
        "Other",
    ]


@pytest.mark.parametrize(
    "query, errors",
    [
        ({}, []),
        ({"specialist": "  Who  ", "date_from": "2026-03-10", "date_to": "2026-03-10"}, []),
        ({"date_from": "2026-03-11", "date_to": "2026-03-10"}, ["date_to"]),
        ({"date_from": "10.03.2026"}, ["date_from"]),
        ({"date_to": "9999-12-31"}, ["date_to"]),
        ({"specialty": "x" * 101}, ["specialty"]),
    ],
)
def test_filter_form(request_context, query, errors):
    form = SlotFilterForm(MultiDict(query))
    form.validate()
    assert sorted(form.errors) == errors
    if not errors and query.get("specialist"):
        assert form.specialist.data == "Who"
