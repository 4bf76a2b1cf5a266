"""A row that is None where the app unpacks it (workshop/checks/none_rows.py),
read from the app's own frame."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from workshop.checks.app_errors import app_line
from workshop.checks.none_rows import none_unpacked

JOBS = """\
import sqlite3


def job(**fields):
    return fields


def get_job(job_id):
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE jobs (id TEXT)")
    row = {fetch}
    return job(**row)
"""


def raised(tmp_path: Path, fetch: str) -> BaseException:
    app = tmp_path / "app"
    app.mkdir()
    (app / "main.py").write_text(JOBS.format(fetch=fetch))
    spec = importlib.util.spec_from_file_location("t_main", app / "main.py")
    assert spec is not None and spec.loader is not None
    main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main)
    with pytest.raises(TypeError) as info:
        main.get_job("j1")
    return info.value


def test_a_fetchone_that_found_nothing_is_named_with_the_check(tmp_path: Path) -> None:
    fetch = 'db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()'
    line = app_line(raised(tmp_path, fetch), app_dir=tmp_path)
    assert line is not None and line.startswith("app/main.py:13: TypeError:")
    assert line.endswith(
        "— `row` is None here (`job(**row)`): its .fetchone() at line 12 found"
        " no row; check it first (if row is None: raise HTTPException(404, ...))"
    )


def test_a_none_from_elsewhere_says_only_what_it_is(tmp_path: Path) -> None:
    said = none_unpacked(raised(tmp_path, "None"), (tmp_path / "app").resolve())
    assert (
        said
        == "`row` is None here (`job(**row)`): check it for None before unpacking it"
    )
