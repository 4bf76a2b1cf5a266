"""Run step suites against one app, supervised, and return per-step results.

The suites run in a child process (`python -m workshop.runner`, in a process
group of its own) under time limits: importing app/, collecting the tests,
each test, and the whole run. When a limit runs out, the whole group is
killed and the result says in one line which test hung and where in app/ it
was stuck. A child that ends without its results is a failure, never a pass.
Ctrl-C in the parent kills the child at once.
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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.results import Failure, StepResult

POLL = 0.02  # seconds between looks at the child
FINISH_GRACE = 1.0  # seconds a finished child may take to exit before the kill
_FRAME = re.compile(r'^\s*File "(.+)", line (\d+) in (\S+)')


@dataclass(frozen=True)
class Limits:
    """Seconds each phase of a run may take before the child is stopped."""

    importing: float = 5.0
    collecting: float = 15.0
    test: float = 6.0
    run: float = 300.0

    @classmethod
    def from_env(cls) -> Limits:
        """WORKSHOP_TEST_LIMIT and WORKSHOP_IMPORT_LIMIT: seconds, for slow machines."""
        test = float(os.environ.get("WORKSHOP_TEST_LIMIT") or cls.test)
        importing = float(os.environ.get("WORKSHOP_IMPORT_LIMIT") or cls.importing)
        return cls(importing=importing, test=test)

    def of(self, phase: str) -> float | None:
        return {"importing": self.importing, "collecting": self.collecting}.get(
            phase, self.test if phase == "test" else None
        )


def run_suites(
    root: Path,
    app_dir: Path,
    numbers: list[int],
    *,
    stop_at_first_red: bool = False,
    verbose: bool = False,
    color: bool = False,
    limits: Limits | None = None,
) -> list[StepResult]:
    """Run the suites of `numbers` (in that order) against `app_dir`/app.

    With `stop_at_first_red`, the suites after the first red step are not run
    (their results say `ran=False`). With `verbose`, pytest's own output goes
    to the terminal; otherwise only the results speak.
    """
    limits = limits or Limits.from_env()
    with tempfile.TemporaryDirectory(prefix="workshop-check-") as folder:
        files = Path(folder)
        command = child_command(root, app_dir, numbers, files, limits)
        command += ["--stop-at-first-red"] * stop_at_first_red
        command += ["--verbose"] * verbose + ["--color"] * color
        child = start(command, root, files / "output", verbose)
        try:
            verdict = supervise(child, files, limits)
        finally:
            kill_group(child)
        return results_of(numbers, files, verdict, app_dir, limits)


def child_command(
    root: Path, app_dir: Path, numbers: list[int], files: Path, limits: Limits
) -> list[str]:
    phases = {"importing": limits.importing, "collecting": limits.collecting}
    return [
        sys.executable, "-m", "workshop.runner", str(app_dir),
        *map(str, numbers),
        "--root", str(root),
        "--status", str(files / "status.json"),
        "--stack", str(files / "stack.txt"),
        "--limits", json.dumps({**phases, "test": limits.test}),
    ]  # fmt: skip


def start(command: list[str], root: Path, output: Path, verbose: bool):
    """The child in a process group of its own, so that a kill reaches all of it."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("WORKSHOP_APP_DIR", None)
    sink = None if verbose else output.open("wb")
    group: dict[str, Any] = (
        {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        if sys.platform == "win32"
        else {"start_new_session": True}
    )
    return subprocess.Popen(
        command, cwd=root, env=env, stdin=subprocess.DEVNULL,
        stdout=sink, stderr=sink, **group,
    )  # fmt: skip


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


def supervise(child: subprocess.Popen, files: Path, limits: Limits) -> str:
    """Wait for the child: 'finished', 'exited' (no results) or 'timeout'."""
    started = time.monotonic()
    while child.poll() is None:
        status = read_status(files)
        phase = status.get("phase")
        if phase == "finished":
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(FINISH_GRACE)
            return "finished"
        limit = limits.of(phase or "")
        since = status.get("since", time.time())
        if limit is not None and time.time() - since > limit:
            return "timeout"
        if time.monotonic() - started > limits.run:
            return "timeout"
        time.sleep(POLL)
    return "finished" if read_status(files).get("phase") == "finished" else "exited"


def results_of(
    numbers: list[int], files: Path, verdict: str, app_dir: Path, limits: Limits
) -> list[StepResult]:
    status = read_status(files)
    known = {r["number"]: StepResult.from_dict(r) for r in status.get("results", [])}
    results = {n: known.get(n, StepResult(n)) for n in numbers}
    if verdict == "timeout":
        _mark_hang(results, status, stuck_at(files / "stack.txt", app_dir), limits)
    elif verdict == "exited":
        _mark_exit(results, status, files / "output")
    return [results[n] for n in numbers]


def stuck_at(stack: Path, app_dir: Path) -> str | None:
    """'app/tasks.py:31 in send_digest': the newest frame in app/ of the dump."""
    try:
        text = stack.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    app = (app_dir / "app").resolve()
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match and Path(match.group(1)).resolve().is_relative_to(app):
            name = Path(match.group(1)).resolve().relative_to(app.parent).as_posix()
            return f"{name}:{match.group(2)} in {match.group(3)}"
    return None


def _mark_hang(
    results: dict[int, StepResult],
    status: dict[str, Any],
    where: str | None,
    limits: Limits,
) -> None:
    phase = status.get("phase")
    at = f"stuck at {where}" if where else "stuck"
    if phase == "test" and status.get("step") in results:
        result = results[status["step"]]
        result.ran = True
        message = (
            f"did not finish in {limits.test:g} s ({at}): does a background task "
            "or a path operation never end? The test client waits for every task"
        )
        result.failures.append(
            Failure(status["test"], status.get("expectation", ""), message)
        )
        return
    limit = limits.importing if phase == "importing" else limits.collecting
    message = (
        f"importing app/ did not finish in {limit:g} s ({at}): code at the top "
        "of a module runs on import; start servers and loops in functions "
        "(run the app with `make run`, not uvicorn.run in main.py)"
    )
    for result in results.values():
        if not result.ok:
            result.ran, result.errors = True, [message]


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
