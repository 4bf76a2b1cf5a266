"""An `except` of app/ naming another class of the raised error's name
(workshop/checks/except_names.py), read from the app's own frames."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from workshop.checks.app_errors import app_line
from workshop.checks.except_names import another_class

BROKER = """\
class OperationalError(Exception):
    '''kombu's, say: another class of the same name.'''


def publish():
    raise OperationalError("Connection refused")
"""

MAIN = """\
from sqlite3 import OperationalError
import sqlite3


def send(publish):
    try:
        publish()
    except {caught}:
        return "failed"
"""


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"t_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def raised(tmp_path: Path, caught: str) -> BaseException:
    """What send() let through, with the except clause `caught`."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "broker.py").write_text(BROKER)
    (app / "main.py").write_text(MAIN.format(caught=caught))
    broker, main = load(app / "broker.py"), load(app / "main.py")
    with pytest.raises(Exception) as info:
        main.send(broker.publish)
    return info.value


@pytest.mark.parametrize(
    "caught",
    ["OperationalError", "sqlite3.OperationalError", "(KeyError, OperationalError)"],
)
def test_an_except_of_another_class_of_that_name_is_named(
    tmp_path: Path, caught: str
) -> None:
    error = raised(tmp_path, caught)
    said = another_class(error, (tmp_path / "app").resolve())
    named = caught.strip("()").split(", ")[-1]
    assert said is not None
    assert said.startswith(f"`except {named}` (app/main.py:8) names sqlite3.")
    assert "but this one is t_app.OperationalError: import that one" in said


def test_it_leads_the_apps_line(tmp_path: Path) -> None:
    """The app's line names the clause before any advice for the error's text."""
    error = raised(tmp_path, "OperationalError")
    line = app_line(error, app_dir=tmp_path)
    assert line is not None
    assert line.startswith("app/broker.py:6: OperationalError: Connection refused")
    assert "— `except OperationalError` (app/main.py:8) names sqlite3." in line


def test_an_except_of_another_name_is_not_this(tmp_path: Path) -> None:
    error = raised(tmp_path, "KeyError")
    assert another_class(error, (tmp_path / "app").resolve()) is None
