"""The API's own field types and checks: text without control characters, strict booleans, instants with an
offset (answered in the caller's zone), cursors and choices. Shapes only: the rules stay in the services.

Validators raise their messages translated (gettext): marshmallow keeps a message only if it is a str.
Messages given to marshmallow's own validators may be lazy: it formats them into a str."""

import re
from datetime import date, datetime

import marshmallow as ma
from marshmallow import validate

from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.i18n import to_local
from portal.pagination import CURSOR_MAX, CURSOR_MIN

# PostgreSQL cannot store NUL and nobody types control characters: refused as the forms refuse them. Lone
# surrogates (JSON's "\ud800") cannot even be encoded. The documented pattern says the same to a client.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL_SINGLE_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
_DOC_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
_DOC_PATTERN_SINGLE_LINE = "^[^\\u0000-\\u001f\\u007f]*$"
CURSOR = re.compile(r"[0-9]{1,18}-[0-9]{1,10}")
EARLIEST, LATEST = date(2000, 1, 1), date(2199, 12, 31)


class Schema(ma.Schema):
    """Unknown fields are refused: a misspelt field is an error, never silently ignored."""

    class Meta:
        unknown = ma.RAISE


def _refuse(pattern: re.Pattern):
    """A validator refusing strings in which `pattern` finds a character."""

    def check(value: str) -> None:
        if pattern.search(value):
            raise ma.ValidationError(_("Remove the control characters from this field."))

    return check


def _at_most(length: int, message):
    return validate.Length(max=length, error=message)


class Text(ma.fields.String):
    """A string without control characters (line breaks only if `multiline`), at most `max_length` long."""

    def __init__(self, max_length: int, message=None, *, multiline: bool = False, **kwargs):
        metadata = {"pattern": _DOC_PATTERN if multiline else _DOC_PATTERN_SINGLE_LINE, **kwargs.pop("metadata", {})}
        checks = [
            _refuse(_CONTROL if multiline else _CONTROL_SINGLE_LINE),
            _at_most(length=max_length, message=message or _l("Use at most %(max)d characters.", max=max_length)),
        ]
        super().__init__(validate=checks, metadata=metadata, **kwargs)


class StrictBoolean(ma.fields.Boolean):
    """true or false, nothing that merely looks like one ("yes", 1)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Instant(ma.fields.AwareDateTime):
    """An instant in ISO 8601 with its offset. Input without an offset is refused; output is in the token
    owner's time zone, as the pages show it. A slot's times are whole minutes (`minutes`)."""

    def __init__(self, minutes: bool = False, **kwargs):
        checks = [_reasonable_instant, _whole_minute] if minutes else [_reasonable_instant]
        super().__init__(format="iso", validate=checks, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else to_local(value).isoformat()


def _reasonable_instant(value: datetime) -> None:
    """Refuse instants no slot could have (and that time zone arithmetic cannot handle)."""
    if not CURSOR_MIN <= value < CURSOR_MAX:
        raise ma.ValidationError(_("Enter a date between 2000 and 2199."))


def _whole_minute(value: datetime) -> None:
    if value.second or value.microsecond:
        raise ma.ValidationError(_("Give the time in whole minutes, without seconds."))


def reasonable_date(value: date) -> None:
    if not EARLIEST <= value <= LATEST:
        raise ma.ValidationError(_("Enter a date between 2000 and 2199."))


def _cursor(value: str) -> None:
    if not CURSOR.fullmatch(value):
        raise ma.ValidationError(_("This is not a cursor of this list: use the next or prev link."))


def cursor_field(description: str):
    return ma.fields.String(
        validate=_cursor, metadata={"description": description, "pattern": "^[0-9]{1,18}-[0-9]{1,10}$"}
    )


def one_of(values):
    return validate.OneOf(values, error=_l("Choose one of: %(choices)s.", choices=", ".join(values)))
