"""Waiting for something another process does (a worker, a server), without a fixed sleep."""

import time


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1):
    """Poll until predicate() is truthy or `timeout` seconds have passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
