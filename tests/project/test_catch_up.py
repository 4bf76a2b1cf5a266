"""Catching up (or going back) never meets data the app cannot handle.

`workshop goto N`, `git checkout step-N` and `workshop serve --checkpoint N`
all use the same data/newsletter.db. Data a later step wrote (an email with
status "failed", from step 5 on) must not make an earlier step answer 500,
and a table an earlier step made must not lack a column a later step needs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("catch_up.py")


def checkpoints() -> list[Path]:
    """checkpoints/step-N for every N, found by folder (later steps too)."""
    found = [path.parent for path in ROOT.glob("checkpoints/step-*/app")]
    return sorted(found, key=lambda path: int(path.name.removeprefix("step-")))


def test_every_step_runs_on_data_every_other_step_wrote(tmp_path: Path) -> None:
    """For every ordered pair (a, b), b's app answers no 500 on a's database file."""
    steps = checkpoints()
    assert len(steps) >= 2, steps
    # SQLite syncs every commit to disk: in memory (/dev/shm) the 64 runs take
    # a third of the time
    in_memory = Path("/dev/shm")
    parent = in_memory if os.access(in_memory, os.W_OK) else tmp_path
    with tempfile.TemporaryDirectory(dir=parent) as work:
        result = subprocess.run(
            [sys.executable, str(DRIVER), work, *map(str, steps)],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    problems = json.loads(result.stdout)
    assert problems == [], "\n".join(problems)


def load_hardening():
    """app/hardening.py as a module of its own name: importing `app` here would
    clash with the step suites' choice of app (tests/steps/conftest.py)."""
    path = ROOT / "app" / "hardening.py"
    spec = importlib.util.spec_from_file_location("shared_hardening", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_file_made_with_another_schema_is_moved_aside(tmp_path: Path, caplog):
    """Same SCHEMA: the data stays. Another: the file moves aside, with one log line."""
    hardening = load_hardening()
    db_file = tmp_path / "newsletter.db"
    old = "CREATE TABLE IF NOT EXISTS notes (text TEXT);"
    new = "CREATE TABLE IF NOT EXISTS notes (text TEXT, author TEXT);"

    def start(schema: str) -> list[str]:
        """What db.init_db does at startup; the notes the app then sees."""
        hardening.set_aside_other_schema(db_file, schema)
        with closing(sqlite3.connect(db_file)) as db, db:
            db.executescript(schema)
            return [row[0] for row in db.execute("SELECT text FROM notes")]

    assert start(old) == []
    with closing(sqlite3.connect(db_file)) as db, db:
        db.execute("INSERT INTO notes VALUES ('kept')")
    assert start(old) == ["kept"]
    assert caplog.messages == []

    assert start(new) == [], "another SCHEMA: a fresh file"
    with closing(sqlite3.connect(db_file)) as db:
        db.execute("SELECT author FROM notes")  # with the new column
    assert caplog.messages == [
        f"{db_file} was written by another step;"
        f" moved to {tmp_path / 'newsletter-old1.db'}; starting fresh"
    ]
    with closing(sqlite3.connect(tmp_path / "newsletter-old1.db")) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    start(old)
    assert (tmp_path / "newsletter-old2.db").is_file(), "old1 is never overwritten"
