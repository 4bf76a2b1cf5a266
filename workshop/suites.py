"""Run step suites against one app and report, step by step, what failed.

`run_suites()` runs pytest in this process (fast: one interpreter, one import of
the app) with `WORKSHOP_APP_DIR` naming the folder that holds the `app/` under
test. One process tests one app, so a caller that needs another app starts
another process: `python -m workshop.suites APP_DIR N [N ...] --json FILE`
writes the results as JSON (`workshop verify` runs these in parallel).

pytest is imported only inside `run_suites()`.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from workshop.project import Step

_SUITE_FILE = re.compile(r"test_step_(\d+)\.py")
MESSAGE_LINES = 6
LINE_WIDTH = 200


@dataclass
class Failure:
    """One failed test: what was expected, in the learner's words, and why not."""

    test: str  # pytest node id
    expectation: str  # the test's docstring (or its name when it has none)
    message: str  # the essential assertion message, a few lines at most


@dataclass
class StepResult:
    number: int
    ran: bool = False  # False: not run (stopped after a red step)
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # the suite could not be imported
    problem: str | None = None  # no suite to run: missing, empty, pytest broken

    @property
    def ok(self) -> bool:
        """Green: every test of the step ran and passed."""
        return self.ran and not self.failures and not self.errors and not self.problem

    @property
    def red(self) -> bool:
        """Red: the suite ran, and a test failed or the suite could not import."""
        return self.ran and not self.problem and bool(self.failures or self.errors)

    @property
    def messages(self) -> list[str]:
        return [self.problem] if self.problem else self.errors

    @classmethod
    def from_dict(cls, data: dict) -> StepResult:
        failures = [Failure(**f) for f in data.pop("failures")]
        return cls(**data, failures=failures)


def shorten(text: str, lines: int = MESSAGE_LINES, width: int = LINE_WIDTH) -> str:
    """The first few lines of `text`, each cut to a readable width."""
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    cut = [line if len(line) <= width else line[: width - 1] + "…" for line in kept]
    if len(cut) > lines:
        cut = [*cut[:lines], "…"]
    return "\n".join(cut)


def _essential(longrepr: object) -> str:
    """The crash message of a pytest report, without the traceback."""
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        message = crash.message.removeprefix("AssertionError: ")
        message = message.removeprefix("Failed: ")
        return shorten(message)
    text = str(longrepr)
    # Collection errors: the interesting lines are pytest's "E   " lines.
    errors = [line[4:] for line in text.splitlines() if line.startswith("E   ")]
    return shorten("\n".join(errors[-MESSAGE_LINES:]) if errors else text)


def _docstring(item: object) -> str | None:
    doc = getattr(getattr(item, "obj", None), "__doc__", None)
    if not doc or not doc.strip():
        return None
    first_paragraph = doc.strip().split("\n\n")[0]
    return " ".join(first_paragraph.split())


class _Collector:
    """A pytest plugin that sorts test reports into per-step results."""

    def __init__(self, results: dict[int, StepResult], stop_at_first_red: bool):
        self.results = results
        self.stop_at_first_red = stop_at_first_red
        self.expectations: dict[str, str] = {}
        self.stopped = False

    def _step(self, nodeid: str) -> StepResult | None:
        match = _SUITE_FILE.search(nodeid.split("::")[0])
        return self.results.get(int(match.group(1))) if match else None

    def pytest_collectreport(self, report) -> None:
        step = self._step(report.nodeid)
        if step is not None and report.failed:
            step.ran = True
            step.errors.append(_essential(report.longrepr))

    def pytest_collection_modifyitems(self, config, items) -> None:
        for item in items:
            self.expectations[item.nodeid] = _docstring(item) or item.name
        broken = [n for n, s in self.results.items() if s.errors or s.problem]
        if self.stop_at_first_red and broken:
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

    def pytest_runtest_logreport(self, report) -> None:
        step = self._step(report.nodeid)
        if step is None:
            return
        step.ran = True
        if report.failed:
            if any(f.test == report.nodeid for f in step.failures):
                return  # a teardown error after a failed call: one line is enough
            expectation = self.expectations.get(report.nodeid, report.nodeid)
            message = _essential(report.longrepr)
            if report.when != "call":
                message = f"(error in {report.when}) {message}"
            step.failures.append(Failure(report.nodeid, expectation, message))
        elif report.when == "call" and report.passed:
            step.passed += 1

    def pytest_runtest_teardown(self, item, nextitem) -> None:
        if not self.stop_at_first_red:
            return
        if nextitem is None:
            return  # nothing left to skip
        step = self._step(item.nodeid)
        if step is not None and step is not self._step(nextitem.nodeid) and not step.ok:
            self.stopped = True
            item.session.shouldstop = f"step {step.number} is red"


def run_suites(
    root: Path,
    app_dir: Path,
    numbers: list[int],
    *,
    stop_at_first_red: bool = False,
    verbose: bool = False,
    color: bool = False,
) -> list[StepResult]:
    """Run the suites of `numbers` (in that order) against `app_dir`/app.

    With `stop_at_first_red`, the suites after the first red step are not run
    (their results say `ran=False`). With `verbose`, pytest's own output goes
    to stdout; otherwise it is swallowed and only the results speak.
    """
    import pytest

    results = {n: StepResult(n) for n in numbers}
    files = []
    for n in numbers:
        path = Step(n, root).suite
        if path.is_file():
            files.append(str(path))
        else:
            results[n].ran = True
            results[n].problem = f"missing suite {path.relative_to(root)}"
    if files:
        args = [
            *files,
            f"--rootdir={root}",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            f"--color={'yes' if color else 'no'}",
            "-v" if verbose else "-q",
        ]
        collector = _Collector(results, stop_at_first_red)
        saved = os.environ.get("WORKSHOP_APP_DIR")
        os.environ["WORKSHOP_APP_DIR"] = str(app_dir)
        try:
            output = io.StringIO()
            if verbose:
                code = pytest.main(args, plugins=[collector])
            else:
                with (
                    contextlib.redirect_stdout(output),
                    contextlib.redirect_stderr(output),
                ):
                    code = pytest.main(args, plugins=[collector])
        finally:
            if saved is None:
                os.environ.pop("WORKSHOP_APP_DIR", None)
            else:
                os.environ["WORKSHOP_APP_DIR"] = saved
        if code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
            detail = _essential(output.getvalue()) if not verbose else "see above"
            for result in results.values():
                if not result.problem:
                    result.ran = True
                    result.problem = f"the suites could not start: {detail}"
        if not collector.stopped:
            for result in results.values():
                if not result.ran:
                    result.ran = True
                    result.problem = "its suite has no tests"
    if stop_at_first_red:
        red = next((i for i, n in enumerate(numbers) if not results[n].ok), None)
        for n in numbers[red + 1 :] if red is not None else []:
            results[n] = StepResult(n)  # not run: the learner is not there yet
    return [results[n] for n in numbers]


def main(argv: list[str] | None = None) -> int:
    """`python -m workshop.suites APP_DIR N... --json FILE` (used by verify)."""
    parser = argparse.ArgumentParser(prog="python -m workshop.suites")
    parser.add_argument("app_dir", type=Path)
    parser.add_argument("numbers", type=int, nargs="+")
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--json", type=Path, required=True, dest="json_path")
    args = parser.parse_args(argv)
    results = run_suites(args.root.resolve(), args.app_dir.resolve(), args.numbers)
    data = [asdict(result) for result in results]
    args.json_path.write_text(json.dumps(data), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
