"""Emails and jobs, seen from outside: the app's SQLite file, read-only.

The mailer writes each email to the `outbox` table ("sending", then "sent" or
"failed"); step 7 keeps jobs in `jobs` ("pending", "running", "done").
Reading the file (a read-only connection, `mode=ro`) observes them without
changing a line of the lesson and without requests of our own that would
show up on the timeline. `PRAGMA data_version` tells, for a few microseconds,
whether anyone wrote since the last look; only then are the tables read.

Who wrote a row is read at the moment it is written, not guessed from time:
`watch_writes()` wraps `sqlite3.connect` (once per process). A connection
opened while a recorded request's context is current (its handler, its
background tasks in the threadpool or on the loop: Starlette and anyio copy
the context into both) gets a TEMP trigger on `outbox` and `jobs` that calls
back into Python as the row is inserted. The callback reads the context of
the thread doing the insert and tells that request's observer (`row_written`)
which row it caused, before the row is committed, so before the poller can
see it. A second trigger notes each status the row is written with, and
when (`row_status`), so the timeline places a change where it happened, not
between two looks. The Celery worker does the same for its tasks (worker_log.py). The
lesson's tables and files are not changed: TEMP triggers live in the
connection only.

A learner's app may have no such table, or other columns: then that table
is simply not shown. Nothing here ever raises into the app.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from workshop.timeline import tasks
from workshop.timeline.events import Kind, Seen

DEFAULT_DB = "data/newsletter.db"  # app/config.py's default, relative to the cwd
plain_connect = sqlite3.connect  # the tooling's own reads: no triggers on them


def database_path() -> Path:
    """The file the served app uses: its settings, else NEWSLETTER_DB or default."""
    config = sys.modules.get("app.config")
    path = getattr(getattr(config, "settings", None), "newsletter_db", None)
    if path is None:
        path = os.environ.get("NEWSLETTER_DB", DEFAULT_DB)
    return Path(path).resolve()


@dataclass(frozen=True)
class Table:
    kind: Kind  # "email" or "job"
    table: str
    columns: str  # rowid, key, name, status, error
    final: frozenset[str]
    key: str = "id"  # the column `columns` reads as the key, for the trigger

    def label(self, key: object, name: object) -> str:
        return f"email to {name}" if self.kind == "email" else f"job {str(key)[:8]}"


EMAILS = Table(
    "email", "outbox", "id, id, recipient, status, error", frozenset({"sent", "failed"})
)
JOBS = Table(
    "job", "jobs", "rowid, id, id, status, detail", frozenset({"done", "failed"})
)


_MARK = "_workshop_timeline"
WROTE = "workshop_timeline_wrote"  # the SQL function the TEMP triggers call
STATUS = "workshop_timeline_status"  # ... and the one that notes each status


def watch_writes() -> None:
    """Wrap `sqlite3.connect` so recorded code's inserts name their cause (once)."""
    if getattr(sqlite3.connect, _MARK, False):
        return
    original = sqlite3.connect

    @functools.wraps(original)
    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        db = original(*args, **kwargs)  # type: ignore[arg-type]
        if tasks.current.get() is not None:
            note_writes(db)
        return db

    setattr(connect, _MARK, True)
    sqlite3.connect = connect  # type: ignore[assignment]


def note_writes(db: sqlite3.Connection) -> None:
    """TEMP triggers on this connection: each insert into a watched table
    reports its row to the observer current in the inserting thread, and each
    status it is written with (insert and update), with the time."""
    with contextlib.suppress(sqlite3.Error):
        db.create_function(WROTE, 2, _wrote)
        db.create_function(STATUS, 3, _status)
    for table in (EMAILS, JOBS):
        with contextlib.suppress(sqlite3.Error):  # no such table in this app
            db.execute(
                f"CREATE TEMP TRIGGER IF NOT EXISTS {WROTE}_{table.table}"
                f" AFTER INSERT ON main.{table.table}"
                f" BEGIN SELECT {WROTE}('{table.kind}', NEW.{table.key}); END"
            )
        for event in ("INSERT", "UPDATE OF status"):
            with contextlib.suppress(sqlite3.Error):  # no status column
                db.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS"
                    f" {STATUS}_{table.table}_{event.split()[0].lower()}"
                    f" AFTER {event} ON main.{table.table} BEGIN SELECT"
                    f" {STATUS}('{table.kind}', NEW.{table.key}, NEW.status); END"
                )


def _wrote(kind: str, key: object) -> None:
    observer = tasks.current.get()
    row_written = getattr(observer, "row_written", None)
    if row_written is not None:
        with contextlib.suppress(Exception):  # never into the app's insert
            row_written(kind, str(key))


def _status(kind: str, key: object, status: object) -> None:
    at = time.perf_counter()
    observer = tasks.current.get()
    row_status = getattr(observer, "row_status", None)
    if row_status is not None:
        with contextlib.suppress(Exception):  # never into the app's write
            row_status(kind, str(key), str(status), at)


@dataclass
class Cursor:
    """How far one table was read: its last rowid, and rows not yet final."""

    last: int | None = None  # None: not read yet (rows already there are old)
    open: dict[int, str] = field(default_factory=dict)  # rowid -> status


class Database:
    """Reports rows that are new or changed since the previous `changes()`."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._version: int | None = None
        self._schema: int | None = None
        self._missing: set[str] = set()  # tables this app has not (yet)
        self._cursors = {t.kind: Cursor() for t in (EMAILS, JOBS)}

    @property
    def started(self) -> bool:
        """The first look was taken: rows that appear now are new."""
        return self._version is not None

    def open_rows(self) -> bool:
        """Some email or job is not final yet: worth looking again."""
        return any(c.open for c in self._cursors.values())

    def changes(self) -> list[Seen]:
        try:
            db = self._connect()
            if db is None:
                return []
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return []
            self._version = version
            if self._missing:  # asked again only once the schema has changed
                schema = db.execute("PRAGMA schema_version").fetchone()[0]
                if schema != self._schema:
                    self._schema, self._missing = schema, set()
            return [*self._read(db, EMAILS), *self._read(db, JOBS)]
        except sqlite3.Error:
            self.close()  # e.g. the file was replaced: open it again next time
            return []

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            path = self._path or database_path()
            if not path.is_file():
                return None
            self._db = plain_connect(
                f"{path.as_uri()}?mode=ro", uri=True, timeout=0, isolation_level=None
            )
        return self._db

    def _read(self, db: sqlite3.Connection, table: Table) -> list[Seen]:
        cursor = self._cursors[table.kind]
        if table.table in self._missing:
            return []
        try:
            if cursor.last is None:  # the first look: what is there is old
                row = db.execute(f"SELECT max(rowid) FROM {table.table}").fetchone()
                cursor.last = row[0] or 0
                return []
            # Two lookups by rowid, not one with OR: SQLite would scan the table.
            select = f"SELECT {table.columns} FROM {table.table} WHERE rowid"
            rows = db.execute(f"{select} > ?", (cursor.last,)).fetchall()
            if cursor.open:
                marks = ",".join("?" * len(cursor.open))
                rows += db.execute(f"{select} IN ({marks})", [*cursor.open]).fetchall()
        except sqlite3.OperationalError:  # no such table (or column) in this app
            if not self._missing:
                self._schema = db.execute("PRAGMA schema_version").fetchone()[0]
            self._missing.add(table.table)
            return []
        return [seen for row in rows if (seen := self._note(table, cursor, row))]

    def _note(self, table: Table, cursor: Cursor, row: tuple) -> Seen | None:
        rowid, key, name, status, error = row
        status = str(status)
        cursor.last = max(cursor.last or 0, rowid)
        if cursor.open.get(rowid) == status:
            return None  # unchanged
        final = status in table.final
        if final:
            cursor.open.pop(rowid, None)
        else:
            cursor.open[rowid] = status
        error = str(error) if status == "failed" and error is not None else None
        return Seen(table.kind, str(key), table.label(key, name), status, error, final)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db, self._version, self._schema = None, None, None
