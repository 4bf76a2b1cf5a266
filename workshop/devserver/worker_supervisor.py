"""`workshop worker`'s supervisor (supervisor.py) around one Celery worker
process at a time (`python -m workshop.devserver.worker_process`).

Celery has no autoreload, so a save stops the worker warm (SIGTERM: running
jobs finish; killed after STOP_LIMIT seconds, also on Ctrl-C) and starts a
fresh one. A worker killed from outside (step 9's `kill -9`) is named and
started again. While it runs, `.workshop/worker.pid` names it (`marked`), so
`workshop serve` can tell that no worker runs (`worker_running`).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from workshop.devserver.supervisor import Supervisor, say, spawn
from workshop.devserver.worker_process import FIX_IT, IMPORT_FAILED

STOP_LIMIT = 10.0  # seconds a restart or a stop waits for running jobs
MARKER = Path(".workshop") / "worker.pid"


@dataclass(kw_only=True)
class WorkerSupervisor(Supervisor):
    """One worker process at a time; see the module docstring."""

    noun = "worker"
    stopping_line = (
        "stopping: the worker finishes its running jobs; Ctrl-C again to force"
    )
    forced_line = "forced: the worker was stopped without waiting for its jobs"
    overdue_line = f"the worker did not stop within {STOP_LIMIT:g} s: killed"
    restart_grace = stop_grace = STOP_LIMIT

    concurrency: int

    def _start(self) -> None:
        command = ["-m", "workshop.devserver.worker_process", str(self.folder)]
        # --lifeline: it stops when we end, however we end (its stdin closes)
        command += ["--concurrency", str(self.concurrency), "--lifeline"]
        child = spawn(command, self.root)
        # step 9 kills this one process by hand: name it, and no other
        say(f"the worker's process: {child.pid} (crash it with: kill -9 {child.pid})")
        self._follow(child)

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        if process.returncode < 0:  # POSIX: killed by a signal
            say(
                f"the worker's process {process.pid} was killed "
                f"(signal {-process.returncode}): starting a new one, as a "
                "supervisor would (its jobs come back as step 9 says)"
            )
            self._start()
        elif process.returncode != IMPORT_FAILED:
            status = process.returncode
            say(f"the worker stopped (exit status {status}) — {FIX_IT}")


@contextlib.contextmanager
def marked(root: Path) -> Iterator[None]:
    """`.workshop/worker.pid` names this process while the worker runs."""
    marker = root / MARKER
    marker.parent.mkdir(exist_ok=True)
    marker.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if int(marker.read_text().strip()) == os.getpid():
                marker.unlink()


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
