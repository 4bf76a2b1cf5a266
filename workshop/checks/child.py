"""The child process that runs step suites: `python -m workshop.runner ...`.

It imports app/ once on its own first, so a broken app is one line with
`file:line` instead of the same error in every test. Then it runs pytest in
this process and sorts the reports into per-step results. As it goes it keeps
a status file up to date (what it is doing, since when, the results so far), so
the parent (workshop/suites.py) can stop it when something hangs and still say
what had passed. Before a time limit runs out, faulthandler writes every
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
import re
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from workshop.diagnose import advice
from workshop.results import Failure, StepResult

_SUITE_FILE = re.compile(r"test_step_(\d+)\.py")
_INTROSPECTION = re.compile(r"^\s*\+\s+(where|and)\b")
MESSAGE_LINES = 6
LINE_WIDTH = 200
NEVER_AWAITED = "was never awaited"
# What the suites import, loaded before app/ (and by a spare before its task).
WARM_MODULES = ("pytest", "fastapi", "fastapi.testclient", "httpx", "uvicorn")
# Set while the suites run here: tests/steps/conftest.py then leaves the time
# limits to the supervisor and arms no timer of its own (tests/steps/timeouts.py).
SUPERVISED = "WORKSHOP_SUPERVISED"
# @pytest.mark.time_limit(SECONDS): a test that needs longer than the test
# limit by design gets the larger of the two (tests/steps/timeouts.py too).
TIME_LIMIT_MARKER = "time_limit"


class Status:
    """The status file the parent reads: phase, since when, results so far."""

    def __init__(self, path: Path, stack: Path, limits: dict[str, float]) -> None:
        self.path, self.limits = path, limits
        self.stack = stack.open("w")
        self.data: dict[str, Any] = {"phase": "starting", "since": time.time()}

    def enter(self, phase: str, results: dict[int, StepResult], **info: Any) -> None:
        """Write the new phase; arm the stack dump just before its limit (a
        test's own `limit` in `info`, when it asked for a longer one)."""
        limit = info.get("limit") or self.limits.get(phase)
        faulthandler.cancel_dump_traceback_later()
        if limit:
            faulthandler.dump_traceback_later(max(limit - 0.3, 0.1), file=self.stack)
        self.data = {"phase": phase, "since": time.time(), **info}
        self.data["results"] = [r.as_dict() for r in results.values()]
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.data), encoding="utf-8")
        os.replace(temporary, self.path)


def shorten(text: str, lines: int = MESSAGE_LINES, width: int = LINE_WIDTH) -> str:
    """The first few lines of `text`, each cut to a readable width."""
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    kept = [line for line in kept if not _INTROSPECTION.match(line)]
    cut = [line if len(line) <= width else line[: width - 1] + "…" for line in kept]
    if len(cut) > lines:
        cut = [*cut[:lines], "…"]
    return "\n".join(cut)


def essential(longrepr: object) -> str:
    """The crash message of a pytest report, without the traceback."""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        message = crash.message.removeprefix("AssertionError: ")
        return shorten(message.removeprefix("Failed: "))
    text = str(longrepr)
    # Collection errors: the interesting lines are pytest's "E   " lines.
    errors = [line[4:] for line in text.splitlines() if line.startswith("E   ")]
    return shorten("\n".join(errors[-MESSAGE_LINES:]) if errors else text)


def docstring(item: object) -> str | None:
    doc = getattr(getattr(item, "obj", None), "__doc__", None)
    if not doc or not doc.strip():
        return None
    return " ".join(doc.strip().split("\n\n")[0].split())


def load_error(app_dir: Path) -> str | None:
    """Import app/ as the suites will; a failure as `app/main.py:12: Error: ...`."""
    if not (app_dir / "app" / "__init__.py").is_file():
        return (
            "app/__init__.py is missing: create it (an empty file makes app/ a package)"
        )
    module = "app.main" if (app_dir / "app" / "main.py").is_file() else "app"
    sys.path.insert(0, str(app_dir))
    try:
        importlib.import_module(module)
    except BaseException as error:  # SystemExit too: sys.exit() at import
        # one line: the place, the error and its fix come first in a report
        return " — ".join(describe_load_error(error, app_dir).splitlines())
    finally:
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]
        sys.path.remove(str(app_dir))
    return None


def describe_load_error(error: BaseException, app_dir: Path) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if _inside(Path(f.filename), app_dir)]
    where = "app/"
    if isinstance(error, SyntaxError) and error.filename:
        where = _relative(Path(error.filename), app_dir, error.lineno)
    elif ours:
        where = _relative(Path(ours[-1].filename), app_dir, ours[-1].lineno)
    kind = type(error).__name__
    text = f"{kind}: {error}" if str(error) else kind
    if isinstance(error, SystemExit):
        text = f"calls sys.exit({error.code!r}) while app/ is imported"
    found = advice(text)
    return f"{where}: {text}" + (f"\n{found}" if found else "")


def _inside(path: Path, app_dir: Path) -> bool:
    return path.resolve().is_relative_to((app_dir / "app").resolve())


def _relative(path: Path, app_dir: Path, line: int | None) -> str:
    try:
        name = path.resolve().relative_to(app_dir.resolve()).as_posix()
    except ValueError:
        name = path.name
    return f"{name}:{line}" if line else name


def failure_location(report: Any, root: Path) -> str:
    """'tests/steps/test_step_1.py:42': the line of the test file where it failed
    (the last traceback entry in that file), else the line of the test itself."""
    test_file = report.nodeid.split("::")[0]
    target = (root / test_file).resolve()
    traceback_ = getattr(report.longrepr, "reprtraceback", None)
    for entry in reversed(getattr(traceback_, "reprentries", [])):
        where = getattr(entry, "reprfileloc", None)
        if where is not None and (root / where.path).resolve() == target:
            return f"{test_file}:{where.lineno}"
    _path, line, _name = report.location  # line: 0-based, None for a module
    return test_file if line is None else f"{test_file}:{line + 1}"


class Collector:
    """A pytest plugin that sorts test reports into per-step results."""

    def __init__(
        self,
        results: dict[int, StepResult],
        status: Status,
        stop_from: int | None,
        root: Path,
    ) -> None:
        self.results, self.status, self.root = results, status, root
        self.stop_from = stop_from  # stop after a red step numbered this or later
        self.expectations: dict[str, str] = {}
        self.never_awaited: dict[str, str] = {}  # test -> the warning
        self.raw: dict[str, str] = {}  # test -> its message, before any advice
        self.asked: dict[str, float] = {}  # seconds, from the time_limit marker
        self.stopped = False

    def _step(self, nodeid: str) -> StepResult | None:
        match = _SUITE_FILE.search(nodeid.split("::")[0])
        return self.results.get(int(match.group(1))) if match else None

    def pytest_collectreport(self, report) -> None:
        step = self._step(report.nodeid)
        if step is not None and report.failed:
            step.ran = True
            step.errors.append(essential(report.longrepr))

    def pytest_collection_modifyitems(self, config, items) -> None:
        for item in items:
            self.expectations[item.nodeid] = docstring(item) or item.name
            if (seconds := asked_limit(item)) is not None:
                self.asked[item.nodeid] = seconds
        broken = [n for n, s in self.results.items() if s.errors or s.problem]
        broken = [n for n in broken if self._stops_at(n)]
        if broken:
            # A suite that cannot even be imported is red: skip the later ones.
            order = list(self.results)
            last = order.index(broken[0])
            keep, drop = [], []
            for item in items:
                step = self._step(item.nodeid)
                later = step is not None and order.index(step.number) > last
                (drop if later else keep).append(item)
            if drop:
                self.stopped = True
                config.hook.pytest_deselected(items=drop)
                items[:] = keep

    def _stops_at(self, number: int) -> bool:
        return self.stop_from is not None and number >= self.stop_from

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        step = self._step(nodeid)
        expectation = self.expectations.get(nodeid, nodeid)
        number = step.number if step else None
        info: dict[str, Any] = {}
        if nodeid in self.asked:  # the larger of the test's and the run's limit
            info["limit"] = max(self.asked[nodeid], self.status.limits.get("test", 0))
        self.status.enter(
            "test",
            self.results,
            test=nodeid,
            step=number,
            expectation=expectation,
            **info,
        )

    def pytest_warning_recorded(self, warning_message, when, nodeid, location) -> None:
        """pytest records a test's warnings after its reports: a failure
        already noted gets the warning (and the fix it means) now."""
        text = str(warning_message.message)
        if NEVER_AWAITED not in text or nodeid in self.never_awaited:
            return
        self.never_awaited[nodeid] = text
        step = self._step(nodeid)
        for failure in step.failures if step is not None else []:
            if failure.test == nodeid:
                failure.message = self._with_advice(self.raw[nodeid], nodeid)

    def pytest_runtest_logreport(self, report) -> None:
        step = self._step(report.nodeid)
        if step is None:
            return
        step.ran = True
        if report.failed:
            if any(f.test == report.nodeid for f in step.failures):
                return  # a teardown error after a failed call: one line is enough
            expectation = self.expectations.get(report.nodeid, report.nodeid)
            message = essential(report.longrepr)
            if report.when != "call":
                message = f"(error in {report.when}) {message}"
            self.raw[report.nodeid] = message
            message = self._with_advice(message, report.nodeid)
            where = failure_location(report, self.root)
            step.failures.append(Failure(report.nodeid, expectation, message, where))
        elif report.when == "call" and report.passed:
            step.passed += 1

    def _with_advice(self, message: str, nodeid: str) -> str:
        """The fix first: the line a learner reads is the one to act on."""
        warning = self.never_awaited.get(nodeid)
        warned = f"Python warned: {warning}\n{message}" if warning else message
        found = advice(warned)  # the warning's fix quotes it: no need for both
        return f"{found}\n{message}" if found else warned

    def pytest_runtest_teardown(self, item, nextitem) -> None:
        step = self._step(item.nodeid)
        if step is None or nextitem is None or not self._stops_at(step.number):
            return
        if step is not self._step(nextitem.nodeid) and not step.ok:
            self.stopped = True
            item.session.shouldstop = f"step {step.number} is red"


def asked_limit(item: Any) -> float | None:
    """The seconds a test asks for with @pytest.mark.time_limit(N), if any."""
    marker = item.get_closest_marker(TIME_LIMIT_MARKER)
    if marker is None:
        return None
    seconds = marker.args[0] if marker.args else marker.kwargs.get("seconds")
    try:
        return float(seconds) if float(seconds) > 0 else None
    except (TypeError, ValueError):
        return None


def run_pytest(
    root: Path,
    app_dir: Path,
    results: dict[int, StepResult],
    status: Status,
    *,
    stop_from: int | None,
    verbose: bool,
    color: bool,
) -> None:
    """Run the suites of `results` against `app_dir`/app, filling `results`."""
    import pytest

    files = []
    for number, result in results.items():
        path = root / "tests" / "steps" / f"test_step_{number}.py"
        if path.is_file():
            files.append(str(path))
        else:
            result.ran = True
            result.problem = f"missing suite {path.relative_to(root)}"
    if not files:
        return
    args = [
        *files,
        f"--rootdir={root}",
        "-p",
        "no:cacheprovider",
        "--continue-on-collection-errors",
        "-o",
        "verbosity_assertions=2",  # never "'ada@example...'": show what differs
        f"--color={'yes' if color else 'no'}",
        "-v" if verbose else "-q",
    ]
    collector = Collector(results, status, stop_from, root)
    os.environ["WORKSHOP_APP_DIR"] = str(app_dir)
    os.environ[SUPERVISED] = "1"  # tests/steps/conftest.py: no timer of its own
    status.enter("collecting", results)
    output = io.StringIO()
    with contextlib.ExitStack() as stack:
        if not verbose:
            stack.enter_context(contextlib.redirect_stdout(output))
            stack.enter_context(contextlib.redirect_stderr(output))
        code = pytest.main(args, plugins=[collector])
    if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        detail = essential(output.getvalue()) if not verbose else "see above"
        for result in results.values():
            if not result.problem:
                result.ran = True
                result.problem = f"the checks could not start: {detail}"
    if not collector.stopped:
        for result in results.values():
            if not result.ran:
                result.ran = True
                result.problem = "its suite has no tests"


def run(args: argparse.Namespace) -> None:
    results = {n: StepResult(n) for n in args.numbers}
    status = Status(args.status, args.stack, json.loads(args.limits))
    warm_up()  # not timed as "importing app/": a loaded machine is slow at this
    status.enter("importing", results)
    error = load_error(args.app_dir)
    if error is not None:
        for result in results.values():
            result.ran = True
            result.errors.append(error)
    else:
        run_pytest(
            args.root,
            args.app_dir,
            results,
            status,
            stop_from=args.stop_from,
            verbose=args.verbose,
            color=args.color,
        )
    if args.stop_from is not None:
        numbers = list(results)
        red = next(
            (
                i
                for i, n in enumerate(numbers)
                if n >= args.stop_from and not results[n].ok
            ),
            None,
        )
        for n in numbers[red + 1 :] if red is not None else []:
            results[n] = StepResult(n)  # not run: the learner is not there yet
    status.enter("finished", results)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workshop.runner")
    parser.add_argument("app_dir", type=Path)
    parser.add_argument("numbers", type=int, nargs="+")
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--status", type=Path, required=True)
    parser.add_argument("--stack", type=Path, required=True)
    parser.add_argument("--limits", default="{}")
    parser.add_argument("--stop-from", type=int)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--color", action="store_true")
    return parser


def warm_up() -> None:
    """Import what every run needs (and no part of app/)."""
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def wait_for_task() -> list[str] | None:
    """A spare runner: warm up, then wait for its arguments (one JSON line on
    stdin). app/ is imported only after, so it is fresh."""
    warm_up()
    line = sys.stdin.readline()
    return json.loads(line) if line.strip() else None


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--wait"]:
        argv = wait_for_task()
        if argv is None:
            os._exit(0)  # the parent went away before giving a task
    run(parser().parse_args(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    # Do not wait for threads the app may have left running: the results are in.
    os._exit(0)


if __name__ == "__main__":
    main()
