"""`workshop worker`'s worker process on a stop request (SIGTERM: a save, Ctrl-C):
with no job it stops at once; with a running job it finishes the job first
(workshop/devserver/idle_stop.py).

"At once" is told without a clock: on a polled broker (SQLite), Celery's
consumer looks at a stop request only between two waits of kombu's
`drain_events(timeout=2.0)`, so a plain warm shutdown always sits out one
such wait begun after the request. The worker here runs under a wrapper
that writes a line whenever a wait begun after the request runs out.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

TIMEOUT = 60  # seconds; reached only when something is wrong

WORKER = """\
import time
from pathlib import Path

from celery import Celery

celery = Celery("fake", broker="sqla+sqlite:///broker.db")
celery.conf.task_ignore_result = True
celery.conf.task_acks_late = True  # step 9's settings
celery.conf.worker_prefetch_multiplier = 1


@celery.task
def hold() -> None:
    Path("started").touch()
    while not Path("gate").exists():  # the test opens it
        time.sleep(0.05)
    Path("done").touch()
"""

# the worker process of `workshop worker`, its waits for the broker observed
OBSERVED = """\
import socket
import sys

from celery.worker import state
from kombu.transport.virtual import base

from workshop.devserver import worker_process

drain_events = base.Transport.drain_events


def observed(self, connection, timeout=None):
    asked = state.should_stop is not None  # a stop request came before
    try:
        return drain_events(self, connection, timeout)
    except socket.timeout:
        if asked:
            with open("waits.log", "a") as log:
                log.write("a wait begun after the stop request ran out\\n")
        raise


base.Transport.drain_events = observed
sys.exit(worker_process.main(["."]))
"""

SEND = "from app.worker import hold; hold.delay()"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGTERM from outside")


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)  # polling interval, not a wait for an event
    pytest.fail(f"never: {what}")


@pytest.fixture
def worker(tmp_path: Path):
    """A running worker process (its output in worker.log), ready for jobs."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "worker.py").write_text(WORKER)
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", OBSERVED],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: " ready." in log.read_text(), "the worker was ready")
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(TIMEOUT)


def waits_out(root: Path) -> int:
    """How many waits begun after the stop request ran out."""
    waits = root / "waits.log"
    return len(waits.read_text().splitlines()) if waits.exists() else 0


def waiting_jobs(root: Path) -> int:
    """How many jobs the broker (kombu's SQLite table) still hands out."""
    with sqlite3.connect(root / "broker.db") as db:
        query = "SELECT count(*) FROM kombu_message WHERE visible"
        return db.execute(query).fetchone()[0]


def test_an_idle_worker_stops_without_sitting_out_a_wait(
    worker: subprocess.Popen, tmp_path: Path
) -> None:
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(TIMEOUT) == 0
    assert "Warm shutdown" in (tmp_path / "worker.log").read_text()
    assert waits_out(tmp_path) == 0, "it sat out a wait for the broker first"


def test_a_running_job_finishes_before_the_worker_stops(
    worker: subprocess.Popen, tmp_path: Path
) -> None:
    subprocess.run([sys.executable, "-c", SEND], cwd=tmp_path, check=True)
    wait_until((tmp_path / "started").exists, "the job started")
    worker.send_signal(signal.SIGTERM)
    # Celery's warm shutdown: it goes on (a whole wait for the broker begun
    # after the request), or it ended, which the next line tells
    wait_until(
        lambda: waits_out(tmp_path) >= 1 or worker.poll() is not None,
        "a wait begun after the stop request ran out (Celery's own path)",
    )
    assert worker.poll() is None, "the worker stopped with its job running"
    (tmp_path / "gate").touch()
    assert worker.wait(TIMEOUT) == 0
    assert (tmp_path / "done").exists(), "the job did not finish"
    assert waiting_jobs(tmp_path) == 0, "the finished job would run again"
