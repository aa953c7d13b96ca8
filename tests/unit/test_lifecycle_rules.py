"""The rules of a consultation's life that need no database: the cutoff, who may ask for a new time, what a
specialist may move or cancel."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.models.slot import inside_cutoff, is_movable, is_reschedulable

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night Europe changes to summer time


@pytest.mark.parametrize(
    ("starts_in", "cutoff", "inside"),
    [
        (timedelta(hours=24), 24, False),  # exactly at the cutoff: still outside
        (timedelta(hours=24) - timedelta(seconds=1), 24, True),
        (timedelta(minutes=1), 0, False),  # no cutoff: until the start
        (timedelta(0), 0, False),
        (timedelta(days=31), 720, False),
        (timedelta(days=29), 720, True),
    ],
)
def test_inside_cutoff(starts_in, cutoff, inside):
    assert inside_cutoff(NOW + starts_in, NOW, cutoff) is inside


@pytest.mark.parametrize(
    ("status", "starts_in", "cutoff", "allowed"),
    [
        ("pending", timedelta(hours=3), 2, True),
        ("accepted", timedelta(hours=3), 2, True),
        ("accepted", timedelta(hours=1), 2, False),  # inside the cutoff
        ("accepted", timedelta(0), 0, False),  # started
        ("rejected", timedelta(hours=3), 0, False),
        ("cancelled", timedelta(hours=3), 0, False),
        ("cancelled_by_specialist", timedelta(hours=3), 0, False),
        ("expired", timedelta(hours=3), 0, False),
    ],
)
def test_is_reschedulable(status, starts_in, cutoff, allowed):
    assert is_reschedulable(status, NOW + starts_in, NOW, cutoff) is allowed


@pytest.mark.parametrize(
    ("status", "starts_in", "allowed"),
    [
        ("accepted", timedelta(minutes=1), True),
        ("accepted", timedelta(0), False),
        ("accepted", -timedelta(hours=1), False),
        ("pending", timedelta(hours=5), False),  # a request is answered, not moved
        ("cancelled", timedelta(hours=5), False),
    ],
)
def test_is_movable(status, starts_in, allowed):
    assert is_movable(status, NOW + starts_in, NOW) is allowed
