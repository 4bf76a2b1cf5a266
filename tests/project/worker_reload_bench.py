"""`workshop worker` against watchfiles' own restarter (`watchfiles` CLI, which is
`watchfiles.run_process`) around the same Celery command, side by side.

    .venv/bin/python tests/project/worker_reload_bench.py [--rounds 3]

Both run a throwaway app/worker.py (SQLite broker, one task that sleeps and
then writes the VERSION of the code that ran it), in turns. Per round:

- save -> new code: the seconds from a save (a new VERSION) until a job sent
  after it is run by the new code (a job goes every 0.2 s);
- kill -9 of the worker process (step 9's lesson): seconds until a job runs
  again, or "not until a save" after 15 s;
- a 7 s job running when a save comes: finished, or lost;
- Ctrl-C (SIGINT to the command's process group, as a terminal sends it)
  while a 3 s job runs: finished or lost, and the seconds to exit.

Not part of `make test`: it measures, it does not check. docs/BENCHMARKS.md
("Reload") quotes a run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from celery import Celery

BIN = Path(sys.executable).parent
WORKER = """\
import time
from pathlib import Path

from celery import Celery

VERSION = {version!r}
celery = Celery("bench", broker={broker!r})
celery.conf.task_ignore_result = True


@celery.task(name="mark")
def mark(path: str, seconds: float = 0.0) -> None:
    Path(path + ".started").write_text(VERSION)
    time.sleep(seconds)
    Path(path).write_text(VERSION)
"""
CELERY = "celery -A app.worker worker --pool threads --concurrency 8 --loglevel INFO"
SERVERS = {
    "workshop worker": [str(BIN / "workshop"), "worker"],
    "watchfiles (run_process)": [
        str(BIN / "watchfiles"), "--filter", "python", f"{BIN / CELERY}", "app"
    ],
}  # fmt: skip
GONE = float("inf")


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.broker = f"sqla+sqlite:///{root / 'broker.db'}"
        self.sender = Celery("sender", broker=self.broker)
        self.jobs = root / "jobs"
        self.version = 0

    def save(self) -> str:
        self.version += 1
        version = f"v{self.version}"
        source = WORKER.format(version=version, broker=self.broker)
        (self.root / "app" / "worker.py").write_text(source)
        return version

    def send(self, seconds: float = 0.0) -> Path:
        path = self.jobs / uuid.uuid4().hex
        self.sender.send_task("mark", args=[str(path), seconds])
        return path

    def ran_by(self, version: str, limit: float) -> float:
        """Seconds until a job sent now or later runs on `version`'s code."""
        start = time.monotonic()
        sent: list[Path] = []
        while time.monotonic() - start < limit:
            sent.append(self.send())
            for path in sent:
                if path.exists() and path.read_text() == version:
                    return time.monotonic() - start
            time.sleep(0.2)
        return GONE

    def started(self, path: Path, limit: float = 15.0) -> None:
        deadline = time.monotonic() + limit
        while not Path(f"{path}.started").exists():
            if time.monotonic() > deadline:
                raise SystemExit("a job never started")
            time.sleep(0.05)


def worker_pids(root: Path) -> list[int]:
    """The Celery worker processes running app/worker.py in `root` (Linux)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cwd = os.readlink(proc / "cwd")
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        celery = b"celery" in cmd or b"worker_process" in cmd
        if cwd == str(root) and celery and b"watchfiles" not in cmd:
            found.append(int(proc.name))
    return found


def one_round(bench: Bench, command: list[str]) -> dict[str, float | str]:
    version = bench.save()
    process = subprocess.Popen(
        command, cwd=bench.root, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    result: dict[str, float | str] = {}
    try:
        if bench.ran_by(version, 60) == GONE:
            raise SystemExit(f"{command[0]}: the worker never ran a job")
        time.sleep(1)
        result["save"] = bench.ran_by(bench.save(), 30)
        time.sleep(1)
        for pid in worker_pids(bench.root):
            os.kill(pid, signal.SIGKILL)
        result["kill -9"] = bench.ran_by(f"v{bench.version}", 15)
        if result["kill -9"] == GONE:  # as a learner would: save to get it back
            bench.ran_by(bench.save(), 30)
        long = bench.send(7.0)
        bench.started(long)
        bench.ran_by(bench.save(), 30)
        deadline = time.monotonic() + 12
        while not long.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        result["7 s job on save"] = "finished" if long.exists() else "lost"
        job = bench.send(3.0)
        bench.started(job)
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        process.wait(30)
        result["Ctrl-C: exit"] = time.monotonic() - start
        result["Ctrl-C: 3 s job"] = "finished" if job.exists() else "lost"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in worker_pids(bench.root):
            os.kill(pid, signal.SIGKILL)
    return result


def show(value: list[float | str]) -> str:
    if all(isinstance(v, float) for v in value):
        numbers = [float(v) for v in value]
        if GONE in numbers:
            return f"not until a save ({numbers.count(GONE)} of {len(numbers)})"
        return f"{statistics.median(numbers):.2f} s (max {max(numbers):.2f})"
    return ", ".join(str(v) for v in value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[str, list[float | str]]] = {n: {} for n in SERVERS}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for folder in ("app", "checkpoints", "jobs"):
            (root / folder).mkdir()
        (root / "app" / "__init__.py").write_text("")
        bench = Bench(root)
        for _ in range(args.rounds):
            for name, command in SERVERS.items():
                for key, value in one_round(bench, command).items():
                    results[name].setdefault(key, []).append(value)
                loads.append(os.getloadavg()[0])
    print(f"load average {min(loads):.2f} to {max(loads):.2f}, {args.rounds} rounds")
    for name, rows in results.items():
        print(name)
        for key, values in rows.items():
            print(f"  {key:18} {show(values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
