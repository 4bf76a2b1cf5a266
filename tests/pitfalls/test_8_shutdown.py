"""Pitfall 8: what happens to running tasks when uvicorn stops (uvicorn 0.54.0).

Background tasks live only in the server process's memory.

- Graceful shutdown (SIGTERM, SIGINT/Ctrl+C) waits for running tasks, with no
  time limit by default ("Waiting for background tasks to complete.").
- `--timeout-graceful-shutdown N` bounds that wait, then cancels the tasks: an
  `async def` task gets `CancelledError` and never finishes. A `def` task's
  thread cannot be cancelled: on SIGINT the process waits for it to finish; on
  SIGTERM uvicorn re-raises the signal once it is done, which kills the
  process, thread and task included.
- A second Ctrl+C while uvicorn waits forces it: an `async def` task is
  cancelled; a `def` task's thread still runs to its end before the process
  exits.
- A killed process (SIGKILL, OOM killer, power loss) loses every queued and
  running task: nothing is left to finish them.

Work that must not be lost belongs in a real task queue (Celery, RQ, arq,
Dramatiq, Taskiq). Each test runs `uvicorn` in a subprocess on a tiny app
written to tmp_path; the task waits on a file gate and writes marker files.
"""

import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

APP = """\
import asyncio
import time
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI

HERE = Path(__file__).parent
app = FastAPI()


def deliver_sync() -> None:
    (HERE / "started").touch()
    while not (HERE / "gate").exists():
        time.sleep(0.01)
    (HERE / "delivered").touch()


async def deliver_async() -> None:
    (HERE / "started").touch()
    try:
        while not (HERE / "gate").exists():
            await asyncio.sleep(0.01)
    except asyncio.CancelledError:
        (HERE / "cancelled").touch()
        raise
    (HERE / "delivered").touch()


@app.post("/sync")
def queue_sync(background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(deliver_sync)
    return {"queued": "def task"}


@app.post("/async")
def queue_async(background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(deliver_async)
    return {"queued": "async def task"}
"""

WAIT = 30.0  # seconds: reached only on failure (a loaded machine starts slowly)


class Uvicorn:
    """`uvicorn jobs:app --port 0` in a subprocess; its log goes to a file."""

    def __init__(self, folder: Path, *options: str) -> None:
        self.folder = folder
        (folder / "jobs.py").write_text(APP)
        self.log_path = folder / "uvicorn.log"
        command = [sys.executable, "-m", "uvicorn", "jobs:app", "--port", "0"]
        command += ["--app-dir", str(folder), *options]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(command, cwd=folder, stdout=log, stderr=log)

    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, text: str, wait_until) -> None:
        wait_until(lambda: text in self.log(), f"the uvicorn log says {text!r}")

    def url(self, wait_until) -> str:
        self.wait_for_log("Uvicorn running on", wait_until)
        port = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", self.log())
        assert port, self.log()
        return f"http://127.0.0.1:{port[1]}"

    def queue_task(self, kind: str, wait_until) -> None:
        response = httpx.post(f"{self.url(wait_until)}/{kind}", timeout=WAIT)
        assert response.status_code == 200
        wait_until(self.marker("started").exists, "the task started")

    def marker(self, name: str) -> Path:
        return self.folder / name

    def open_gate(self) -> None:
        self.marker("gate").touch()

    def stop(self) -> None:
        self.open_gate()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(WAIT)


@pytest.fixture
def uvicorn(tmp_path):
    servers: list[Uvicorn] = []

    def start(*options: str) -> Uvicorn:
        server = Uvicorn(tmp_path, *options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_killed_process_loses_the_running_task(uvicorn, wait_until):
    """A killed server process (SIGKILL) never finishes its background tasks: they are
    lost.
    """
    server = uvicorn()
    server.queue_task("sync", wait_until)

    server.process.send_signal(signal.SIGKILL)
    assert server.process.wait(WAIT) == -signal.SIGKILL
    server.open_gate()  # the task may go on now, but there is nothing left to run it

    assert not server.marker("delivered").exists()


@pytest.mark.parametrize(
    "stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"]
)
def test_graceful_shutdown_waits_for_the_running_task(uvicorn, wait_until, stop):
    """On SIGTERM or SIGINT uvicorn waits, with no time limit by default, until the
    running task has finished, then exits.
    """
    server = uvicorn()
    server.queue_task("sync", wait_until)

    server.process.send_signal(stop)
    server.wait_for_log("Waiting for background tasks to complete.", wait_until)
    assert server.process.poll() is None  # still running: the task holds it up
    server.open_gate()

    server.process.wait(WAIT)
    assert server.marker("delivered").exists()


def test_timeout_graceful_shutdown_cancels_an_async_task(uvicorn, wait_until):
    """With `--timeout-graceful-shutdown 1` an `async def` task still running after 1 s
    is cancelled and never finishes.
    """
    server = uvicorn("--timeout-graceful-shutdown", "1")
    server.queue_task("async", wait_until)

    server.process.send_signal(signal.SIGTERM)
    server.process.wait(WAIT)  # exits although the gate was never opened

    assert "Cancel 1 running task(s), timeout graceful shutdown exceeded" in (
        server.log()
    )
    assert server.marker("cancelled").exists()
    assert not server.marker("delivered").exists()


def test_timeout_graceful_shutdown_ctrl_c_waits_for_a_def_task(uvicorn, wait_until):
    """After the timeout on SIGINT (Ctrl+C), a running `def` task is not stopped: its
    thread finishes the work and the process exits only then.
    """
    server = uvicorn("--timeout-graceful-shutdown", "1")
    server.queue_task("sync", wait_until)

    server.process.send_signal(signal.SIGINT)
    server.wait_for_log("Cancel 1 running task(s)", wait_until)
    server.wait_for_log("Finished server process", wait_until)
    assert server.process.poll() is None  # uvicorn is done, the thread is not
    server.open_gate()

    assert server.process.wait(WAIT) == 0
    assert server.marker("delivered").exists()


def test_timeout_graceful_shutdown_sigterm_kills_a_def_task(uvicorn, wait_until):
    """After the timeout on SIGTERM, uvicorn re-raises SIGTERM once it is done, which
    ends the process and the `def` task's thread with it.
    """
    server = uvicorn("--timeout-graceful-shutdown", "1")
    server.queue_task("sync", wait_until)

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(WAIT) == -signal.SIGTERM  # the gate is still shut
    server.open_gate()

    assert "Cancel 1 running task(s)" in server.log()
    assert not server.marker("delivered").exists()


def test_a_second_ctrl_c_cancels_an_async_task(uvicorn, wait_until):
    """Ctrl+C while uvicorn waits for the tasks forces it ("CTRL+C to force
    quit"): an `async def` task is cancelled and never finishes."""
    server = uvicorn()
    server.queue_task("async", wait_until)

    server.process.send_signal(signal.SIGINT)
    server.wait_for_log("Waiting for background tasks to complete.", wait_until)
    server.process.send_signal(signal.SIGINT)
    server.process.wait(WAIT)  # exits although the gate was never opened

    assert server.marker("cancelled").exists()
    assert not server.marker("delivered").exists()


def test_a_second_ctrl_c_leaves_a_def_task_running_to_its_end(uvicorn, wait_until):
    """The same second Ctrl+C cannot stop a `def` task's thread: uvicorn is done,
    the process exits only when the thread has finished its work."""
    server = uvicorn()
    server.queue_task("sync", wait_until)

    server.process.send_signal(signal.SIGINT)
    server.wait_for_log("Waiting for background tasks to complete.", wait_until)
    server.process.send_signal(signal.SIGINT)
    server.wait_for_log("Finished server process", wait_until)
    assert server.process.poll() is None  # uvicorn is done, the thread is not
    server.open_gate()

    assert server.process.wait(WAIT) == 0
    assert server.marker("delivered").exists()
