"""`workshop worker`: a real Celery worker that runs jobs, restarts on every save
of app/, survives a broken save (one line, once) and stops with exit status 0.
`workshop serve` says when app/ has a worker.py and no worker runs.

Every test runs the command as a user would, in its own process group, and
waits for what it prints or does (a file a job touches), never a fixed time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.live import free_port

TIMEOUT = 60  # seconds; reached only when something is wrong
FIX_IT = "fix it and save: the worker restarts"

# Paths are relative to the repository root, the worker's working directory.
WORKER = """\
from pathlib import Path

from celery import Celery

celery = Celery("fake", broker="sqla+sqlite:///broker.db")
celery.conf.task_ignore_result = True


@celery.task
def touch(name: str) -> None:
    Path(name).write_text("{version}")
"""

SEND = "import sys; from app.worker import touch; touch.delay(sys.argv[1])"


def wait_for_text(log: Path, text: str, count: int = 1) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        output = log.read_text(errors="replace")
        if output.count(text) >= count:
            return output
        time.sleep(0.05)  # polling interval, not a wait for an event
    pytest.fail(f"{text!r} (x{count}) never appeared:\n{log.read_text()}")


def wait_for_file(path: Path, content: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if path.exists() and path.read_text() == content:
            return
        time.sleep(0.05)  # polling interval, not a wait for an event
    pytest.fail(f"{path.name} never held {content!r}")


@pytest.fixture
def start(tmp_path: Path):
    """`start(root, command...)` runs `workshop COMMAND` in its own group."""
    started: list[subprocess.Popen] = []

    def run(root: Path, *args: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"{args[0]}-{len(started)}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "workshop", *args],
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process, log

    yield run
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(TIMEOUT)


@pytest.fixture
def worker_repo(workshop_repo: Path) -> Path:
    (workshop_repo / "app" / "worker.py").write_text(WORKER.format(version="one"))
    return workshop_repo


def send(root: Path, name: str) -> None:
    subprocess.run([sys.executable, "-c", SEND, name], cwd=root, check=True, timeout=60)


def test_the_worker_runs_jobs_and_restarts_on_save(worker_repo: Path, start) -> None:
    process, log = start(worker_repo, "worker")
    wait_for_text(log, " ready.")
    send(worker_repo, "first")
    wait_for_file(worker_repo / "first", "one")

    # a broken save: one line with file:line, then it waits
    worker = worker_repo / "app" / "worker.py"
    worker.write_text(WORKER.format(version="two") + "\nthis is not python\n")
    output = wait_for_text(log, FIX_IT)
    assert "app/worker.py:" in output, output
    assert process.poll() is None, "the command waits for the next save"

    # the next good save: a new worker runs the new code
    worker.write_text(WORKER.format(version="two"))
    wait_for_text(log, " ready.", count=2)
    send(worker_repo, "second")
    wait_for_file(worker_repo / "second", "two")
    assert log.read_text().count(FIX_IT) == 1, "the error is printed once"

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in its terminal
    assert process.wait(TIMEOUT) == 0
    output = log.read_text()
    assert "stopping: the worker finishes its running jobs" in output
    assert not (worker_repo / ".workshop" / "worker.pid").exists()


def test_no_worker_module_is_one_line(workshop_repo: Path, run_workshop) -> None:
    result = run_workshop("worker", cwd=workshop_repo)
    assert result.code == 2
    assert "app/worker.py does not exist: the worker comes with step 8" in result.stderr


def test_serve_says_when_no_worker_runs(worker_repo: Path, start) -> None:
    (worker_repo / "app" / "main.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n"
    )
    process, log = start(worker_repo, "serve", "--port", str(free_port()))
    wait_for_text(log, "No worker runs: jobs sent to app/worker.py stay pending")
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(TIMEOUT) == 0


def test_serve_says_so_whenever_a_worker_goes_missing(
    workshop_repo: Path, start
) -> None:
    """Not only at start: app/worker.py created while serve runs, and a
    worker that stops later, each say it once."""
    (workshop_repo / "app" / "main.py").write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n"
    )
    process, log = start(workshop_repo, "serve", "--port", str(free_port()))
    wait_for_text(log, "Application startup complete.")
    (workshop_repo / "app" / "worker.py").write_text(WORKER.format(version="one"))
    missing = "No worker runs: jobs sent to app/worker.py stay pending"
    wait_for_text(log, missing)
    # a worker runs (its marker names a live process), then it stops
    stand_in = subprocess.Popen(
        [sys.executable, "-c", "input()"], stdin=subprocess.PIPE
    )
    marker = workshop_repo / ".workshop" / "worker.pid"
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(f"{stand_in.pid}\n")
    try:
        wait_for_text(log, "A worker runs now")
        assert log.read_text().count(missing) == 1
    finally:
        stand_in.communicate(b"\n", timeout=TIMEOUT)  # the worker stops
    wait_for_text(log, missing, count=2)
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(TIMEOUT) == 0
    assert log.read_text().count(missing) == 2


def test_the_worker_restarts_on_an_app_folder_restored_at_once(
    worker_repo: Path, start, tmp_path: Path
) -> None:
    """rm -rf app; cp -r saved app: the new app/ (often under the old inode
    number) is watched too, and the worker restarts on it."""
    process, log = start(worker_repo, "worker")
    wait_for_text(log, " ready.")
    app = worker_repo / "app"
    shutil.copytree(app, tmp_path / "saved")
    shutil.rmtree(app)
    shutil.copytree(tmp_path / "saved", app)
    (app / "worker.py").write_text(WORKER.format(version="restored"))
    wait_for_text(log, " ready.", count=2)
    send(worker_repo, "after")
    wait_for_file(worker_repo / "after", "restored")
    assert process.poll() is None


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_killed_worker_is_named_and_started_again(worker_repo: Path, start) -> None:
    """kill -9 of the worker's process (step 9's crash by hand): the command
    says what happened and starts a new worker, which runs the next job."""
    process, log = start(worker_repo, "worker")
    output = wait_for_text(log, " ready.")
    named = [line for line in output.splitlines() if "the worker's process: " in line]
    assert named, f"the worker's process id is printed:\n{output}"
    pid = int(named[0].split("the worker's process: ")[1].split()[0])

    os.kill(pid, signal.SIGKILL)
    output = wait_for_text(log, f"the worker's process {pid} was killed (signal 9)")
    assert FIX_IT not in output, "nothing needs fixing after a kill"
    wait_for_text(log, " ready.", count=2)
    send(worker_repo, "after-kill")
    wait_for_file(worker_repo / "after-kill", "one")
    assert process.poll() is None
