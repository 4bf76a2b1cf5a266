"""The child process that runs step suites: `python -m workshop.checks.child ...`.

It imports app/ once on its own first (workshop/importing.py), so a broken
app is one line with `file:line` instead of the same error in every test. Then
it runs pytest in this process, whose plugin (workshop/checks/plugin.py) sorts
the reports into per-step results. As it goes it keeps
a status file up to date (what it is doing, since when, the results so far), so
the parent (workshop/checks/suites.py) can stop it when something hangs and
still say what had passed. Before a time limit runs out, faulthandler writes every
thread's stack to a file: the parent reads where in app/ the code was stuck.

pytest is imported only in `run_pytest()`.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib
import io
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from workshop.checks import known_hangs
from workshop.checks.plugin import Collector, essential
from workshop.checks.results import StepResult
from workshop.importing import load_error

# What the suites import, loaded before app/ (and by a spare before its task).
WARM_MODULES = (
    "pytest",
    "fastapi",
    "fastapi.testclient",
    "httpx",
    "httpcore",
    "uvicorn",
)
NO_TESTS = "its suite has no tests"
ALREADY_IMPORTED = "Module already imported so cannot be rewritten"
# Set while the suites run here: tests/steps/conftest.py then leaves the time
# limits to the supervisor and arms no timer of its own (tests/steps/timeouts.py).
SUPERVISED = "WORKSHOP_SUPERVISED"


class Status:
    """The status file the parent reads: phase, since when, results so far."""

    def __init__(self, path: Path, stack: Path, limits: dict[str, float]) -> None:
        self.path, self.limits = path, limits
        self.stack = stack.open("w")
        self.data: dict[str, Any] = {"phase": "starting", "since": time.time()}
        self.lock = threading.Lock()

    def enter(self, phase: str, results: dict[int, StepResult], **info: Any) -> None:
        """Write the new phase; arm the stack dump just before its limit (a
        test's own `limit` in `info`, when it asked for a longer one)."""
        limit = info.get("limit") or self.limits.get(phase)
        faulthandler.cancel_dump_traceback_later()
        if limit:
            faulthandler.dump_traceback_later(max(limit - 0.3, 0.1), file=self.stack)
        data = {"phase": phase, "since": time.time(), **info}
        data["results"] = [r.as_dict() for r in results.values()]
        with self.lock:
            if self.data.get("known_hang"):
                return  # the test is being stopped: its status stays
            self.data = data
            self._write()

    def test(self) -> str | None:
        """The test running now, if any."""
        data = self.data
        return data.get("test") if data.get("phase") == "test" else None

    def known_hang(self, place: tuple[str, int]) -> None:
        """The running test sits where an earlier step's test hung: write every
        thread's stack (where it is stuck) and tell the parent to stop it."""
        with self.lock:
            faulthandler.dump_traceback(file=self.stack)
            self.stack.flush()
            self.data = {**self.data, "known_hang": f"{place[0]}:{place[1]}"}
            self._write()

    def _write(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data), encoding="utf-8")
        os.replace(temporary, self.path)


def run_pytest(
    root: Path,
    app_dir: Path,
    results: dict[int, StepResult],
    status: Status,
    *,
    stop_from: int | None,
    verbose: bool,
    color: bool,
    after: str | None = None,
    crash: Collection[int] = (),
) -> bool:
    """Run the suites of `results` against `app_dir`/app, filling `results`
    (`after`: only the tests after that one); whether the run stopped early.
    The steps in `crash` get their crash tier too (test_step_N_crash.py, where
    there is one: real processes killed for real, in tens of seconds)."""
    import pytest

    files = []
    for number, result in results.items():
        path = root / "tests" / "steps" / f"test_step_{number}.py"
        if path.is_file():
            files.append(str(path))
        else:
            result.ran = True
            result.problem = f"missing suite {path.relative_to(root)}"
        tier = path.with_name(f"test_step_{number}_crash.py")
        if number in crash and tier.is_file():
            files.append(str(tier))
    if not files:
        return True
    args = [
        *files,
        f"--rootdir={root}",
        "-p",
        "no:cacheprovider",
        "--continue-on-collection-errors",
        "-o",
        "verbosity_assertions=2",  # never "'ada@example...'": show what differs
        "-W",  # the plugins warm_up() imported: pytest cannot rewrite them
        f"ignore:{ALREADY_IMPORTED}:pytest.PytestAssertRewriteWarning",
        f"--color={'yes' if color else 'no'}",
        "-v" if verbose else "-q",
    ]
    collector = Collector(results, status, stop_from, root, after)
    if not verbose:  # the results are in before pytest tidies up (its gc.collect)
        collector.on_finish = lambda: status.enter(
            "finished", final(results, stopped=collector.stopped, stop_from=stop_from)
        )
    os.environ["WORKSHOP_APP_DIR"] = str(app_dir)
    os.environ[SUPERVISED] = "1"  # tests/steps/conftest.py: no timer of its own
    status.enter("collecting", results)
    output = io.StringIO()
    with contextlib.ExitStack() as stack:
        if not verbose:
            stack.enter_context(contextlib.redirect_stdout(output))
            stack.enter_context(contextlib.redirect_stderr(output))
        code = pytest.main(args, plugins=[collector])
    if code == pytest.ExitCode.INTERNAL_ERROR:
        internal_error(results, output.getvalue() if not verbose else None)
    elif code == pytest.ExitCode.USAGE_ERROR:
        detail = essential(output.getvalue()) if not verbose else "see above"
        for result in results.values():
            if not result.problem:
                result.ran = True
                result.problem = f"the checks could not start: {detail}"
    return collector.stopped


def final(
    results: dict[int, StepResult], *, stopped: bool, stop_from: int | None
) -> dict[int, StepResult]:
    """The results as reported (`results` stay as they are): a suite that ran
    no test is red, unless the run stopped before it; with `stop_from`, the
    steps after the first red one numbered `stop_from` or later did not run."""
    done = {
        n: r if stopped or r.ran else replace(r, ran=True, problem=NO_TESTS)
        for n, r in results.items()
    }
    if stop_from is not None:
        numbers = list(done)
        red = next(
            (i for i, n in enumerate(numbers) if n >= stop_from and not done[n].ok),
            None,
        )
        for n in numbers[red + 1 :] if red is not None else []:
            done[n] = StepResult(n)  # not run: the learner is not there yet
    return done


INTERNAL_REPORT = "workshop-check-internal-error.txt"


def internal_error(results: dict[int, StepResult], output: str | None) -> None:
    """pytest stopped on an error of the checks themselves (INTERNALERROR):
    never a traceback for the learner, one line saying what to do; pytest's
    report goes to a file. A step whose tests already failed keeps them."""
    where = "above"
    if output is not None:
        path = Path(tempfile.gettempdir()) / INTERNAL_REPORT
        with contextlib.suppress(OSError):
            path.write_text(output, encoding="utf-8")
            where = f"in {path}"
    line = (
        "the checks themselves stopped (a bug of the workshop, not of your app/):"
        f" run `workshop check` again; pytest's report is {where}"
    )
    for result in results.values():
        if not result.failures and not result.problem:
            result.ran = True
            result.problem = line


def run(args: argparse.Namespace) -> None:
    results = {n: StepResult(n) for n in args.numbers}
    status = Status(args.status, args.stack, json.loads(args.limits))
    warm_up()  # not timed as "importing app/": a loaded machine is slow at this
    known = {(str(Path(p).resolve()), int(n)) for p, n in json.loads(args.known_hangs)}
    if known:
        known_hangs.watch(known, status.test, status.known_hang)
    status.enter("importing", results)
    error = load_error(args.app_dir)
    stopped = True  # no suite ran: no "its suite has no tests"
    if error is not None:
        for result in results.values():
            result.ran = True
            result.errors.append(error)
    else:
        stopped = run_pytest(
            args.root,
            args.app_dir,
            results,
            status,
            stop_from=args.stop_from,
            after=args.after,
            verbose=args.verbose,
            color=args.color,
            crash=crash_tiers(args),
        )
    status.enter("finished", final(results, stopped=stopped, stop_from=args.stop_from))


def crash_tiers(args: argparse.Namespace) -> set[int]:
    """The steps whose crash tier runs: those `--crash` names, all without one."""
    if args.crash is None:
        return set()
    return set(args.crash) if args.crash else set(args.numbers)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop.checks.child")
    parser.add_argument("app_dir", type=Path)
    parser.add_argument("numbers", type=int, nargs="+")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--stack", type=Path, required=True)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--stop-from", type=int)
    # [[file, line], ...]: where earlier runs' tests hung (known_hangs.py)
    parser.add_argument("--known-hangs", default="[]")
    # a test that hung in an earlier run: the tests up to it are not run again
    parser.add_argument("--after")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--color", action="store_true")
    # the steps whose crash tier runs too; `--crash` alone: every step's
    parser.add_argument("--crash", type=int, nargs="*", metavar="N")
    return parser


def warm_up() -> None:
    """Import what every run needs (and no part of app/): the modules above,
    and the pytest plugins installed packages declare (anyio's, ...), which
    pytest would otherwise import and assertion-rewrite after the save (a
    third of a second)."""
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    with contextlib.suppress(Exception):  # uvicorn's protocols, loaded on start
        import uvicorn

        uvicorn.Config(_no_app).load()
    from importlib.metadata import entry_points

    for plugin in entry_points(group="pytest11"):
        with contextlib.suppress(Exception):  # pytest says what is wrong later
            importlib.import_module(plugin.module)


async def _no_app(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app for uvicorn.Config.load() in warm_up; never called."""


def wait_for_task(ready: Path | None = None) -> list[str] | None:
    """A spare child: warm up (then create the file `ready`), then wait for
    its arguments (one JSON line on stdin). app/ is imported only after, so
    it is fresh."""
    warm_up()
    if ready is not None:
        with contextlib.suppress(OSError):
            ready.touch()
    line = sys.stdin.readline()
    return json.loads(line) if line.strip() else None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--wait"] and len(argv) <= 2:
        argv = wait_for_task(Path(argv[1]) if len(argv) == 2 else None)
        if argv is None:
            os._exit(0)  # the parent went away before giving a task
    run(parser().parse_args(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    # Do not wait for threads the app may have left running: the results are in.
    os._exit(0)


if __name__ == "__main__":
    main()
