"""The running clock the suite's app reads when a test does not freeze it: real time, or with TEST_CLOCK_AT
(scripts/test.sh sets 23:30 and 00:30) real time shifted to start there. Without it the runs at those hours
would prove nothing."""

import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from portal.clock import utcnow
from tests.support.clock import clock_start

pytestmark = pytest.mark.clock
FROZEN = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def read(app) -> datetime:
    """What the app's clock says now (outside a request, which would keep its first reading)."""
    with app.app_context():
        return utcnow()


def test_the_app_reads_the_running_clock_that_test_clock_at_sets(app, db, clock):
    setting = os.environ.get("TEST_CLOCK_AT")
    first = read(app)
    time.sleep(0.01)
    second = read(app)
    assert second > first  # it ticks
    assert abs(first - (datetime.now(UTC) + clock.shift)) < timedelta(minutes=1)
    if setting:
        assert clock.start.time() == clock_start(setting).time()
        assert first >= clock.start and clock.shift != timedelta(0)
    else:
        assert clock.start is None and clock.shift == timedelta(0)
    clock.set(FROZEN)
    assert read(app) == FROZEN  # a frozen date wins over the shift
    clock.reset()
    assert timedelta(0) <= read(app) - second < timedelta(minutes=1)  # reset returns to the running clock


def test_test_clock_at_takes_a_utc_time_of_day_or_an_instant():
    assert clock_start(None) is None and clock_start("") is None
    days = {datetime.now(UTC).date()}
    start = clock_start("23:30")
    days.add(datetime.now(UTC).date())  # the real date may turn between the two reads
    assert (start.date() in days, start.hour, start.minute, start.tzinfo) == (True, 23, 30, UTC)
    assert clock_start("2026-03-29T00:30") == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert clock_start("2026-03-29T02:30+02:00") == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
