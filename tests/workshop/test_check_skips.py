"""`workshop check` says why a check was skipped (on a laptop with no Redis,
the suites of steps 8 and 9 skip their Redis checks): never a silent skip."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from workshop.checks.plugin import Collector
from workshop.checks.results import StepResult
from workshop.checks.summary import step_line
from workshop.project import Step

NO_REDIS = "no Redis on 127.0.0.1:6379 (set REDIS_URL to use another)"


def report(name: str, outcome: str, when: str = "call") -> SimpleNamespace:
    longrepr = ("tests/steps/queue_support.py", 220, f"Skipped: {NO_REDIS}")
    return SimpleNamespace(
        nodeid=f"tests/steps/test_step_8.py::{name}",
        when=when,
        passed=outcome == "passed",
        failed=outcome == "failed",
        skipped=outcome == "skipped",
        longrepr=longrepr if outcome == "skipped" else None,
    )


def test_a_skipped_check_is_counted_with_its_reason(tmp_path: Path) -> None:
    result = StepResult(8)
    collector = Collector({8: result}, None, None, tmp_path)  # type: ignore[arg-type]
    collector.pytest_runtest_logreport(report("test_a", "passed"))
    collector.pytest_runtest_logreport(report("test_b", "skipped", when="setup"))
    collector.pytest_runtest_logreport(report("test_c", "skipped", when="setup"))
    assert (result.passed, result.skipped) == (1, [NO_REDIS, NO_REDIS])
    assert result.ok  # a skip is not a failure

    line = step_line(Step(8, tmp_path), result)
    assert line.splitlines()[1:] == [f"      - 2 checks skipped: {NO_REDIS}"]


def test_results_saved_before_skips_were_kept_still_load() -> None:
    """A progress file written by an older workshop has no "skipped" field."""
    data = StepResult(3, ran=True, passed=2).as_dict()
    del data["skipped"]
    assert StepResult.from_dict(data) == StepResult(3, ran=True, passed=2)
