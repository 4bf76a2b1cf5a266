"""The supervisor behind `workshop serve`: the app survives broken saves and stops
when, and as gracefully as, you ask.

It runs the app (`python -m workshop.serving`) as a child in a process group of
its own, so a Ctrl-C in the terminal reaches only the supervisor, which decides:
the first Ctrl-C (or SIGTERM, e.g. a dev container stopping) asks the app to
stop gracefully, which waits for running background tasks, and says so; a
second one kills the app's process group at once. Either way `workshop serve`
exits 0: stopping it is not an error, so `make run` ends without "make: ***".

On every save of a file under the served app/ it stops the app the same
graceful way, for at most RESTART_GRACE seconds (a task that never ends must
not keep the fixed code out; then it says so and kills it), and lets the
next app process serve: one that was started ahead and waits with FastAPI and
uvicorn imported (see workshop/serving.py). If the app process ends on its
own (os._exit, a crash), it says so and waits for the next save.

While the served app/ has a worker.py and no `workshop worker` runs, it says
so: at start, and whenever that becomes true again (worker.py created, the
worker stopped).

On POSIX the supervisor holds the listening socket and hands it to each app
process, so requests made during a restart wait for the new app instead of
failing. Windows has no such hand-over here (nor killpg): each app process
binds the port itself, and CTRL_BREAK_EVENT and TerminateProcess stand in for
SIGTERM and SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any

from workshop.checks.appwatch import described, saves
from workshop.project import APP
from workshop.serving import FIX_IT

POSIX = os.name == "posix"
STOPPING = "stopping: waiting for running background tasks; Ctrl-C again to force"
FORCED = "forced: the app was stopped without waiting for its background tasks"
# A restart on save waits this long for running background tasks (step 1's
# email takes 1 s), then stops them: an endless task must not keep the fix out.
RESTART_GRACE = 3.0
OVERDUE = (
    f"background tasks were still running {RESTART_GRACE:g} s after the save"
    " (an endless loop?): stopped them to restart"
)
WORKER_LOOK = 1.0  # seconds between looks for a worker (a file and a pid)
WORKER_CAME = "A worker runs now (workshop worker): jobs the app sends go to it."
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM]
if hasattr(signal, "SIGBREAK"):  # Windows: Ctrl-Break
    STOP_SIGNALS.append(signal.SIGBREAK)


@dataclass(frozen=True)
class Changed:
    what: str  # e.g. 'app/main.py changed'


@dataclass(frozen=True)
class Exited:
    process: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Stop:
    signum: int


@dataclass(frozen=True)
class Overdue:
    process: subprocess.Popen[bytes]  # asked to stop for a restart, still running


Event = Changed | Exited | Stop | Overdue


def say(message: str, *, after_ctrl_c: bool = False) -> None:
    """One line of the supervisor's own, between the app's log lines."""
    if after_ctrl_c and sys.stderr.isatty():
        print(file=sys.stderr)  # end the line the terminal echoed ^C on
    print(message, file=sys.stderr, flush=True)


@dataclass
class Supervisor:
    """Start, restart and stop the app process; see the module docstring."""

    folder: Path  # holds the app/ that is served
    root: Path  # the app's working directory: its relative paths start here
    listener: socket.socket  # bound and listening; on Windows closed before use
    events: SimpleQueue[Event] = field(default_factory=SimpleQueue)
    child: subprocess.Popen[bytes] | None = None  # the app process serving now
    spare: subprocess.Popen[bytes] | None = None  # the next one, warm and waiting
    restarting: bool = False
    stopping: bool = False
    # the line to say while no worker runs for app/worker.py (None: one does)
    missing_worker: Callable[[], str | None] | None = None

    def __post_init__(self) -> None:
        self.address: tuple[str, int] = self.listener.getsockname()[:2]

    def run(self) -> int:
        """Serve until a stop is asked for; 0 once the app process is gone."""
        if not POSIX:
            self.listener.close()  # each app process binds the port itself
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda signum, _: self.events.put(Stop(signum)))
        watching = threading.Event()
        threading.Thread(target=self._watch, args=(watching,), daemon=True).start()
        watching.wait()  # before the app starts: see _watch
        if self.missing_worker is not None:
            threading.Thread(target=self._look_for_worker, daemon=True).start()
        try:
            self._start()
            while not self._handle(self._next_event()):
                pass
        finally:
            kill(self.child)  # only if something above failed: never leave it behind
            kill(self.spare)  # it holds the socket too
            self.listener.close()
        return 0

    def _handle(self, event: Event) -> bool:
        """Act on one event; True when `workshop serve` is done."""
        match event:
            case Stop() if self.child is None:
                return True
            case Stop() if self.stopping:
                kill(self.child)
                say(FORCED)
                return True
            case Stop(signum):
                self.stopping = True
                say(STOPPING, after_ctrl_c=signum == signal.SIGINT)
                self._terminate()
            case Exited(process) if process is self.child:
                self.child = None
                close_lifeline(process)
                if self.stopping:
                    return True
                if self.restarting:
                    self.restarting = False
                    self._start()
                else:
                    status = process.returncode
                    say(f"the app stopped (exit status {status}) — {FIX_IT}")
            case Changed(what) if not (self.stopping or self.restarting):
                say(f"{what}: restarting the app")
                if self.child is None:
                    self._start()
                else:
                    self.restarting = True
                    self._terminate()
                    self._deadline(self.child)
            case Overdue(process) if process is self.child and self.restarting:
                say(OVERDUE)
                kill(process)
        return False

    def _deadline(self, process: subprocess.Popen[bytes]) -> None:
        """An Overdue event if `process` still runs RESTART_GRACE s from now."""
        timer = threading.Timer(RESTART_GRACE, self.events.put, [Overdue(process)])
        timer.daemon = True
        timer.start()

    def _next_event(self) -> Event:
        # A timeout, so that Windows, where a blocked get() does not wake for
        # Ctrl-C, still runs the signal handler.
        while True:
            try:
                return self.events.get(timeout=1.0)
            except Empty:
                pass

    def _watch(self, ready: threading.Event) -> None:
        """Put a Changed event for every save under app/ (see workshop/appwatch.py:
        `ready` is set once no save can go unnoticed, and only then does the app
        start). An app/ that is removed or replaced restarts the app once back."""
        app = self.folder / APP
        for names in saves(self.root, app, threading.Event(), ready=ready):
            self.events.put(Changed(described(names)))

    def _look_for_worker(self) -> None:
        """Say that no worker runs at start, and again whenever it becomes
        true (app/worker.py created, the worker stopped): once each time; and
        once when a worker has come since."""
        assert self.missing_worker is not None
        said = None
        while True:
            line = self.missing_worker()
            if line is not None and line != said:
                say(line)
            elif line is None and said is not None:
                say(WORKER_CAME)
            said = line
            time.sleep(WORKER_LOOK)

    def _start(self) -> None:
        """Let the warm spare serve (a new process if it is gone), report its
        end as an Exited event, and warm up the next spare."""
        child, self.spare = self.spare, None
        if child is None or not self._go(child):
            child = self._spawn()
            self._go(child)  # if it failed already, Exited says so
        self.child = child
        threading.Thread(
            target=lambda: (child.wait(), self.events.put(Exited(child))),
            daemon=True,
        ).start()
        self.spare = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        """A new app process: it imports FastAPI and uvicorn, then waits for go."""
        command = [sys.executable, "-m", "workshop.serving", str(self.folder)]
        options: dict[str, Any] = {"cwd": self.root, "stdin": subprocess.PIPE}
        if POSIX:  # the socket handed over; a group of its own for killpg
            fd = self.listener.fileno()
            command += ["--fd", str(fd)]
            options |= {"pass_fds": (fd,), "start_new_session": True}
        else:
            command += ["--host", self.address[0], "--port", str(self.address[1])]
            options |= {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        return subprocess.Popen(command, **options)

    @staticmethod
    def _go(process: subprocess.Popen[bytes]) -> bool:
        """Tell a waiting app process to import app/ and serve; False if it died.
        Its stdin stays open: the lifeline that ends it when we end (see
        workshop/serving.py's stop_with_parent)."""
        assert process.stdin is not None
        try:
            process.stdin.write(b"go\n")
            process.stdin.flush()
        except OSError:  # BrokenPipeError: it has ended
            return False
        return process.poll() is None

    def _terminate(self) -> None:
        """Ask the app to stop gracefully: uvicorn waits for running tasks."""
        if self.child is not None and self.child.poll() is None:
            if POSIX:
                self.child.send_signal(signal.SIGTERM)
            else:
                self.child.send_signal(signal.CTRL_BREAK_EVENT)


def close_lifeline(process: subprocess.Popen[bytes]) -> None:
    """Close our end of an ended process's stdin (its lifeline)."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def kill(process: subprocess.Popen[bytes] | None) -> None:
    """End `process` and its process group at once, and wait for it."""
    if process is None or process.poll() is not None:
        return
    if POSIX:
        with contextlib.suppress(ProcessLookupError):  # it ended just now
            os.killpg(process.pid, signal.SIGKILL)
    else:
        process.kill()
    process.wait()
