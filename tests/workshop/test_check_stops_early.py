"""`workshop check` when a run stops before the step you are on.

A hang in an earlier step ends the run of its lane (workshop/checks/lanes.py):
the step in focus runs in a lane of its own and still has its result. Where
it has none (one core, one lane), that is one line saying which step stopped
it, never a traceback.
"""

from __future__ import annotations

import shutil
from pathlib import Path

HANG = '''\
import time

from app.main import STEP


def test_step_1() -> None:
    """The app has reached step 1."""
    while STEP >= 1:
        time.sleep(0.05)
'''


def catch_up(root: Path, step: int) -> None:
    shutil.rmtree(root / "app")
    shutil.copytree(root / "checkpoints" / f"step-{step}" / "app", root / "app")


def test_a_hang_in_an_earlier_step_leaves_your_step_checked(
    workshop_repo, run_workshop, git
) -> None:
    catch_up(workshop_repo, 1)
    assert run_workshop("check", cwd=workshop_repo).code == 1  # now on step 2
    (workshop_repo / "tests" / "steps" / "test_step_1.py").write_text(HANG)
    git(workshop_repo, "commit", "-qam", "the course's suite hangs")
    catch_up(workshop_repo, 2)
    env = {"WORKSHOP_TEST_LIMIT": "1"}
    code, out, err = run_workshop("check", cwd=workshop_repo, env=env)
    assert code == 1, err
    assert "Traceback" not in out + err and "StopIteration" not in out + err
    assert "✗ Step 1" in out and "did not finish in 1 s" in out
    assert "✓ Step 2" in out, out
    assert "Step 2 passes, but step 1 no longer does:" in out
    assert "Stuck? Run: workshop hint 1" in out


def test_a_run_stopped_before_your_step_is_one_line(workshop_repo, capsys) -> None:
    from workshop.checks.results import Failure, StepResult
    from workshop.commands.check import show_focus
    from workshop.project import all_steps

    hung = Failure("t", "The app has reached step 1.", "did not finish in 1 s")
    results = [StepResult(0, ran=True, passed=1), StepResult(1, True, 0, [hung])]
    assert show_focus(workshop_repo, all_steps(workshop_repo), results, 2) == 1
    out = capsys.readouterr().out
    assert "✗ Step 1" in out and "did not finish in 1 s" in out
    assert "Step 2 was not checked: the run stopped at step 1" in out
    assert "Stuck? Run: workshop hint 1" in out


def test_a_bug_of_the_tool_is_one_line(monkeypatch, capsys) -> None:
    """Any exception of the tool itself: one line naming what to do, exit 3."""
    from workshop import cli

    def broken(args):
        raise StopIteration

    monkeypatch.setattr(cli, "dispatch", broken)
    monkeypatch.delenv("WORKSHOP_DEBUG", raising=False)
    assert cli.main(["status"]) == 3
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    [line] = err.strip().splitlines()
    assert (
        "the workshop tool failed (StopIteration in test_check_stops_early.py:" in line
    )
    assert "not your code: run the command again" in line


def test_an_edited_suite_is_said_and_the_course_s_runs(
    workshop_repo, run_workshop
) -> None:
    """A `pytest.skip()` added to a step's suite: one line, and the course's
    committed suite decides; the learner's file is kept."""
    suite = workshop_repo / "tests" / "steps" / "test_step_1.py"
    text = suite.read_text()
    edited = text.replace('"""\n', '"""\n    import pytest\n\n    pytest.skip()\n', 1)
    suite.write_text(edited)
    code, out, err = run_workshop("check", "1", cwd=workshop_repo)
    assert code == 1, out + err
    assert (
        "tests/steps/test_step_1.py differs from the course's committed version: "
        "checking with the course's" in out
    )
    assert "✗ Step 1" in out and "assert 0 >= 1" in out and "skipped" not in out
    assert suite.read_text() == edited


def test_an_internal_error_of_pytest_is_one_line(
    workshop_repo, run_workshop, git
) -> None:
    """pytest stopping on an error of the checks themselves (INTERNALERROR,
    seen once under load): one line naming what to do, never its traceback."""
    conftest = workshop_repo / "tests" / "steps" / "conftest.py"
    conftest.write_text(
        conftest.read_text()
        + "\n\ndef pytest_runtest_logreport(report):\n"
        + "    raise RuntimeError('a bug of the checks')\n"
    )
    git(workshop_repo, "commit", "-qam", "the course's conftest has a bug")
    code, out, err = run_workshop("check", "0", cwd=workshop_repo)
    assert code == 1, out + err
    assert "INTERNALERROR" not in out + err and "Traceback" not in out + err
    assert (
        "the checks themselves stopped (a bug of the workshop, not of your app/):"
        " run `workshop check` again; pytest's report is in " in out
    )
