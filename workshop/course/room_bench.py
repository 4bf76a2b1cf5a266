"""`workshop bench --room`: how long `workshop room` takes for a whole room.

Generates learner repositories in a temporary folder (each holds a real
checkpoint's app/ as the learner's work, steps mixed, every tenth with an
infinite loop), then times three looks with the room's own code: cold (an
empty cache: every repository fetched and checked), warm (nothing changed:
every repository fetched, none checked again) and one learner's new commit.
The goals come from issue 15: 60 s cold and 15 s warm for 30 repositories.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import resource
except ImportError:  # Windows: no CPU figures
    resource = None  # type: ignore[assignment]

from workshop import git
from workshop.bench.report import machine
from workshop.project import APP, all_steps, find_root
from workshop.room import review
from workshop.ui import bad, ok, style

if TYPE_CHECKING:
    from workshop.bench import Settings

GOALS = {"cold": 60.0, "warm": 15.0}  # seconds, for 30 repositories
# What a learner might write: an endless loop that never yields, so every
# request waits forever (the room's time limit is what ends it).
INFINITE_LOOP = """

@app.middleware("http")
async def stuck(request, call_next):
    while True:
        pass
"""
IDENTITY = {
    "GIT_AUTHOR_NAME": "Learner",
    "GIT_AUTHOR_EMAIL": "learner@example.invalid",
    "GIT_COMMITTER_NAME": "Learner",
    "GIT_COMMITTER_EMAIL": "learner@example.invalid",
}


def make_learner(dest: Path, root: Path, step: int, *, hang: bool = False) -> Path:
    """A learner's repository whose app/ is checkpoint `step` (committed)."""
    source = root / "checkpoints" / f"step-{step}" / APP
    shutil.copytree(source, dest / APP, ignore=shutil.ignore_patterns("__pycache__"))
    if hang:
        main = dest / APP / "main.py"
        main.write_text(main.read_text(encoding="utf-8") + INFINITE_LOOP, "utf-8")
    (dest / "README.md").write_text(f"# My workshop (at step {step})\n", "utf-8")
    git.run(dest, "init", "--quiet")
    commit(dest, "My work")
    return dest


def commit(repo: Path, message: str) -> None:
    """Commit everything in `repo` as the learner, whatever git's settings."""
    env = {**os.environ, **IDENTITY}
    git.run(repo, "add", "--all", env=env)
    git.run(repo, "commit", "--quiet", "--no-verify", "--no-gpg-sign", "-m", message,
            env=env)  # fmt: skip


@dataclass(frozen=True)
class Look:
    label: str
    seconds: float
    checked: int
    cpu: float | None  # CPU seconds its children used (None: not measurable here)


def children_cpu() -> float | None:
    """CPU seconds used by finished children so far: the cost of a look,
    whatever else the machine is doing (its wall time is not)."""
    if resource is None:
        return None
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def generate(folder: Path, root: Path, count: int) -> list[Path]:
    """`count` learners at mixed steps; every tenth one's app/ never answers."""
    last = max(s.number for s in all_steps(root))
    made = []
    for i in range(count):
        hang = i % 10 == 9
        made.append(make_learner(folder / f"learner-{i:02}", root, i % (last + 1),
                                 hang=hang))  # fmt: skip
    return made


def measure(root: Path, count: int, jobs: int) -> tuple[list[Look], list[review.Row]]:
    with tempfile.TemporaryDirectory(prefix="workshop-bench-room-") as folder:
        repos = generate(Path(folder), root, count)
        people = review.learners([str(r) for r in repos])
        the_room = review.Room(root, Path(folder) / "cache", jobs)
        looks = []
        for label in ("cold", "warm", "one new commit"):
            if label == "one new commit":
                main = repos[0] / APP / "main.py"
                main.write_text(main.read_text(encoding="utf-8") + "# more\n", "utf-8")
                commit(repos[0], "More work")
            started, cpu = time.perf_counter(), children_cpu()
            rows = the_room.check(people)
            seconds = time.perf_counter() - started
            after = children_cpu()
            used = None if cpu is None or after is None else after - cpu
            looks.append(Look(label, seconds, sum(r.ran for r in rows), used))
        return looks, rows


def main(settings: Settings) -> int:
    root = find_root()
    jobs = settings.jobs or review.default_jobs()
    before = machine()
    looks, rows = measure(root, settings.repos, jobs)
    after = machine()
    missed = [
        look.label
        for look in looks
        if settings.repos <= 30 and look.seconds > GOALS.get(look.label, float("inf"))
    ]
    if settings.json:
        print(json.dumps({
            "repositories": settings.repos, "jobs": jobs,
            "looks": [look.__dict__ for look in looks],
            "steps": [None if r.finished else r.step for r in rows],
            "hangs": sum(r.hangs for r in rows), "goals": GOALS,
            "machine_before": before, "machine_after": after,
        }, indent=2))  # fmt: skip
    else:
        print(text(settings.repos, jobs, looks, rows, before, after))
    return 1 if settings.strict and missed else 0


def text(count, jobs, looks, rows, before, after) -> str:
    load = ", ".join(str(x) for x in before["load_average"]) or "unknown"
    load_after = ", ".join(str(x) for x in after["load_average"]) or "unknown"
    lines = [
        style("workshop bench --room", "bold")
        + f" — {count} generated learner repositories, {jobs} at once",
        f"machine: {before['cores']} cores, {before['cpu']}, Python "
        f"{before['python']}, load average {load} before, {load_after} after",
        "",
    ]
    for look in looks:
        goal = GOALS.get(look.label)
        verdict = ""
        if goal is not None and count <= 30:
            verdict = (
                ok(f"goal ≤ {goal:g} s: met")
                if look.seconds <= goal
                else bad(f"goal ≤ {goal:g} s: missed")
            )
        cpu = "" if look.cpu is None else f"{look.cpu:7.1f} s CPU"
        lines.append(f"  {look.label:<15} {look.seconds:7.1f} s  {cpu}  "
                     f"{look.checked:>3} checked  {verdict}")  # fmt: skip
    steps = [("done" if r.finished else str(r.step)) for r in rows]
    cold = looks[0]
    if cold.cpu is not None:
        cores = before["cores"] or 1
        floor = cold.cpu / cores
        lines.append("")
        lines.append(
            f"the cold look used {cold.cpu:.0f} CPU seconds: with nothing "
            f"else running, at least {floor:.0f} s on {cores} cores"
        )
    hung = sum(r.hangs for r in rows)
    lines += ["", f"steps found: {', '.join(steps)}; {hung} hung (stopped at the "
              "room's time limit)"]  # fmt: skip
    return "\n".join(lines)
