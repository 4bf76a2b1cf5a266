"""Red runs of two commits, interleaved: `workshop check N --checkpoint N-1`.

    .venv/bin/python tests/workshop/red_time.py [--before REV] [--after REV]
                                                [--rounds 3]

Exports both commits (default: 220531c, the commit before event-based waits,
and HEAD) into temporary folders and, for each step N, times `python -m
workshop check N --checkpoint N-1` in each folder, one after the other, for
--rounds rounds. Interleaving puts both under the same load, which on a
shared machine moves more than the change being measured. Prints the median
(and min) seconds of each, and the floor: Python, FastAPI and pytest with
one test. `workshop bench --loop --step red` times one tree on its own.

Not part of `make test`: it measures, it does not check.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def export(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "archive", rev], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="220531c")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("WORKSHOP_APP_DIR", None)
    steps = sorted(
        int(p.name.removeprefix("step-"))
        for p in (ROOT / "checkpoints").glob("step-*")
        if p.name.removeprefix("step-").isdecimal()
    )
    with tempfile.TemporaryDirectory(prefix="red-time-") as name:
        trees = {
            rev: export(rev, Path(name) / str(i))
            for i, rev in enumerate([args.before, args.after])
        }
        floor_test = Path(name) / "test_floor.py"
        floor_test.write_text(
            "import fastapi\n\n\ndef test_floor():\n    assert fastapi\n"
        )
        floor = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        floors = [timed([*floor, str(floor_test)], Path(name), env) for _ in range(3)]
        print(f"load average {os.getloadavg()}; rounds {args.rounds}")
        floor_s = statistics.median(floors)
        print(f"floor: python + fastapi + pytest (one test) {floor_s:.2f}s")
        print(f"{'':24}{args.before:>18}{args.after:>18}")
        for n in steps[1:]:
            found: dict[str, list[float]] = {rev: [] for rev in trees}
            for _ in range(args.rounds):
                for rev, tree in trees.items():
                    command = [sys.executable, "-m", "workshop", "check", str(n)]
                    command += ["--checkpoint", str(n - 1)]
                    found[rev].append(timed(command, tree, env))
            cells = "".join(
                f"{statistics.median(s):>10.2f}s ({min(s):.2f})" for s in found.values()
            )
            print(f"check {n} --checkpoint {n - 1}  {cells}", flush=True)
        print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
