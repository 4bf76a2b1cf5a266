"""Emails and jobs are read from the app's SQLite file, read-only, as they change."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from workshop.timeline.database import Database

SCHEMA = """
CREATE TABLE outbox (id INTEGER PRIMARY KEY, recipient TEXT, subject TEXT,
                     body TEXT, status TEXT, error TEXT);
CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT, detail TEXT);
"""


def write(path: Path, sql: str, *args: object) -> None:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(sql, args)


def make_db(tmp_path: Path) -> Path:
    path = tmp_path / "newsletter.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
    return path


def add_email(path: Path, to: str, status: str = "sending") -> None:
    write(
        path,
        "INSERT INTO outbox (recipient, subject, body, status) VALUES (?, 's', 'b', ?)",
        to,
        status,
    )


def test_rows_already_there_are_old_and_new_ones_are_seen(tmp_path: Path) -> None:
    """The first look only notes where the tables end; later rows are reported."""
    path = make_db(tmp_path)
    add_email(path, "old@example.com", "sent")
    database = Database(path)
    assert database.changes() == []
    add_email(path, "ada@example.com")
    (seen,) = database.changes()
    assert (seen.kind, seen.name, seen.status, seen.final) == (
        "email",
        "email to ada@example.com",
        "sending",
        False,
    )
    assert database.open_rows()


def test_a_status_change_is_reported_once(tmp_path: Path) -> None:
    """sending -> failed is one change; nothing is reported when nothing changed."""
    path = make_db(tmp_path)
    database = Database(path)
    database.changes()
    add_email(path, "ada@bounce.example.com")
    database.changes()
    assert database.changes() == []  # nobody wrote: data_version is unchanged
    write(path, "UPDATE outbox SET status = 'failed', error = '550 no such mailbox'")
    (seen,) = database.changes()
    assert (seen.status, seen.error, seen.final) == (
        "failed",
        "550 no such mailbox",
        True,
    )
    assert not database.open_rows()
    write(path, "UPDATE outbox SET subject = 'x'")
    assert database.changes() == []


def test_jobs_go_pending_running_done(tmp_path: Path) -> None:
    """A job's states are reported in turn; a done job's detail is not an error."""
    path = make_db(tmp_path)
    database = Database(path)
    database.changes()
    statuses = []
    write(path, "INSERT INTO jobs (id, status) VALUES ('1a2b3c4d-e5f6', 'pending')")
    for status in ("running", "done"):
        statuses += [(s.name, s.status, s.error) for s in database.changes()]
        write(path, "UPDATE jobs SET status = ?, detail = 'sent to 2 of 2'", status)
    statuses += [(s.name, s.status, s.error) for s in database.changes()]
    assert statuses == [
        ("job 1a2b3c4d", "pending", None),
        ("job 1a2b3c4d", "running", None),
        ("job 1a2b3c4d", "done", None),
    ]


def test_an_app_without_those_tables_or_file_shows_nothing(tmp_path: Path) -> None:
    """A learner's app with another schema, or no database yet, is not an error."""
    missing = Database(tmp_path / "nothing-here.db")
    assert missing.changes() == []
    other = tmp_path / "other.db"
    write(other, "CREATE TABLE notes (id INTEGER PRIMARY KEY)")
    database = Database(other)
    database.changes()
    write(other, "INSERT INTO notes DEFAULT VALUES")
    assert database.changes() == []


def test_the_file_is_opened_read_only(tmp_path: Path) -> None:
    """The timeline can never write to the learner's database."""
    path = make_db(tmp_path)
    database = Database(path)
    database.changes()
    connection = database._connect()
    assert connection is not None
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        connection.execute("DELETE FROM outbox")


def test_a_table_created_later_is_seen(tmp_path: Path) -> None:
    """A missing table is not asked for again until the schema changes."""
    path = tmp_path / "newsletter.db"
    write(path, "CREATE TABLE subscribers (id INTEGER PRIMARY KEY)")
    database = Database(path)
    database.changes()
    write(path, "INSERT INTO subscribers DEFAULT VALUES")
    assert database.changes() == []
    write(path, SCHEMA.split(";")[0])  # the outbox appears (a later step's app)
    database.changes()
    add_email(path, "ada@example.com")
    assert [s.name for s in database.changes()] == ["email to ada@example.com"]
