"""The worker process of `workshop worker`: one Celery worker for one version of
app/ (`python -m workshop.devserver.worker_process FOLDER`), started again after
every save by worker_supervisor.py, as app_process.py is for `workshop serve`.
When app/worker.py does not import, it prints the error once, as one line
that points at the learner's line, and exits with IMPORT_FAILED.

The pool is `threads`: Celery's default, `prefork`, does not run on Windows,
and the lesson's jobs wait on the mail server rather than compute, so threads
are the right kind of slot (`--concurrency`, 8 by default).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from workshop.devserver.app_process import from_cwd
from workshop.devserver.supervisor import say, stop_with_parent
from workshop.importing import describe_load_error
from workshop.project import APP

CONCURRENCY = 8
FIX_IT = "fix it and save: the worker restarts"
IMPORT_FAILED = 3  # the exit status when app/worker.py does not import


def child(folder: Path, concurrency: int, lifeline: bool = False) -> int:
    """Import app/worker.py from `folder` and run its Celery app's worker."""
    if lifeline:
        stop_with_parent()

    sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(f"{APP}.worker")
    except (Exception, SystemExit) as error:
        line = describe_load_error(error, folder).partition("\n")[0]
        say(f"{from_cwd(line, folder)} — {FIX_IT}", "red")
        return IMPORT_FAILED
    celery = getattr(module, "celery", None) or getattr(module, "app", None)
    if celery is None or not hasattr(celery, "worker_main"):
        say(f"{APP}/worker.py has no Celery app named celery — {FIX_IT}")
        return IMPORT_FAILED
    from workshop.timeline.worker_log import record  # the timeline's worker bars

    record()
    from workshop.queueboot import configure_broker  # tests' own Redis keys

    configure_broker()
    from workshop.devserver.idle_stop import stop_idle_at_once

    stop_idle_at_once()  # a save or Ctrl-C with no job running: no 2-4 s wait
    options = ["--pool", "threads", "--concurrency", str(concurrency)]
    celery.worker_main(["worker", *options, "--loglevel", "INFO"])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.devserver.worker_process")
    parser.add_argument("folder", type=Path, help="the folder that holds app/")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY)
    parser.add_argument(
        "--lifeline", action="store_true",
        help="stop when stdin closes (the supervisor holds its other end)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    return child(args.folder, args.concurrency, args.lifeline)


if __name__ == "__main__":
    sys.exit(main())
