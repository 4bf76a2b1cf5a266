"""Run step suites against one app, supervised, and return per-step results.

The suites run in child processes (`python -m workshop.checks.child`, each in
a process group of its own) under time limits: importing app/, collecting the
tests, each test, and the whole run. On two cores or more, two children run
side by side, the step in focus first (workshop/checks/lanes.py). When a
limit runs out, the child's group is killed and the result says in one line
which test hung and where in app/ it was stuck; the tests after it go on in a
fresh child, which stops at once a test stuck on that same line
(workshop/checks/known_hangs.py). A child that ends without its results is a
failure, never a pass. Ctrl-C in the parent kills the children at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.checks.lanes import split
from workshop.checks.lint import lint
from workshop.checks.results import Failure, StepResult
from workshop.checks.scratch import memory_folder, prefix, sweep
from workshop.errors import WorkshopError
from workshop.importing import import_hang

POLL = 0.02  # seconds between looks at the child
FINISH_GRACE = 1.0  # seconds a finished child may take to exit before the kill
_FRAME = re.compile(r'^\s*File "(.+)", line (\d+) in (\S+)')


@dataclass(frozen=True)
class Limits:
    """Seconds each phase of a run may take before the child is stopped.

    A test may ask for more than `test` with `@pytest.mark.time_limit(N)`: the
    child writes the larger of the two into its status as `limit`, and
    `run_supervised` keeps that one for the test (the defaults stay as they are).
    """

    importing: float = 5.0
    collecting: float = 15.0
    test: float = 10.0
    run: float = 300.0
    # For code that is not the user's own (`workshop room`): the seconds each
    # test asked for, read by the room from the suites themselves, by test
    # name. Set, the status file's `since` and `limit` are never believed:
    # the learner's code runs in the process that writes that file.
    asked: tuple[tuple[str, float], ...] | None = None

    @classmethod
    def from_env(cls) -> Limits:
        """WORKSHOP_TEST_LIMIT and WORKSHOP_IMPORT_LIMIT: seconds, for slow machines."""
        test = _seconds("WORKSHOP_TEST_LIMIT", cls.test)
        return cls(
            importing=_seconds("WORKSHOP_IMPORT_LIMIT", cls.importing), test=test
        )

    def of(self, phase: str) -> float | None:
        return {"importing": self.importing, "collecting": self.collecting}.get(
            phase, self.test if phase == "test" else None
        )


class Cancelled(Exception):
    """The run was stopped on purpose (a new save in `workshop watch`)."""


@dataclass(frozen=True)
class Isolation:
    """How to start the child for code that is not the user's own (`workshop
    room`): its whole environment, a command that wraps it (resource limits)
    and the folder it starts in. None: the user's environment, as is."""

    env: dict[str, str]
    prefix: tuple[str, ...] = ()
    cwd: Path | None = None
    # the jail's command, given the one folder the runner writes its results to
    wrap: Callable[[Path], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class Watching:
    """How `workshop watch` (and `room`) run the checks: in a spare child (two
    with `extra`), stopped when `cancel` is set (a new save came in; Ctrl-C in
    the room)."""

    spare: Spare
    cancel: threading.Event
    extra: Spare | None = None  # a second child: suites run side by side
    resume: bool = False  # after a hang, go on in a fresh child (not jailed)

    def close(self) -> None:
        self.spare.close()
        if self.extra is not None:
            self.extra.close()


class Spare:
    """A child started ahead of time, waiting with pytest and FastAPI imported.

    `workshop watch` keeps one ready, so that the next save is checked without
    paying for those imports. It is used once; app/ is imported only then.
    """

    def __init__(
        self, root: Path, verbose: bool = False, isolation: Isolation | None = None
    ) -> None:
        memory = None if isolation else memory_folder()
        if memory is not None:
            sweep(memory)  # what killed checks left behind
        self.folder = tempfile.TemporaryDirectory(prefix=prefix(), dir=memory)
        self.files = Path(self.folder.name)
        scratch = None
        if isolation is None:  # the room's jail has a temporary folder of its own
            scratch = self.files / "tmp"
            scratch.mkdir()
        self.warm = self.files / "ready"  # the child creates it once warm
        command = [sys.executable, "-m", "workshop.checks.child", "--wait"]
        command.append(str(self.warm))
        self.child = start(
            command, root, self.files / "output", verbose, isolation, scratch
        )

    def ready(self) -> bool:
        """Warmed up: pytest, FastAPI and the rest imported."""
        return self.warm.exists()

    def hand(self, args: list[str]) -> subprocess.Popen:
        assert self.child.stdin is not None
        self.child.stdin.write(json.dumps(args).encode() + b"\n")
        self.child.stdin.close()
        return self.child

    def close(self) -> None:
        kill_group(self.child)
        self.folder.cleanup()


def _seconds(name: str, default: float) -> float:
    text = os.environ.get(name) or str(default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        raise WorkshopError(f"{name} must be a number of seconds, not {text!r}")
    return value


def run_suites(
    root: Path,
    app_dir: Path,
    numbers: list[int],
    *,
    stop_from: int | None = None,
    verbose: bool = False,
    color: bool = False,
    limits: Limits | None = None,
    watching: Watching | None = None,
    crash: bool | Collection[int] = False,
) -> list[StepResult]:
    """Run the suites of `numbers` against `app_dir`/app; results in that order.

    With `stop_from`, the suites after the first red step numbered `stop_from`
    or later are not run (their results say `ran=False`). With `verbose`,
    pytest's own output goes to the terminal; otherwise only the results speak.
    `watching` (not with `verbose`) runs them in children started ahead of
    time, and its `cancel` event stops the run and raises Cancelled.
    `crash` adds each step's crash tier (tests/steps/test_step_N_crash.py);
    a collection of step numbers: those steps' alone.
    Otherwise (and with a `watching.extra` child) the last step and the
    others run side by side in two children (workshop/checks/lanes.py).
    """
    limits = limits or Limits.from_env()
    side_by_side = stop_from is None and not verbose
    if watching is not None:
        # a second child still warming up is slower than one lane in the warm
        # one (saves in quick succession on a busy machine)
        extra = watching.extra
        warm = extra is not None and (extra.ready() or not watching.spare.ready())
        side_by_side = side_by_side and warm
    tiers = set(numbers) if crash is True else set(crash or ())
    lanes = split(root, numbers, tiers) if side_by_side else [list(numbers)]
    owned = [] if watching else [Spare(root, verbose) for _ in lanes]
    # after a hang, the steps left go on in a child of the user's own: not
    # for the room's jailed children (`Watching.resume`)
    resume = watching is None or watching.resume
    spares = owned if watching is None else [watching.spare, watching.extra]
    halt = _AnyOf(watching.cancel if watching else None)
    options = [] if stop_from is None else ["--stop-from", str(stop_from)]
    options += ["--verbose"] * verbose + ["--color"] * color
    options += crash_option(crash)
    try:
        found: dict[int, StepResult] = {}
        verdicts: list[str] = []
        raised: list[BaseException] = []

        def fresh() -> Spare:
            spare = Spare(root, verbose)
            owned.append(spare)  # closed at the end, used or not
            return spare

        def run_lane(lane: list[int], spare: Spare) -> None:
            try:
                run_one(lane, spare)
            except BaseException as error:  # the other lane must not wait for it
                halt.own.set()
                raised.append(error)

        def run_one(lane: list[int], spare: Spare) -> None:
            """The lane's suites; after a test that hung, the steps after it
            go on in a fresh child that knows where app/ hung."""
            todo, known, after = lane, [], []
            reserve: Spare | None = None
            while True:
                args = child_args(root, app_dir, todo, spare.files, limits) + options
                args += ["--known-hangs", json.dumps(known), *after]
                child = spare.hand(args)
                try:
                    grace = FINISH_GRACE if verbose else 0.0
                    verdict = run_supervised(child, spare.files, limits, halt, grace)
                finally:
                    kill_group(child)
                verdicts.append(verdict)
                if verdict == "cancelled":
                    return
                done = results_of(todo, spare.files, verdict, app_dir, limits, root)
                for result in done:
                    found[result.number] = merged(found.get(result.number), result)
                status = read_status(spare.files)
                hung = status.get("test") if status.get("phase") == "test" else None
                if verdict != "timeout" or not hung or not resume:
                    return
                # on with the tests after the one that hung, in a fresh child
                todo = [r.number for r in done if not r.ran]
                if status.get("step") in lane:
                    todo.insert(0, status["step"])
                if not todo:
                    return
                after = ["--after", hung]
                if frame := stuck_frame(spare.files / "stack.txt", app_dir):
                    known.append([str(frame[0]), frame[1]])
                # a test after this one will likely stop at the same place: the
                # child after the next one warms up while the next one runs
                spare = reserve or fresh()
                reserve = fresh()

        helpers = [
            threading.Thread(target=run_lane, args=(lane, spare), daemon=True)
            for lane, spare in zip(lanes[1:], spares[1:], strict=False)
            if spare is not None
        ]
        for helper in helpers:
            helper.start()
        run_lane(lanes[0], spares[0])  # type: ignore[arg-type]  (never None)
        for helper in helpers:
            helper.join()
        if raised:
            raise raised[0]
        if "cancelled" in verdicts:
            raise Cancelled
        results = [found.get(n, StepResult(n)) for n in numbers]
        add_lint(results, app_dir)
        return results
    finally:
        for spare in owned:
            spare.close()


def crash_option(crash: bool | Collection[int]) -> list[str]:
    """The child's option for the crash tiers: every step's, or those named."""
    if isinstance(crash, bool):
        return ["--crash"] * crash
    return ["--crash", *map(str, sorted(crash))] if crash else []


def merged(before: StepResult | None, now: StepResult) -> StepResult:
    """A step's result from a run that stopped at a hang, and from the run
    that went on after it."""
    if before is None:
        return now
    if not now.ran:
        return before
    return StepResult(
        before.number,
        ran=True,
        passed=before.passed + now.passed,
        failures=before.failures + now.failures,
        skipped=before.skipped + now.skipped,
        errors=before.errors + now.errors,
        problem=before.problem or now.problem,
    )


class _AnyOf:
    """Set when the caller's `cancel` is, or when this run stops its lanes."""

    def __init__(self, cancel: threading.Event | None) -> None:
        self.cancel, self.own = cancel, threading.Event()

    def is_set(self) -> bool:
        return self.own.is_set() or (self.cancel is not None and self.cancel.is_set())


LINT_EXPECTATION = (
    "app/ blocks no event loop and names nothing undefined (ruff: ASYNC, FAST, F821)"
)


def add_lint(results: list[StepResult], app_dir: Path) -> None:
    """ruff's findings on app/ (workshop/checks/lint.py) lead the last step
    that ran, before its tests' failures: a blocking call in an async def is
    red even when no test timed it. Not on an app that does not load."""
    ran = [r for r in results if r.ran and not r.messages]
    if not ran or any(r.messages for r in results):
        return
    found = lint(app_dir)
    last = ran[-1]
    lines = [Failure("ruff", LINT_EXPECTATION, f"{where}: {m}") for where, m in found]
    last.failures[:0] = lines


def child_args(
    root: Path, app_dir: Path, numbers: list[int], files: Path, limits: Limits
) -> list[str]:
    phases = {"importing": limits.importing, "collecting": limits.collecting}
    return [
        str(app_dir),
        *map(str, numbers),
        "--root", str(root),
        "--status", str(files / "status.json"),
        "--stack", str(files / "stack.txt"),
        "--limits", json.dumps({**phases, "test": limits.test}),
    ]  # fmt: skip


def start(
    command: list[str],
    root: Path,
    output: Path,
    verbose: bool,
    isolation: Isolation | None = None,
    scratch: Path | None = None,
):
    """The child in a process group of its own, so that a kill reaches all of it;
    its temporary files in `scratch` (workshop/checks/scratch.py)."""
    base = isolation.env if isolation else os.environ
    env = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("WORKSHOP_APP_DIR", None)
    if scratch is not None:
        env.update(TMPDIR=str(scratch), TEMP=str(scratch), TMP=str(scratch))
    if isolation:
        wrap = isolation.wrap(output.parent) if isolation.wrap else ()
        command = [*isolation.prefix, *wrap, *command]
        root = isolation.cwd or root
    sink = None if verbose else output.open("wb")
    group: dict[str, Any] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    try:
        return subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.PIPE,
            stdout=sink, stderr=sink, **group,
        )  # fmt: skip
    finally:
        if sink is not None:
            sink.close()  # the child has its own copy


def kill_group(child: subprocess.Popen) -> None:
    """Kill the child and everything it started (servers, threads, grandchildren)."""
    if child.poll() is None or sys.platform != "win32":
        try:
            if sys.platform == "win32":
                subprocess.run(
                    ["taskkill", "/F", "/T", "/PID", str(child.pid)],
                    capture_output=True,
                )
            else:
                os.killpg(child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    child.wait()


def read_status(files: Path) -> dict[str, Any]:
    try:
        return json.loads((files / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_supervised(
    child: subprocess.Popen,
    files: Path,
    limits: Limits,
    cancel: threading.Event | _AnyOf | None = None,
    grace: float = FINISH_GRACE,
) -> str:
    """Wait for the child: 'finished', 'exited' (no results), 'timeout' or
    'cancelled'."""
    started = time.monotonic()
    clock = _Clock(limits)
    while child.poll() is None:
        if cancel is not None and cancel.is_set():
            return "cancelled"
        status = read_status(files)
        phase = status.get("phase")
        if phase == "finished":  # `grace`: for pytest's own output (verbose)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(grace)
            return "finished"
        if clock.out(status) or time.monotonic() - started > limits.run:
            return "timeout"
        time.sleep(POLL)
    return "finished" if read_status(files).get("phase") == "finished" else "exited"


class _Clock:
    """Whether the phase the child is in has run out of time.

    The user's own checks believe the status file (`since`, and a test's
    `limit` from @pytest.mark.time_limit). With `limits.asked` set, the
    child is not trusted: each phase or test is timed from when the parent
    first saw it (seen again, its clock does not restart), with the limits
    the parent holds.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.asked = dict(limits.asked) if limits.asked is not None else None
        self.seen: dict[tuple[str, str], float] = {}

    def out(self, status: dict[str, Any]) -> bool:
        phase = status.get("phase") or ""
        if self.asked is None and status.get("known_hang"):
            return True  # stuck where an earlier test hung (known_hangs.py)
        if self.asked is None:  # a test that asked for more time says so
            limit = status.get("limit") or self.limits.of(phase)
            since = status.get("since", time.time())
        else:
            test = str(status.get("test") or "")
            limit = self.limits.of(phase) or self.limits.collecting
            if phase == "test":
                name = test.split("::")[-1].split("[")[0]
                limit = max(self.asked.get(name, 0.0), self.limits.test)
            since = self.seen.setdefault((phase, test), time.time())
        return limit is not None and time.time() - since > limit


def results_of(
    numbers: list[int],
    files: Path,
    verdict: str,
    app_dir: Path,
    limits: Limits,
    root: Path | None = None,
) -> list[StepResult]:
    status = read_status(files)
    known = {r["number"]: StepResult.from_dict(r) for r in status.get("results", [])}
    results = {n: known.get(n, StepResult(n)) for n in numbers}
    if verdict == "timeout":
        where = location = None
        if frame := stuck_frame(files / "stack.txt", app_dir):
            path, line, function = frame
            where = f"{_under(path, app_dir)}:{line} in {function}"
            location = f"{_under(path, root or app_dir)}:{line}"
        _mark_hang(results, status, where, limits, location)
    elif verdict == "exited":
        _mark_exit(results, status, files / "output")
    return [results[n] for n in numbers]


def stuck_frame(stack: Path, app_dir: Path) -> tuple[Path, int, str] | None:
    """(file, line, function) of the newest frame in app/ of the dump."""
    try:
        text = stack.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    app = (app_dir / "app").resolve()
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match and Path(match.group(1)).resolve().is_relative_to(app):
            return Path(match.group(1)).resolve(), int(match.group(2)), match.group(3)
    return None


def _under(path: Path, folder: Path) -> str:
    """`path` relative to `folder` (both resolved), in forward slashes."""
    try:
        return path.relative_to(folder.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _mark_hang(
    results: dict[int, StepResult],
    status: dict[str, Any],
    where: str | None,
    limits: Limits,
    location: str | None = None,
) -> None:
    phase = status.get("phase")
    if phase == "test" and status.get("step") in results:
        result = results[status["step"]]
        result.ran = True
        seconds = status.get("limit") or limits.test
        message = _test_hang(status, where, seconds)
        expectation = status.get("expectation", "")
        result.failures.append(Failure(status["test"], expectation, message, location))
        return
    limit = limits.importing if phase == "importing" else limits.collecting
    message = import_hang(limit, where)
    for result in results.values():
        if not result.ok:
            result.ran, result.errors = True, [message]


def _test_hang(status: dict[str, Any], where: str | None, seconds: float) -> str:
    if status.get("known_hang"):
        return (
            f"the same hang again (stuck at {where or 'the same line'}, where an "
            "earlier test hung): stopped at once, not waited out"
        )
    if where:
        return (
            f"did not finish in {seconds:g} s (stuck at {where}): does a background "
            "task or a path operation never end? The test client waits for every task"
        )
    return (
        f"did not finish in {seconds:g} s, and no code of app/ was running: the "
        "machine may be busy. Run the check again, or give it more time: "
        "WORKSHOP_TEST_LIMIT=30 workshop check"
    )


def _mark_exit(
    results: dict[int, StepResult], status: dict[str, Any], output: Path
) -> None:
    phase = status.get("phase", "starting")
    if phase == "importing":
        message = (
            "the checks ended while app/ was imported, without a result: "
            "does app/ call os._exit() or exit the process at import?"
        )
    else:
        last = _last_line(output)
        message = "the checks ended without a result" + (f": {last}" if last else "")
    for result in results.values():
        if not result.ok:
            result.ran, result.errors = True, [message]


def _last_line(output: Path) -> str:
    try:
        lines = output.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return next((line.strip() for line in reversed(lines) if line.strip()), "")
