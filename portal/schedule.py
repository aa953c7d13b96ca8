"""Periodic jobs: what the worker enqueues on its own, and how often (RQ's CronScheduler, inside `flask worker`).

Each sweep is derived from the database and records what it did under a unique constraint, so it does not
matter that every worker process enqueues its own copy, nor that a killed worker's sweep is repeated: running a
sweep twice does nothing the second time, and a worker that was down catches up on its first round.
"""

import logging
import threading
import time
from dataclasses import dataclass

from flask import Flask

log = logging.getLogger(__name__)

MINUTE = 60
DAY = 24 * 60 * MINUTE


@dataclass(frozen=True)
class Periodic:
    """A job enqueued by its dotted name (the portal never imports `jobs`) every `interval` seconds."""

    job: str
    interval: int
    timeout: int = 300


PERIODIC_JOBS = (
    Periodic("jobs.sweeps.send_reminders", MINUTE),
    Periodic("jobs.sweeps.expire_requests", MINUTE),
    # Every specialist's generated slots, extended to their booking horizon (continues where the last run stopped).
    Periodic("jobs.availability.extend_horizons", DAY, timeout=30 * MINUTE),
)

# After a failure to reach Redis, the scheduler tries again this many seconds later (not in a busy loop).
RETRY_SECONDS = 5


def start_scheduler(app: Flask) -> threading.Thread:
    """Run the periodic jobs' scheduler in a thread of the worker process; returns the thread."""
    thread = threading.Thread(target=_run, args=(app,), daemon=True, name="periodic-jobs")
    thread.start()
    return thread


def build_scheduler(app: Flask):
    """An RQ CronScheduler with every periodic job registered on the `default` queue (call in an app context)."""
    from rq.cron import CronScheduler
    from rq.utils import import_attribute

    from portal.queues import queue_name, redis_connection

    cap = app.config["PERIODIC_INTERVAL_MAX"]
    prefix = app.config["RQ_QUEUE_PREFIX"]
    # Warnings only: at INFO it logs every enqueue, twice a minute for each worker.
    scheduler = CronScheduler(connection=redis_connection(), logging_level=logging.WARNING)
    for entry in PERIODIC_JOBS:
        scheduler.register(
            import_attribute(entry.job),
            queue_name=queue_name("default"),
            interval=min(entry.interval, cap) if cap else entry.interval,
            job_timeout=entry.timeout,
            result_ttl=600,
            failure_ttl=7 * DAY,
            name=f"{prefix}{entry.job}",
        )
    return scheduler


def _run(app: Flask) -> None:
    """CronScheduler.start()'s loop, minus its signal handlers (they belong to the worker's main thread)."""
    with app.app_context():
        scheduler = build_scheduler(app)
    registered = False
    while True:
        try:
            if not registered:
                scheduler.register_birth()
                registered = True
            if scheduler.enqueue_jobs():
                scheduler.save()
            scheduler.heartbeat()
            pause = scheduler.calculate_sleep_interval()
        except Exception:  # Redis down: the jobs are enqueued once it is back, and catch up then
            log.exception("periodic jobs: could not reach the queue")
            pause = RETRY_SECONDS
        time.sleep(max(pause, 0.1))
