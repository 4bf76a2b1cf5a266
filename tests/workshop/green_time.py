"""Green check 7 and watch's save-to-result of two commits, interleaved.

    .venv/bin/python tests/workshop/green_time.py [--before REV] [--after REV]
                                                  [--rounds 5] [--step 7]

Exports both commits (default: a3d9892, before the side-by-side suites, and
HEAD) into temporary git repositories and, round after round, times in each
tree one after the other: the import floor (`python -c "import fastapi,
pytest, httpx"`), `workshop check N --checkpoint N` (wall and CPU of the
process tree), and `workshop watch 1` from a save of app/main.py (app/ at
checkpoint 1) to its result. Interleaving puts both trees under the same
load. Prints medians (and min). `workshop bench --loop` times one tree.

Not part of `make test`: it measures, it does not check.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from red_time import export

from workshop import git
from workshop.course.loop_bench import watch_mode

FLOOR = [sys.executable, "-c", "import fastapi, pytest, httpx"]


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU of the command and its children) in seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def repository(rev: str, into: Path) -> Path:
    """`rev`'s files as a git repository of one commit, app/ at checkpoint 1."""
    tree = export(rev, into)
    shutil.rmtree(tree / "app")
    shutil.copytree(tree / "checkpoints" / "step-1" / "app", tree / "app")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    git.run(tree, "init", "--quiet", "--initial-branch=main")
    git.run(tree, "add", "--all")
    git.run(tree, *identity, "-c", "commit.gpgsign=false", "commit", "-qm", "t")
    return tree


def cell(values: list[float]) -> str:
    return f"{statistics.median(values):>7.2f}s ({min(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", default="a3d9892")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--step", default="7")
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("WORKSHOP_APP_DIR", None)
    revs = [args.before, args.after]
    check = ["check", args.step, "--checkpoint", args.step]
    with tempfile.TemporaryDirectory(prefix="green-time-") as name:
        trees = {
            rev: repository(rev, Path(name) / str(i)) for i, rev in enumerate(revs)
        }
        print(f"load average {os.getloadavg()}; rounds {args.rounds}")
        floor: list[tuple[float, float]] = []
        found = {rev: [] for rev in revs}
        for _ in range(args.rounds):
            floor.append(timed(FLOOR, Path(name), env))
            for rev, tree in trees.items():
                found[rev].append(
                    timed([sys.executable, "-m", "workshop", *check], tree, env)
                )
        watched = {
            rev: watch_mode("watch", tree, "1", args.rounds, env).seconds
            for rev, tree in trees.items()
        }
        print(f"{'':36}{'median (min)':>16}")
        label = "floor: import fastapi, pytest, httpx"
        walls, cpus = [w for w, _ in floor], [c for _, c in floor]
        print(f"{label:36}{cell(walls)}   CPU {cell(cpus)}")
        for rev in revs:
            walls, cpus = [w for w, _ in found[rev]], [c for _, c in found[rev]]
            label = f"{' '.join(check)} @ {rev}"
            print(f"{label:36}{cell(walls)}   CPU {cell(cpus)}")
        for rev in revs:
            print(f"{'watch 1: save -> result @ ' + rev:36}{cell(watched[rev])}")
        print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
