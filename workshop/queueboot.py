"""Start a queue step's web server or Celery worker, observed, for the step
suites (tests/steps/queue_support.py) and the bench (workshop/bench/queue.py);
`workshop worker`'s process and the timeline's served app apply the broker
settings too (`configure_broker`), so the timeline's tests use their own keys.

    python -m workshop.queueboot web ARGS...     (uvicorn ARGS: app.main:app ...)
    python -m workshop.queueboot worker ARGS...  (celery -A app.worker worker ARGS)

app/ is found on PYTHONPATH and imported as it is; before the server or worker
starts, this reads the environment its caller set:

- WORKSHOP_KEY_PREFIX: every Redis key the app's Celery writes starts with it
  (kombu's `global_keyprefix`), so a suite reads and deletes only its own
  keys, whatever else lives in that Redis database;
- WORKSHOP_MAIL_LOG: a file that gets one line (the recipient) for every email
  the pretend mail server accepts, so a suite counts deliveries, not outbox
  rows (a table keyed by recipient shows one row however often one went out);
- WORKSHOP_VISIBILITY: Redis's visibility timeout in seconds, for a test that
  needs a job longer than it (the app's own value is proven elsewhere);
- WORKSHOP_WORKER_LOST_WAIT: Celery's `worker_lost_wait` (10 s by default:
  how long a worker waits for a dead pool process's result), for a test that
  kills one.
"""

from __future__ import annotations

import functools
import os
import sys


def _log_deliveries(path: str) -> None:
    """Wrap the mail server's `deliver` functions: a line per accepted email."""
    from app import mailer

    def note(recipient: str) -> None:
        # O_APPEND: lines from threads and processes never interleave
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{recipient}\n".encode())
        finally:
            os.close(fd)

    deliver, deliver_async = mailer.deliver, mailer.deliver_async

    @functools.wraps(deliver)
    def logged(recipient: str) -> None:
        deliver(recipient)  # raises when the server refuses: nothing noted
        note(recipient)

    @functools.wraps(deliver_async)
    async def logged_async(recipient: str) -> None:
        await deliver_async(recipient)
        note(recipient)

    mailer.deliver, mailer.deliver_async = logged, logged_async


def configure_broker() -> None:
    """Apply the broker settings above to app/worker.py's Celery app (nothing
    when none is set: that is every learner's run)."""
    prefix = os.environ.get("WORKSHOP_KEY_PREFIX")
    visibility = os.environ.get("WORKSHOP_VISIBILITY")
    lost_wait = os.environ.get("WORKSHOP_WORKER_LOST_WAIT")
    if not (prefix or visibility or lost_wait):
        return  # nothing to set
    from workshop.checks.worker_app import worker_app

    celery = worker_app()
    if lost_wait:
        celery.conf.worker_lost_wait = float(lost_wait)

    options = dict(celery.conf.broker_transport_options or {})
    if prefix:
        options["global_keyprefix"] = prefix
    if visibility:
        options["visibility_timeout"] = float(visibility)
    celery.conf.broker_transport_options = options


def main(kind: str, args: list[str]) -> None:
    if log := os.environ.get("WORKSHOP_MAIL_LOG"):
        _log_deliveries(log)
    configure_broker()
    if kind == "web":
        import uvicorn

        uvicorn.main(args)
    else:
        from celery.bin.celery import main as celery_main

        sys.argv = ["celery", "-A", "app.worker", "worker", *args]
        celery_main()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
