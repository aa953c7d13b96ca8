"""The portal as a worker process whose clock a test sets: `WorkerProcess(env, dir, app="tests.support.clocked_app")`.

The worker's clock reads the instant written in the file named by TEST_CLOCK_FILE (ISO 8601; real time while
the file is empty), so a test moves the worker's "now" from outside. Its periodic jobs run every second."""

import os
from datetime import UTC, datetime
from pathlib import Path

from portal import create_app


class FileClock:
    """`now` from a file another process writes; `set` and `reset` are that process's side."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __call__(self) -> datetime:
        text = self.path.read_text().strip() if self.path.exists() else ""
        return datetime.fromisoformat(text) if text else datetime.now(UTC)

    def set(self, value: datetime) -> None:
        assert value.tzinfo is not None, "use aware datetimes"
        partial = self.path.with_suffix(".new")
        partial.write_text(value.astimezone(UTC).isoformat())
        partial.replace(self.path)  # never half a date for a reader

    def reset(self) -> None:
        self.path.write_text("")


if "TEST_CLOCK_FILE" in os.environ:
    app = create_app({"CLOCK": FileClock(os.environ["TEST_CLOCK_FILE"]), "PERIODIC_INTERVAL_MAX": 1})
