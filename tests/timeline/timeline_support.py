"""Helpers for the timeline tests that run checkpoints under real servers.

`served(step, delay)` is checkpoint N's app as `workshop serve` runs it
(`workshop.timeline.served:app`, the checkpoint's folder first on the import
path) under uvicorn in a subprocess, with its own database and MAIL_DELAY.
`finished(url)` waits until every recorded request is done (its last task
returned): the event a test waits for, bounded, never a fixed sleep.
"""

from __future__ import annotations

import json
import os
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
