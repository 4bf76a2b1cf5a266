"""The pytest plugin of the checks' child: test reports sorted into step results.

`Collector` turns pytest's reports into `StepResult`s (the expectation a test
states in its docstring, the crash message cut short, the fix when
workshop/checks/diagnose.py knows one), stops after the first red step when
asked, and tells the child's status file which test runs (and under which
time limit: `@pytest.mark.time_limit`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workshop.checks import app_errors
from workshop.checks.diagnose import advice
from workshop.checks.results import Failure, StepResult

if TYPE_CHECKING:
    from workshop.checks.child import Status

_SUITE_FILE = re.compile(r"test_step_(\d+)(?:_crash)?\.py")
_INTROSPECTION = re.compile(r"^\s*\+\s+(where|and)\b")
MESSAGE_LINES = 6
LINE_WIDTH = 200
NEVER_AWAITED = "was never awaited"
# @pytest.mark.time_limit(SECONDS): a test that needs longer than the test
# limit by design gets the larger of the two (tests/steps/timeouts.py too).
TIME_LIMIT_MARKER = "time_limit"


def shorten(text: str, lines: int = MESSAGE_LINES, width: int = LINE_WIDTH) -> str:
    """The first few lines of `text`, each cut to a readable width; the first
    (what is wrong, then its fix) may be twice as long, so the fix stays."""
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    kept = [line for line in kept if not _INTROSPECTION.match(line)]
    cut = [_cut(line, width * 2 if i == 0 else width) for i, line in enumerate(kept)]
    if len(cut) > lines:
        cut = [*cut[:lines], "…"]
    return "\n".join(cut)


def _cut(line: str, most: int) -> str:
    return line if len(line) <= most else line[: most - 1] + "…"


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


def skip_reason(longrepr: Any) -> str:
    """pytest's skip reason, without its "Skipped: " prefix."""
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(reason).removeprefix("Skipped: ")


def docstring(item: object) -> str | None:
    doc = getattr(getattr(item, "obj", None), "__doc__", None)
    if not doc or not doc.strip():
        return None
    return " ".join(doc.strip().split("\n\n")[0].split())


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
        after: str | None = None,
    ) -> None:
        self.results, self.status, self.root = results, status, root
        self.after = after  # run only the tests after this one (it hung before)
        self.stop_from = stop_from  # stop after a red step numbered this or later
        self.expectations: dict[str, str] = {}
        self.never_awaited: dict[str, str] = {}  # test -> the warning
        self.raw: dict[str, str] = {}  # test -> its message, before any advice
        self.asked: dict[str, float] = {}  # seconds, from the time_limit marker
        self.stopped = False
        self.on_finish: Callable[[], None] | None = None  # every test reported

    def pytest_sessionfinish(self, session, exitstatus) -> None:
        broken = (pytest_exit("INTERNAL_ERROR"), pytest_exit("USAGE_ERROR"))
        if self.on_finish is not None and exitstatus not in broken:
            self.on_finish()

    def _step(self, nodeid: str) -> StepResult | None:
        match = _SUITE_FILE.search(nodeid.split("::")[0])
        return self.results.get(int(match.group(1))) if match else None

    def pytest_collectreport(self, report) -> None:
        step = self._step(report.nodeid)
        if step is not None and report.failed:
            step.ran = True
            step.errors.append(essential(report.longrepr))

    def pytest_collection_modifyitems(self, config, items) -> None:
        self._skip_up_to_after(config, items)
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

    def _skip_up_to_after(self, config, items) -> None:
        """Drop the tests up to `after` (an earlier run had them): their steps
        count as run, whether or not tests of theirs are left."""
        ids = [item.nodeid for item in items]
        if self.after is None or self.after not in ids:
            return
        done = items[: ids.index(self.after) + 1]
        for item in done:
            if (step := self._step(item.nodeid)) is not None:
                step.ran = True
        config.hook.pytest_deselected(items=done)
        items[:] = items[len(done) :]

    def _stops_at(self, number: int) -> bool:
        return self.stop_from is not None and number >= self.stop_from

    def pytest_runtest_logstart(self, nodeid, location) -> None:
        app_errors.take()  # what an earlier test's app raised is not this one's
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
            where: str | None = failure_location(report, self.root)
            if raised := self._app_raised():  # the app's own error comes first
                # its fix is read where it raised; the test's reading follows,
                # unless it only repeats that error (the TestClient re-raised it)
                said = message if message.strip() not in raised else ""
                message, where = f"{raised}\n{said}".rstrip("\n"), None
            else:
                message = self._with_advice(message, report.nodeid)
            step.failures.append(Failure(report.nodeid, expectation, message, where))
        elif report.when == "call" and report.passed:
            step.passed += 1
        elif report.skipped:  # e.g. no Redis answers: said, never silent
            step.skipped.append(skip_reason(report.longrepr))

    @staticmethod
    def _app_raised() -> str | None:
        """The first exception the app raised in app/ during this test, as
        `app/main.py:47: NameError: ...` (and its fix), if any."""
        for error, in_task in app_errors.take():
            if line := app_errors.app_line(error, in_task):
                return line
        return None

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


def pytest_exit(name: str) -> int:
    import pytest

    return int(getattr(pytest.ExitCode, name))


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
