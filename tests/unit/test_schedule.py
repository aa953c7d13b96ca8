"""The periodic jobs' registry (portal/schedule.py): every entry names a job that exists, and the scheduler the
worker builds from it enqueues each on the `default` queue at its interval, or sooner under a cap."""

from rq.utils import import_attribute

from portal.schedule import DAY, MINUTE, PERIODIC_JOBS, build_scheduler


def test_every_periodic_job_is_a_function_of_the_jobs_package():
    names = [entry.job for entry in PERIODIC_JOBS]
    assert len(names) == len(set(names))
    for entry in PERIODIC_JOBS:
        assert entry.job.startswith("jobs.") and callable(import_attribute(entry.job))
        assert MINUTE <= entry.interval <= DAY and entry.timeout > 0


def test_the_sweeps_run_every_minute():
    intervals = {entry.job: entry.interval for entry in PERIODIC_JOBS}
    assert intervals["jobs.sweeps.send_reminders"] == MINUTE
    assert intervals["jobs.sweeps.expire_requests"] == MINUTE


def test_the_horizons_are_extended_daily():
    intervals = {entry.job: entry.interval for entry in PERIODIC_JOBS}
    assert intervals["jobs.availability.extend_horizons"] == DAY


def test_the_scheduler_registers_each_job_on_the_default_queue(app):
    app.config.update(REDIS_URL="redis://127.0.0.1:1/0", RQ_QUEUE_PREFIX="unit-")
    try:
        with app.app_context():
            jobs = build_scheduler(app).get_jobs()
            assert [(job.func_name, job.name, job.queue_name, job.interval) for job in jobs] == [
                (entry.job, f"unit-{entry.job}", "unit-default", entry.interval) for entry in PERIODIC_JOBS
            ]
            app.config["PERIODIC_INTERVAL_MAX"] = 1
            assert {job.interval for job in build_scheduler(app).get_jobs()} == {1}
    finally:
        app.config.update(REDIS_URL=None, RQ_QUEUE_PREFIX="", PERIODIC_INTERVAL_MAX=None)
