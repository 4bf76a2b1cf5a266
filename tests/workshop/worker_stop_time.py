"""How long an idle `workshop worker` process takes to stop on SIGTERM (a save,
Ctrl-C), with and without idle_stop.py, side by side.

    .venv/bin/python tests/workshop/worker_stop_time.py [--rounds 5]

Each round starts the worker process on a throwaway app/worker.py (SQLite
broker, no job) twice, once as `workshop worker` runs it and once with
stop_idle_at_once() left out (Celery's plain warm shutdown), waits for
" ready.", sends SIGTERM and times until the process has ended. Prints the
median, min and max of each.

Not part of `make test`: it measures, it does not check.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORKER = """\
from celery import Celery

celery = Celery("idle", broker="sqla+sqlite:///broker.db")
celery.conf.task_ignore_result = True
"""

CHILD = """\
import sys

from workshop.devserver import idle_stop, worker_process

if sys.argv[1] == "plain":
    idle_stop.stop_idle_at_once = lambda: None
sys.exit(worker_process.main(["."]))
"""


def stop_time(root: Path, kind: str) -> float:
    """Seconds from SIGTERM to the end of one ready, idle worker process."""
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, kind],
        cwd=root,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if b" ready." in line:
            break
    else:
        raise SystemExit(f"the worker did not start ({kind})")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    process.stdout.read()
    process.wait()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"idle_stop": [], "plain": []}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "app").mkdir()
        (root / "app" / "__init__.py").write_text("")
        (root / "app" / "worker.py").write_text(WORKER)
        for _ in range(args.rounds):
            for kind, series in times.items():
                series.append(stop_time(root, kind))
    for kind, series in times.items():
        print(
            f"{kind:10} median {statistics.median(series):.2f} s"
            f"  (min {min(series):.2f}, max {max(series):.2f}, n={len(series)})"
        )


if __name__ == "__main__":
    main()
