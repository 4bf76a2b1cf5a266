"""sqlite3's parameters written without the comma of a one-value tuple
(workshop/checks/sql_params.py), read from the app's own frame."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from workshop.checks.app_errors import app_line
from workshop.checks.sql_params import not_a_sequence

TASKS = """\
import sqlite3


def find(subscriber_id):
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE subscribers (id INTEGER)")
    return db.execute(
        "SELECT * FROM subscribers WHERE id = ?", {parameters}
    ).fetchone()
"""


def raised(tmp_path: Path, parameters: str, value: object = 7) -> BaseException:
    app = tmp_path / "app"
    app.mkdir()
    (app / "tasks.py").write_text(TASKS.format(parameters=parameters))
    spec = importlib.util.spec_from_file_location("t_tasks", app / "tasks.py")
    assert spec is not None and spec.loader is not None
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    with pytest.raises(sqlite3.Error) as info:
        tasks.find(value)
    return info.value


def test_a_value_without_its_comma_is_named_with_the_fix(tmp_path: Path) -> None:
    error = raised(tmp_path, "(subscriber_id)")
    line = app_line(error, app_dir=tmp_path)
    assert line is not None and line.startswith("app/tasks.py:")
    assert line.endswith(
        "— .execute(...) got 7 (an int) as its parameters, not a tuple:"
        " a tuple of one value needs its comma, (subscriber_id,)"
    )


def test_a_tuple_of_the_wrong_length_is_not_this(tmp_path: Path) -> None:
    error = raised(tmp_path, "(subscriber_id, subscriber_id)")
    assert not_a_sequence(error, (tmp_path / "app").resolve()) is None


def test_a_string_is_not_a_tuple_either(tmp_path: Path) -> None:
    """A str is a sequence, of characters: sqlite3 binds one per '?'."""
    error = raised(tmp_path, "subscriber_id", value="ab")
    said = not_a_sequence(error, (tmp_path / "app").resolve())
    assert said is not None and "got 'ab' (a str)" in said
