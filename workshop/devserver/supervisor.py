"""What `workshop serve` and `workshop worker` share: one child process at a
time, restarted on every save under the served app/ (checks/appwatch.py).

The child runs in a process group of its own, so a Ctrl-C in the terminal
reaches only the supervisor, which decides: the first Ctrl-C (or SIGTERM,
e.g. a dev container stopping) asks the child to stop gracefully (running
tasks or jobs finish) and says so; a second one kills its process group. The
exit status is 0 either way, so `make run` ends without "make: ***". A save
stops the child the same graceful way (killed if it outlasts the subclass's
grace: an endless task must not keep the fix out) and starts the next one.
The child's stdin is its lifeline: it stops when the supervisor ends, however
that ends (`stop_with_parent`). On Windows CTRL_BREAK_EVENT and
TerminateProcess stand in for SIGTERM and killpg.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Any, ClassVar

from workshop.checks.appwatch import described, saves
from workshop.project import APP
from workshop.ui import style

POSIX = os.name == "posix"
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
    process: subprocess.Popen[bytes]  # asked to stop, still running after a grace


Event = Changed | Exited | Stop | Overdue


def say(message: str, *styles: str, after_ctrl_c: bool = False) -> None:
    """One line of our own (`styles`: ui.style's), between the child's log lines."""
    if after_ctrl_c and sys.stderr.isatty():
        print(file=sys.stderr)  # end the line the terminal echoed ^C on
    print(style(message, *styles, stream=sys.stderr), file=sys.stderr, flush=True)


@dataclass
class Supervisor:
    """Start, restart and stop the child; see the module docstring. A subclass
    names its child and its lines, starts it and says why it ended."""

    noun: ClassVar[str]  # 'app': "app/main.py changed: restarting the app"
    stopping_line: ClassVar[str]  # said on the first Ctrl-C
    forced_line: ClassVar[str]  # said on the second
    overdue_line: ClassVar[str]  # said when a grace ran out
    restart_grace: ClassVar[float]  # seconds a restart waits before a kill
    stop_grace: ClassVar[float | None] = None  # the same for a stop (None: no end)

    folder: Path  # holds the app/ that is served
    root: Path  # the child's working directory: its relative paths start here
    events: SimpleQueue[Event] = field(default_factory=SimpleQueue)
    child: subprocess.Popen[bytes] | None = None  # the one running now
    restarting: bool = False
    stopping: bool = False
    quit: threading.Event = field(default_factory=threading.Event)

    def run(self) -> int:
        """Supervise until a stop is asked for; 0 once the child is gone."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda signum, _: self.events.put(Stop(signum)))
        watching = threading.Event()
        threading.Thread(target=self._watch, args=(watching,), daemon=True).start()
        watching.wait()  # before the child starts: see _watch
        try:
            self._start()
            while not self._handle(self._next_event()):
                pass
        finally:
            self.quit.set()
            kill(self.child)  # only if something above failed: never leave it behind
        return 0

    def _start(self) -> None:
        raise NotImplementedError  # start a child, then self._follow(it)

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        raise NotImplementedError  # say that it ended on its own (a crash, os._exit)

    def _handle(self, event: Event) -> bool:
        """Act on one event; True when the command is done."""
        match event:
            case Stop() if self.child is None:
                return True
            case Stop() if self.stopping:
                kill(self.child)
                say(self.forced_line)
                return True
            case Stop(signum):
                self.stopping = True
                say(self.stopping_line, after_ctrl_c=signum == signal.SIGINT)
                self._terminate(self.stop_grace)
            case Exited(process) if process is self.child:
                self.child = None
                if self.stopping:
                    return True
                if self.restarting:
                    self.restarting = False
                    self._start()
                else:
                    self._ended(process)
            case Changed(what) if not (self.stopping or self.restarting):
                say(f"{what}: restarting the {self.noun}")
                if self.child is None:
                    self._start()
                else:
                    self.restarting = True
                    self._terminate(self.restart_grace)
            case Overdue(process) if process is self.child and process.poll() is None:
                say(self.overdue_line)
                kill(process)
        return False

    def _follow(self, child: subprocess.Popen[bytes]) -> None:
        """Make `child` the running one; its end comes as an Exited event."""
        self.child = child

        def wait() -> None:
            child.wait()
            close_lifeline(child)
            self.events.put(Exited(child))

        threading.Thread(target=wait, daemon=True).start()

    def _terminate(self, grace: float | None) -> None:
        """Ask the child to stop gracefully; an Overdue event if it still runs
        `grace` seconds from now."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended just now
            if POSIX:
                child.send_signal(signal.SIGTERM)
            else:
                child.send_signal(signal.CTRL_BREAK_EVENT)
        if grace is not None:
            timer = threading.Timer(grace, self.events.put, [Overdue(child)])
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
        """Put a Changed event for every save under app/ (see appwatch.py:
        `ready` is set once no save can go unnoticed, and only then does the
        child start). An app/ that is removed or replaced restarts it once back."""
        for names in saves(self.root, self.folder / APP, self.quit, ready=ready):
            self.events.put(Changed(described(names)))


def spawn(command: list[str], cwd: Path, **options: Any) -> subprocess.Popen[bytes]:
    """`python command...` in a process group of its own (for killpg), its
    stdin a pipe: the lifeline (see stop_with_parent)."""
    options |= {"cwd": cwd, "stdin": subprocess.PIPE}
    if POSIX:
        options["start_new_session"] = True
    else:
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    return subprocess.Popen([sys.executable, *command], **options)


def stop_with_parent() -> None:
    """In the child: stop gracefully once the supervisor is gone (killed,
    terminal closed), on every OS.

    The supervisor holds the write end of this process's stdin and writes
    nothing on it (but serve's `go`, read before this): a read returns only
    when that end closes, which the OS does however the supervisor ends, so
    no orphaned process keeps the port or takes jobs. stdin itself becomes
    empty (os.devnull), as for a server with no input: input() in app code
    reads end-of-file instead of the lifeline.
    """
    lifeline = os.dup(0)  # not inherited by processes the child starts
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)

    def wait() -> None:
        with contextlib.suppress(OSError):  # a broken pipe is an end too
            while os.read(lifeline, 1024):
                pass
        signal.raise_signal(signal.SIGTERM)  # the graceful stop, as on Ctrl-C

    threading.Thread(target=wait, daemon=True).start()


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
