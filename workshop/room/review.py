"""The room: every learner's repository through this course's checks.

Each repository (a git URL or path) is fetched into a cache, one small git
repository per learner under `.workshop/room/repos/` (their default branch,
no tags). Its app/ is written out to `.workshop/room/apps/<learner>/app` and
run through this checkout's step suites, up to its first red step, in a
supervised child (workshop/checks/suites.py) jailed by workshop/room/sandbox.py
(bubblewrap: no rights of the instructor's, no network, resource limits),
with time limits tighter than a learner's own that the learner's code
cannot stretch (an infinite loop costs one test's limit, and only its own
worker). Repositories are checked in parallel. Without a sandbox no learner
code runs: each row shows the last commit only.

Everything a learner controls (their messages, names, errors) is stripped of
control characters before it is kept or shown; every fetch has a time limit
and takes the source after `--`; one room at a time uses a cache (its lock).

Results are kept in `.workshop/room/results.json`, keyed by the app/ tree id
and a hash of the suites: a learner whose app/ did not change since the last
look (whatever else they committed) is not run again. Standard library only.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from workshop import git, lock
from workshop.checks.results import StepResult
from workshop.checks.suites import (
    Cancelled,
    Isolation,
    Limits,
    Spare,
    Watching,
    run_suites,
)
from workshop.checks.summary import first_problem, headline
from workshop.errors import WorkshopError
from workshop.project import APP, STATE, SUITES, all_steps
from workshop.room import sandbox

CACHE = Path(STATE) / "room"
HEAD_REF = "refs/room/head"
RESULTS = "results.json"
HANG = "did not finish in"
# A learner's own `check` allows 6 s a test and 5 s to import app/; the room
# a little less, so a hang costs less. Not below 5 s a test: a red test may
# wait up to 3 s by design (the suites' bounded waits), more on a busy machine.
ROOM_LIMITS = Limits(importing=4.0, collecting=15.0, test=5.0, run=120.0)
FETCH_SECONDS = 60.0  # a server that accepts and never answers costs this much
NOT_RUN = "not run: no sandbox here"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Learner:
    source: str  # a git URL or path, as given
    name: str  # shown in the table: owner/repo, or the folder's name
    key: str  # their folder in the cache


@dataclass
class Row:
    """One learner in the room's table (and in results.json)."""

    name: str
    source: str
    commit: str | None = None
    committed: int | None = None  # the commit's time, seconds since the epoch
    app_tree: str | None = None
    suites: str | None = None  # the hash of the suites it was checked with
    step: int | None = None  # the first red step (None: all green)
    finished: bool = False
    check: str | None = None  # the first failing check, in the learner's words
    message: str | None = None
    hangs: bool = False
    error: str | None = None  # could not fetch or check it
    ran: bool = False  # checked this time (False: the cached result)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Row:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


def learners(sources: list[str]) -> list[Learner]:
    """A Learner per source; names made unique, keys stable across runs."""
    found, seen = [], set()
    for given in dict.fromkeys(s.strip() for s in sources if s.strip()):
        local = Path(given).expanduser()
        source = str(local.resolve()) if local.exists() else given
        name = _name_of(source)
        if name in seen:
            name = f"{name} ({len([n for n in seen if n.startswith(name)]) + 1})"
        seen.add(name)
        digest = hashlib.sha1(source.encode()).hexdigest()[:10]
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:40] or "repo"
        found.append(Learner(source, name, f"{safe}-{digest}"))
    return found


def _name_of(source: str) -> str:
    """'ada/workshop' from a URL, the folder's name from a path."""
    text = source.rstrip("/").removesuffix(".git").rstrip("/")
    parts = [p for p in re.split(r"[/:\\]", text) if p]
    if "://" in source or re.match(r"^[\w.-]+@[\w.-]+:", source):
        return "/".join(parts[-2:]) if len(parts) >= 2 else text
    return parts[-1] if parts else source


def read_list(path: Path) -> list[str]:
    """Sources, one a line; blank lines and # comments left out."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise WorkshopError(f"cannot read {path}: {error.strerror}") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


def suites_hash(root: Path) -> str:
    """What the checks are: a new suite (or fixture) runs everyone again."""
    digest = hashlib.sha1()
    folder = root / SUITES
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass
class Room:
    """One look at the room: the cache, the checks, and how to run them."""

    root: Path
    cache: Path
    jobs: int
    limits: Limits = ROOM_LIMITS
    caps: sandbox.Caps = field(default_factory=sandbox.Caps)
    cancel: threading.Event = field(default_factory=threading.Event)
    bwrap: str | None = field(default_factory=sandbox.available)
    fetch_seconds: float = FETCH_SECONDS

    def check(
        self, people: list[Learner], progress: Callable[[int, int], None] | None = None
    ) -> list[Row]:
        """A row per learner, in order; only changed app/ folders are run.
        Two rooms on one cache: the second refuses in one line."""
        self.cache.mkdir(parents=True, exist_ok=True)
        with lock.held(self.cache, "room"):
            return self._check(people, progress)

    def _check(
        self, people: list[Learner], progress: Callable[[int, int], None] | None
    ) -> list[Row]:
        previous = self._load()
        if self.limits.asked is None:
            self.limits = _untrusting(self.limits, self.root)
        numbers = [s.number for s in all_steps(self.root)]
        suites = suites_hash(self.root)
        rows: list[Row | None] = [None] * len(people)
        pool = ThreadPoolExecutor(max_workers=max(1, self.jobs))
        try:
            futures = {
                pool.submit(self._one, p, numbers, suites, previous.get(p.key)): i
                for i, p in enumerate(people)
            }
            for done, future in enumerate(as_completed(futures), 1):
                rows[futures[future]] = future.result()
                if progress:
                    progress(done, len(people))
        except BaseException:
            # Ctrl-C: the running children are killed, the waiting ones dropped
            self.cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        kept = [r for r in rows if r is not None]
        self._save({p.key: r for p, r in zip(people, kept, strict=True)}, previous)
        return kept

    def _one(
        self, person: Learner, numbers: list[int], suites: str, before: Row | None
    ) -> Row:
        row = Row(person.name, person.source)
        try:
            repo = self._fetch(person)
        except WorkshopError as error:
            if before is not None:
                before.error = f"{error} (showing the last result)"
                before.ran = False
                return before
            row.error = clean(str(error))
            return row
        row.commit = git.run(repo, "rev-parse", HEAD_REF).strip()
        row.committed = int(git.run(repo, "log", "-1", "--format=%ct", HEAD_REF))
        app = git.subtrees(repo, HEAD_REF, [APP]).get(APP)
        if app is None:
            row.error = f"no {APP}/ folder on its default branch"
            return row
        row.app_tree, row.suites = app, suites
        if self.bwrap is None:
            row.error = NOT_RUN
            return row
        if (
            before is not None
            and before.error is None  # not a look that could not run it
            and (before.app_tree, before.suites) == (app, suites)
        ):
            return _carry(before, row)
        try:
            self._run(person, repo, numbers, row)
        except (WorkshopError, OSError) as error:
            row.error = clean(f"could not check it: {error}")
        return row

    def _fetch(self, person: Learner) -> Path:
        repo = self.cache / "repos" / person.key
        if not (repo / ".git").is_dir():
            repo.mkdir(parents=True, exist_ok=True)
            git.run(repo, "init", "--quiet")
        fetch = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--"]
        git.run(
            repo, *fetch, person.source, f"+HEAD:{HEAD_REF}",
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"}, timeout=self.fetch_seconds,
        )  # fmt: skip
        return repo

    def _run(self, person: Learner, repo: Path, numbers: list[int], row: Row) -> None:
        """Write the app/ out and run the suites on it, isolated."""
        if self.cancel.is_set():
            raise Cancelled
        folder = self.cache / "apps" / person.key
        shutil.rmtree(folder, ignore_errors=True)
        (folder / APP).mkdir(parents=True)
        git.write_tree_to(repo, row.app_tree or "", folder / APP)
        assert self.bwrap is not None
        bwrap, caps, root = self.bwrap, self.caps, self.root.resolve()
        isolation = Isolation(
            {"PATH": os.defpath}, cwd=folder,
            wrap=lambda files: sandbox.jail(bwrap, caps, root, folder.resolve(), files),
        )  # fmt: skip
        spare = Spare(self.root, isolation=isolation)
        try:  # a Ctrl-C in the room sets `cancel`: Cancelled ends this one
            results = run_suites(
                self.root, folder.resolve(), numbers, stop_from=0,
                limits=self.limits, watching=Watching(spare, self.cancel),
            )  # fmt: skip
        finally:
            spare.close()
        _fill(row, results)

    def _load(self) -> dict[str, Row]:
        try:
            data = json.loads((self.cache / RESULTS).read_text(encoding="utf-8"))
            return {k: Row.from_dict(v) for k, v in data.items()}
        except (OSError, ValueError, TypeError, AttributeError):
            return {}

    def _save(self, rows: dict[str, Row], previous: dict[str, Row]) -> None:
        """Keep every learner seen (a shorter list next time loses nothing)."""
        merged = {**{k: asdict(v) for k, v in previous.items()},
                  **{k: asdict(v) for k, v in rows.items()}}  # fmt: skip
        self.cache.mkdir(parents=True, exist_ok=True)
        temporary = self.cache / f"{RESULTS}.tmp"
        temporary.write_text(json.dumps(merged, indent=1), encoding="utf-8")
        os.replace(temporary, self.cache / RESULTS)


def _carry(before: Row, now: Row) -> Row:
    """The cached result, with the newest commit (its app/ is the same)."""
    for name in ("step", "finished", "check", "message", "hangs"):
        setattr(now, name, getattr(before, name))
    return now


def _fill(row: Row, results: list[StepResult]) -> None:
    """The first red step, its first failing check, and whether it hung."""
    row.ran = True
    red = next((r for r in results if r.ran and not r.ok), None)
    if red is None:
        row.finished = True
        return
    row.step = red.number
    problem = first_problem(red) or {}
    row.check = clean(problem.get("check") or headline(red))
    row.message = clean(problem.get("message") or "") or None
    row.hangs = HANG in (row.message or "") or "importing app/ did not finish" in (
        row.message or ""
    )


def clean(text: str) -> str:
    """A learner's text, safe on a terminal: control characters (escape
    codes that clear a screen or retitle a window) removed, tabs kept."""
    return _CONTROL.sub("", text)


def _untrusting(limits: Limits, root: Path) -> Limits:
    """`limits` that believe nothing the learner's process writes: the
    seconds a test may ask for are read here, from the suites' own source."""
    return replace(limits, asked=tuple(sorted(asked_limits(root / SUITES).items())))


def asked_limits(folder: Path) -> dict[str, float]:
    """{test function: seconds} of each `@pytest.mark.time_limit(N)` in `folder`."""
    found: dict[str, float] = {}
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for mark in node.decorator_list:
                    if seconds := _time_limit(mark):
                        found[node.name] = max(seconds, found.get(node.name, 0.0))
    return found


def _time_limit(mark: ast.expr) -> float | None:
    """N of a `pytest.mark.time_limit(N)` decorator, else None."""
    if not (isinstance(mark, ast.Call) and isinstance(mark.func, ast.Attribute)):
        return None
    if mark.func.attr != "time_limit" or not mark.args:
        return None
    value = mark.args[0]
    if isinstance(value, ast.Constant) and isinstance(value.value, int | float):
        return float(value.value)
    return None


def default_jobs() -> int:
    """Two children a core: a run also waits (servers starting, bounded
    waits in red tests, a hang until its limit), and another uses the core."""
    return 2 * (os.cpu_count() or 1)
