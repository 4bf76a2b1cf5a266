"""tests/steps/except_trace.py: which `except` of app/ kept an exception, and
the fix for that clause (step 9's retry check reads it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "steps"))
from except_trace import Catches  # noqa: E402

TASK = """\
class MailError(Exception):
    pass


class TryLater(MailError):
    pass


def deliver():
    raise TryLater("451 greylisted")


def digest():
    try:
        deliver()
    {first}
        pass
    {second}
        raise


def task():
    digest()  # where a TryLater raised again is seen leaving digest()
"""


def run(tmp_path: Path, first: str, second: str) -> str | None:
    """Run task() of an app/tasks.py with these two clauses under Catches;
    what it says of the TryLater."""
    folder = tmp_path / "app"
    folder.mkdir()
    path = folder / "tasks.py"
    path.write_text(TASK.format(first=first, second=second), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("trace_tasks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    catches = Catches(folder)
    catches.start()
    try:
        module.task()
    except module.TryLater:
        pass
    finally:
        catches.stop()
    return catches.kept_where(module.TryLater)


def test_a_parent_class_clause_before_the_own_one(tmp_path: Path) -> None:
    said = run(tmp_path, "except MailError:", "except TryLater:")
    assert said == (
        "app/tasks.py:16 `except MailError:` takes the TryLater before"
        " `except TryLater` (line 18) can: put `except TryLater` first (a"
        " TryLater is a MailError)"
    )


def test_the_own_clause_without_raise(tmp_path: Path) -> None:
    said = run(tmp_path, "except TryLater as error:", "except MailError:")
    assert said == (
        "app/tasks.py:16 `except TryLater as error:` keeps the TryLater: raise"
        " it again there (`raise`)"
    )


def test_a_catch_all_with_no_own_clause(tmp_path: Path) -> None:
    said = run(tmp_path, "except Exception:", "except KeyError:")
    assert said is not None
    assert said.endswith("let it through first (`except TryLater: raise` before it)")


@pytest.mark.parametrize("first", ["except KeyError:", "except ValueError:"])
def test_nothing_kept_when_it_leaves(tmp_path: Path, first: str) -> None:
    """The own clause raises it again: it leaves the app, nothing is kept."""
    assert run(tmp_path, first, "except TryLater:") is None
