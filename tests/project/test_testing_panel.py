"""The editor's Testing panel: it finds the step suites, and a test that never
ends fails on its own time limit instead of hanging the panel."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from project_files import ROOT, load_jsonc

from workshop.checks.suites import Limits

STEPS = ROOT / "tests" / "steps"


def settings() -> dict:
    config = load_jsonc(ROOT / ".devcontainer" / "devcontainer.json")
    return config["customizations"]["vscode"]["settings"]


def pytest_run(
    *args: str, cwd: Path = ROOT, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_the_panel_runs_pytest_on_the_step_suites() -> None:
    """pytest on, unittest off, and the arguments name tests/steps, which plain
    pytest leaves out (its testpaths are the tool tests)."""
    found = settings()
    assert found["python.testing.pytestEnabled"] is True
    assert found["python.testing.unittestEnabled"] is False
    assert found["python.testing.pytestArgs"] == ["tests/steps"]


def test_the_panel_discovers_every_step_suite() -> None:
    """What the panel's discovery sees: a test in each tests/steps/test_step_N.py."""
    env = {"WORKSHOP_APP_DIR": ""}
    result = pytest_run(
        "--collect-only", "-q", *settings()["python.testing.pytestArgs"], **env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    files = {line.split("::")[0] for line in result.stdout.splitlines() if "::" in line}
    suites = {f"tests/steps/{p.name}" for p in STEPS.glob("test_step_*.py")}
    assert files == suites


def test_a_test_gets_the_same_time_in_the_panel_as_under_workshop_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One default limit (tests/steps/timeouts.py said 6 s while `workshop
    check` gave 10 s): a test that passes under the check has its time here."""
    monkeypatch.delenv("WORKSHOP_TEST_LIMIT", raising=False)
    spec = importlib.util.spec_from_file_location("timeouts", STEPS / "timeouts.py")
    assert spec is not None and spec.loader is not None
    timeouts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timeouts)
    assert timeouts.limit() == Limits.from_env().test


HANGS = """\
import threading
import time


def test_an_endless_loop():
    while True:
        pass


def test_a_wait_for_ever():
    threading.Event().wait()


def test_a_second_and_a_half():
    time.sleep(1.5)


def test_quick():
    pass
"""


def suites_copy(tmp_path: Path) -> Path:
    """tests/steps' conftest and helpers with an empty app/ and the tests above,
    under the project's pytest configuration (its pythonpath gives `support`)."""
    root = tmp_path / "repo"
    steps = root / "tests" / "steps"
    steps.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    helpers = ("step_support.py", "queue_support.py", "timeouts.py", "task_trace.py")
    for name in ("conftest.py", *helpers):
        shutil.copy(STEPS / name, steps / name)
    shutil.copytree(
        ROOT / "tests" / "support",
        root / "tests" / "support",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (steps / "test_hangs.py").write_text(HANGS)
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    return root


def test_a_test_that_never_ends_fails_on_its_limit(tmp_path: Path) -> None:
    root = suites_copy(tmp_path)
    started = time.monotonic()
    result = pytest_run(
        # -rN: no short summary, whose lines repeat the message or not
        # depending on the terminal's width
        "tests/steps",
        "-q",
        "-rN",
        cwd=root,
        WORKSHOP_TEST_LIMIT="1",
        WORKSHOP_SUPERVISED="",
    )
    elapsed = time.monotonic() - started
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "3 failed, 1 passed" in out
    assert out.count("TimeLimit: did not finish in 1 s") == 3
    assert "Fatal Python error" not in out  # the alarm did it, not the backstop
    assert elapsed < 60, out


def test_under_workshop_check_the_supervisor_keeps_the_time(tmp_path: Path) -> None:
    """With WORKSHOP_SUPERVISED set (workshop/checks/child.py sets it) nothing is armed:
    the supervisor's own limit and stack dump stay in charge."""
    root = suites_copy(tmp_path)
    result = pytest_run(
        "tests/steps/test_hangs.py::test_a_second_and_a_half",
        "-q",
        cwd=root,
        WORKSHOP_TEST_LIMIT="1",
        WORKSHOP_SUPERVISED="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr


ASKS_FOR_MORE = """\
import time

import pytest


@pytest.mark.time_limit(4)
def test_asks_for_more_and_takes_it():
    time.sleep(1.5)


@pytest.mark.time_limit(2)
def test_asks_for_more_and_still_hangs():
    while True:
        pass
"""


def test_a_test_may_ask_for_a_longer_limit(tmp_path: Path) -> None:
    """@pytest.mark.time_limit(N): that test gets N s (the others keep theirs)."""
    root = suites_copy(tmp_path)
    (root / "tests" / "steps" / "test_hangs.py").write_text(ASKS_FOR_MORE)
    result = pytest_run(
        "tests/steps",
        "-q",
        "-rN",
        "--strict-markers",  # the marker is registered by tests/steps/conftest.py
        cwd=root,
        WORKSHOP_TEST_LIMIT="1",
        WORKSHOP_SUPERVISED="",
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 failed, 1 passed" in out
    assert out.count("TimeLimit: did not finish in 2 s") == 1
