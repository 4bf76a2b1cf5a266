"""Helpers for the timeline tests that run checkpoints under real servers.

`served(step, delay)` is checkpoint N's app as `workshop serve` runs it
(`workshop.timeline.served:app`, the checkpoint's folder first on the import
path) under uvicorn in a subprocess, with its own database and MAIL_DELAY.
`finished(url)` waits until every recorded request is done (its last task
returned): the event a test waits for, bounded, never a fixed sleep.
`Step8` is checkpoint 8 served the same way, plus its real Celery worker;
`worker_bar(url, ...)` waits until the job it ran reaches a status.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from workshop.bench.scenarios import checkpoint_server
from workshop.bench.server import Server

ROOT = Path(__file__).resolve().parents[2]
SERVED = "workshop.timeline.served:app"
# MAIL_DELAY: bars long enough to see; the order never depends on it.
# TIMELINE_TEST_DELAY=1 takes the docs' screenshots at the lesson's delay.
DELAY = float(os.environ.get("TIMELINE_TEST_DELAY") or 0.25)
WAIT = 20.0  # seconds: the bound of every wait; reached only when broken
POLL = 0.02  # seconds between looks at the JSON while waiting
WORKER_WAIT = 60.0  # a Celery worker's start (imports, the broker's 1 s poll)

# What one signup sets off on each checkpoint: its background tasks in order
# (none on step 0: the email is sent inside the request) and its emails.
SIGNUP_TASKS = {
    0: [],
    1: ["send_welcome_email"],
    2: ["send_welcome_email", "notify_admin"],
    3: ["send_welcome_email", "notify_admin", "write_audit_entry"],
}
for _step in (4, 5, 6, 7):  # the audit dependency adds its task first
    SIGNUP_TASKS[_step] = ["write_audit_entry", *SIGNUP_TASKS[3]]
SIGNUP_EMAILS = {0: 1, 1: 1} | dict.fromkeys(range(2, 8), 2)
# Steps 8 and 9: the signup's tasks are one message to a Celery worker (none
# runs here): only the audit dependency's background task is left in the app.
for _step in (8, 9):
    SIGNUP_TASKS[_step] = ["write_audit_entry"]
    SIGNUP_EMAILS[_step] = 0


def steps() -> list[int]:
    """The checkpoints there are (checkpoints/step-N), in order."""
    found = (ROOT / "checkpoints").glob("step-*")
    return sorted(int(p.name.removeprefix("step-")) for p in found if p.is_dir())


def served(step: int, delay: float) -> Server:
    return checkpoint_server(ROOT / "checkpoints" / f"step-{step}", delay, SERVED)


def call(url: str, method: str = "GET", body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return json.load(response)


def warm_up(base: str) -> None:
    """A first POST that is refused (422): imports and caches are warm after it,
    so the first signup a test measures is not slowed by them."""
    try:
        call(f"{base}/subscribers", "POST", {"email": "not-an-email", "name": "x"})
    except urllib.error.HTTPError as error:
        assert error.code == 422, error


def signup(base: str, email: str) -> Any:
    return call(f"{base}/subscribers", "POST", {"email": email, "name": "Ada"})


def finished(base: str, count: int = 1) -> list[dict[str, Any]]:
    """The timeline once `count` requests are recorded and all are done."""
    deadline = time.monotonic() + WAIT
    while True:
        requests = call(f"{base}/_workshop/timeline.json")["requests"]
        if len(requests) >= count and all(r["done"] for r in requests):
            return requests
        if time.monotonic() > deadline:
            raise AssertionError(f"the timeline never finished: {requests}")
        time.sleep(POLL)


def kind(request: dict[str, Any], wanted: str) -> list[dict[str, Any]]:
    return [e for e in request["events"] if e["kind"] == wanted]


# --- step 8: the app served with the timeline, and a real Celery worker -------


class Step8:
    """Checkpoint 8 served as `workshop serve` serves it, on the no-server
    broker (an SQLite file in the server's own temporary folder), and its
    Celery worker started when the test says so, as `workshop worker` starts
    each worker process (`python -m workshop.devserver.worker_process`)."""

    def __init__(
        self, delay: float, step: int = 8, broker: dict[str, str] | None = None
    ) -> None:
        self.step = step
        self.server = served(step, delay)
        # the default broker (a file in server.tmp) unless the test gives one:
        # CELERY_BROKER_URL, and WORKSHOP_KEY_PREFIX for its own Redis keys
        self.server.extra_env.update(broker or {"CELERY_BROKER_URL": ""})
        self.worker: subprocess.Popen[bytes] | None = None
        self.log = self.server.tmp / "worker.log"

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()
        warm_up(self.url)
        call(f"{self.url}/_workshop/timeline/reset", "POST")

    def add_subscriber(self, email: str) -> None:
        """A subscriber written straight into the app's database: no signup,
        so no welcome job is queued, and the worker runs the digest alone."""
        with (
            contextlib.closing(
                sqlite3.connect(self.server.tmp / "newsletter.db")
            ) as db,
            db,
        ):
            db.execute(
                "INSERT INTO subscribers (email, name) VALUES (?, 'Ada')", (email,)
            )

    def start_worker(self) -> None:
        env = {**os.environ, **self.server.extra_env}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), env.get("PYTHONPATH")) if p
        )
        folder = ROOT / "checkpoints" / f"step-{self.step}"
        command = [sys.executable, "-m", "workshop.devserver.worker_process"]
        with self.log.open("wb") as out:
            self.worker = subprocess.Popen(
                [*command, str(folder), "--concurrency", "2"],
                cwd=self.server.tmp,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: one kill reaches it all
            )

    def worker_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill_worker(self) -> None:
        """SIGKILL to the worker's whole group: it dies mid-job, as in step 9."""
        worker, self.worker = self.worker, None
        if worker is not None and worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(WAIT)

    def stop(self) -> None:
        self.kill_worker()
        self.server.stop()


def worker_bar(base: str, step8: Step8, status: str) -> dict[str, Any]:
    """The timeline's only request, once its worker bar has `status`."""
    deadline = time.monotonic() + WORKER_WAIT
    while True:
        requests = call(f"{base}/_workshop/timeline.json")["requests"]
        bars = [b for r in requests for b in kind(r, "worker")]
        if requests and requests[-1]["done"] and bars and bars[0]["status"] == status:
            return requests[-1]
        if step8.worker is not None and step8.worker.poll() is not None:
            raise AssertionError(f"the worker exited:\n{step8.worker_log()}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no worker bar {status!r}: {requests}\n{step8.worker_log()}"
            )
        time.sleep(POLL)
