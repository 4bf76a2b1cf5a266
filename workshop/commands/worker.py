"""`workshop worker`: the Celery worker of app/worker.py, restarted on every save.

Celery has no autoreload: a worker runs the code it imported when it started.
This command supervises one worker process at a time (`python -m
workshop.working FOLDER`) the way `workshop serve` supervises
the app: a save under the served app/ (workshop/appwatch.py) stops the
worker as Celery stops on SIGTERM (a warm shutdown: running jobs finish) and
starts a fresh one. A save that breaks the import is one line, printed once;
the next good save brings the worker back. Ctrl-C (or SIGTERM) stops it the
same warm way, a second Ctrl-C kills it; the exit status is 0 either way.

The pool is `threads`: Celery's default, `prefork`, does not run on Windows,
and the lesson's jobs wait on the mail server rather than compute, so threads
are the right kind of slot (`--concurrency`, 8 by default).

While it runs, `.workshop/worker.pid` holds its process id, so `workshop serve`
can tell a learner whose jobs would stay `pending` that no worker runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from queue import Empty, SimpleQueue

from workshop.checks.appwatch import described, saves
from workshop.errors import WorkshopError
from workshop.project import APP, get_step
from workshop.served_data import served_env
from workshop.supervise import Changed, Exited, Stop, close_lifeline, kill
from workshop.working import CONCURRENCY, FIX_IT, IMPORT_FAILED

POSIX = os.name == "posix"
STOP_LIMIT = 10.0  # seconds a restart waits for running jobs before a kill
STOPPING = "stopping: the worker finishes its running jobs; Ctrl-C again to force"
MARKER = Path(".workshop") / "worker.pid"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def worker_running(root: Path) -> bool:
    """True when a `workshop worker` of this checkout runs now."""
    try:
        pid = int((root / MARKER).read_text().strip())
    except (OSError, ValueError):
        return False
    if os.name != "posix":  # Windows: os.kill(pid, 0) sends CTRL_C_EVENT
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or Windows: it exists
        return True
    return True


def worker(
    root: Path, *, checkpoint: str | None = None, concurrency: int = CONCURRENCY
) -> int:
    """Run app/worker.py's Celery worker (or checkpoint N's) until stopped."""
    folder = get_step(root, checkpoint).checkpoint if checkpoint is not None else root
    os.environ.update(served_env(root, folder))  # the served checkpoint's database
    app_dir = folder / APP
    shown = app_dir.relative_to(root).as_posix()
    if not (app_dir / "worker.py").is_file():
        raise WorkshopError(
            f"{shown}/worker.py does not exist: the worker comes with step 8 "
            "(checkpoints/step-8/README.md)"
        )
    if concurrency < 1:
        raise WorkshopError(f"--concurrency must be at least 1, not {concurrency}")
    say(
        f"Running the Celery worker of {shown}/worker.py ({concurrency} threads); "
        f"it restarts when you save a file in {shown}/. Ctrl-C stops it."
    )
    marker = root / MARKER
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(f"{os.getpid()}\n")
    try:
        return Supervisor(folder, root, concurrency).run()
    finally:
        with contextlib.suppress(OSError, ValueError):
            if int(marker.read_text().strip()) == os.getpid():
                marker.unlink()


class Supervisor:
    """One worker process at a time; see the module docstring."""

    def __init__(self, folder: Path, root: Path, concurrency: int) -> None:
        self.folder = folder
        self.root = root
        self.concurrency = concurrency
        self.events: SimpleQueue[Changed | Exited | Stop] = SimpleQueue()
        self.child: subprocess.Popen[bytes] | None = None
        self.restarting = False
        self.stopping = False
        self.quit = threading.Event()

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda signum, _: self.events.put(Stop(signum)))
        watching = threading.Event()
        threading.Thread(target=self._watch, args=(watching,), daemon=True).start()
        watching.wait()
        try:
            self._start()
            while not self._handle(self._next_event()):
                pass
        finally:
            self.quit.set()
            self._kill()
        return 0

    def _handle(self, event: Changed | Exited | Stop) -> bool:
        """Act on one event; True when the command is done."""
        match event:
            case Stop() if self.child is None:
                return True
            case Stop() if self.stopping:
                self._kill()
                say("forced: the worker was stopped without waiting for its jobs")
                return True
            case Stop():
                self.stopping = True
                say(STOPPING)
                self._terminate()
            case Exited(process) if process is self.child:
                self.child = None
                if self.stopping:
                    return True
                if self.restarting:
                    self.restarting = False
                    self._start()
                elif process.returncode < 0:  # POSIX: killed by a signal
                    signum = -process.returncode
                    say(
                        f"the worker's process {process.pid} was killed "
                        f"(signal {signum}): starting a new one, as a "
                        "supervisor would (its jobs come back as step 9 says)"
                    )
                    self._start()
                elif process.returncode != IMPORT_FAILED:
                    status = process.returncode
                    say(f"the worker stopped (exit status {status}) — {FIX_IT}")
            case Changed(what) if not (self.stopping or self.restarting):
                say(f"{what}: restarting the worker")
                if self.child is None:
                    self._start()
                else:
                    self.restarting = True
                    self._terminate()
        return False

    def _next_event(self) -> Changed | Exited | Stop:
        while True:  # a timeout: Windows runs signal handlers only between waits
            try:
                return self.events.get(timeout=1.0)
            except Empty:
                pass

    def _start(self) -> None:
        command = [sys.executable, "-m", "workshop.working", str(self.folder)]
        # --lifeline: it stops when we end, however we end (its stdin closes)
        command += ["--concurrency", str(self.concurrency), "--lifeline"]
        options: dict = {"stdin": subprocess.PIPE}
        if POSIX:  # a group of its own, for killpg
            options["start_new_session"] = True
        else:
            options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        child = subprocess.Popen(command, cwd=self.root, **options)
        self.child = child
        # step 9 kills this one process by hand: name it, and no other
        say(f"the worker's process: {child.pid} (crash it with: kill -9 {child.pid})")
        threading.Thread(target=self._wait, args=(child,), daemon=True).start()

    def _wait(self, child: subprocess.Popen[bytes]) -> None:
        child.wait()
        close_lifeline(child)
        self.events.put(Exited(child))

    def _terminate(self) -> None:
        """Ask for a warm shutdown; kill it if it takes longer than STOP_LIMIT."""
        child = self.child
        if child is None:
            return
        with contextlib.suppress(ProcessLookupError):
            if POSIX:
                child.send_signal(signal.SIGTERM)
            else:
                child.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]

        def force() -> None:
            try:
                child.wait(STOP_LIMIT)
            except subprocess.TimeoutExpired:
                say(f"the worker did not stop within {STOP_LIMIT:g} s: killed")
                kill(child)

        threading.Thread(target=force, daemon=True).start()

    def _kill(self) -> None:
        kill(self.child)

    def _watch(self, ready: threading.Event) -> None:
        """Put a Changed event for every save under app/ (workshop/appwatch.py)."""
        app = self.folder / APP
        for names in saves(self.root, app, self.quit, ready=ready):
            self.events.put(Changed(described(names)))
