"""Keyset cursors (one format for every list) and day boundaries of the slot finder."""

from datetime import UTC, date, datetime

import pytest

from portal.blueprints.client.queries import day_start
from portal.pagination import decode_cursor, encode_cursor
from portal.search import contains_pattern


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC),
        datetime(2000, 1, 1, tzinfo=UTC),
    ],
)
def test_cursor_round_trip(moment):
    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)


@pytest.mark.parametrize(
    "value",
    [None, "", "abc", "1-", "-1", "1-2-3", "1.5-2", "１２-3", "9" * 30 + "-1", "1-" + "9" * 12, "0-1", "1-0", "x" * 50],
)
def test_malformed_cursors_decode_to_nothing(value):
    assert decode_cursor(value) is None


def test_cursors_far_outside_any_list_are_refused():
    assert decode_cursor(encode_cursor(datetime(1999, 12, 31, tzinfo=UTC), 1)) is None
    assert decode_cursor(encode_cursor(datetime(2300, 1, 1, tzinfo=UTC), 1)) is None


@pytest.mark.parametrize(
    "day, zone, expected",
    [
        (date(2026, 3, 11), "Asia/Vladivostok", datetime(2026, 3, 10, 14, 0, tzinfo=UTC)),
        (date(2026, 3, 10), "America/Los_Angeles", datetime(2026, 3, 10, 7, 0, tzinfo=UTC)),
        (date(2026, 3, 8), "America/Los_Angeles", datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),  # the day DST starts
        (date(2026, 10, 25), "Europe/Berlin", datetime(2026, 10, 24, 22, 0, tzinfo=UTC)),  # the day it ends
        (date(2026, 10, 26), "Europe/Berlin", datetime(2026, 10, 25, 23, 0, tzinfo=UTC)),
        (date(2026, 1, 1), "UTC", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_day_starts_at_local_midnight(day, zone, expected):
    assert day_start(day, zone) == expected


@pytest.mark.parametrize(
    "text, pattern", [("who", "%who%"), ("50%", "%50\\%%"), ("a_b", "%a\\_b%"), ("c:\\", "%c:\\\\%")]
)
def test_search_text_is_matched_literally(text, pattern):
    assert contains_pattern(text) == pattern
