"""`workshop serve`'s supervisor (supervisor.py) around one app process at a
time (`python -m workshop.devserver.app_process`).

A save waits RESTART_GRACE seconds at most for running background tasks; a
stop waits as long as they take. The next app process is started ahead and
waits warm (FastAPI and uvicorn imported, see app_process.py). An app process
that ends on its own (os._exit, a crash) is one line; the next save restarts
it. While app/worker.py exists and no `workshop worker` runs, it says so: at
start, and whenever that becomes true again. On POSIX it holds the listening
socket and hands it to each app process, so a request made during a restart
waits for the new app; on Windows each app process binds the port itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

from workshop.devserver.app_process import FIX_IT
from workshop.devserver.supervisor import Supervisor, kill, say, spawn
from workshop.devserver.worker_supervisor import worker_running
from workshop.project import APP

POSIX = os.name == "posix"
# A restart on save waits this long for running background tasks (step 1's
# email takes 1 s), then stops them: an endless task must not keep the fix out.
RESTART_GRACE = 3.0
WORKER_LOOK = 1.0  # seconds between looks for a worker (a file and a pid)
WORKER_CAME = "A worker runs now (workshop worker): jobs the app sends go to it."


@dataclass(kw_only=True)
class AppSupervisor(Supervisor):
    """Serve on `listener` through saves; see the module docstring."""

    noun = "app"
    stopping_line = (
        "stopping: waiting for running background tasks; Ctrl-C again to force"
    )
    forced_line = "forced: the app was stopped without waiting for its background tasks"
    overdue_line = (
        f"background tasks were still running {RESTART_GRACE:g} s after the save"
        " (an endless loop?): stopped them to restart"
    )
    restart_grace = RESTART_GRACE

    listener: socket.socket  # bound and listening; on Windows closed before use
    spare: subprocess.Popen[bytes] | None = None  # the next one, warm and waiting
    no_worker: str  # said while app/worker.py exists and no worker runs

    def __post_init__(self) -> None:
        self.address: tuple[str, int] = self.listener.getsockname()[:2]

    def run(self) -> int:
        if not POSIX:
            self.listener.close()  # each app process binds the port itself
        threading.Thread(target=self._look_for_worker, daemon=True).start()
        try:
            return super().run()
        finally:
            kill(self.spare)  # it holds the socket too
            self.listener.close()

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        say(f"the app stopped (exit status {process.returncode}) — {FIX_IT}")

    def _start(self) -> None:
        """Let the warm spare serve (a new process if it is gone), and warm up
        the next spare."""
        child, self.spare = self.spare, None
        if child is None or not go(child):
            child = self._spawn()
            go(child)  # if it failed already, Exited says so
        self._follow(child)
        self.spare = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A new app process: it imports FastAPI and uvicorn, then waits for go."""
        command = ["-m", "workshop.devserver.app_process", str(self.folder)]
        options: dict[str, Any] = {}
        if POSIX:  # the socket handed over
            fd = self.listener.fileno()
            command += ["--fd", str(fd)]
            options["pass_fds"] = (fd,)
        else:
            command += ["--host", self.address[0], "--port", str(self.address[1])]
        return spawn(command, self.root, **options)

    def _look_for_worker(self) -> None:
        """Say that no worker runs at start, and again whenever it becomes
        true (app/worker.py created, the worker stopped): once each time; and
        once when a worker has come since."""
        said = None
        while True:
            there = (self.folder / APP / "worker.py").is_file()
            line = self.no_worker if there and not worker_running(self.root) else None
            if line is not None and line != said:
                say(line)
            elif line is None and said is not None:
                say(WORKER_CAME)
            said = line
            time.sleep(WORKER_LOOK)


def go(process: subprocess.Popen[bytes]) -> bool:
    """Tell a waiting app process to import app/ and serve; False if it died.
    Its stdin stays open: the lifeline (see supervisor.stop_with_parent)."""
    assert process.stdin is not None
    try:
        process.stdin.write(b"go\n")
        process.stdin.flush()
    except OSError:  # BrokenPipeError: it has ended
        return False
    return process.poll() is None
