"""The jobs a Celery worker runs (step 8 on), seen from both processes.

From step 8 the work leaves the web process: a request puts a message on the
broker and a worker, another process, runs it later. Neither the ASGI
wrapper nor the task hook can see that process, so each side notes its half
and the worker's half travels through a small SQLite file beside the app's
database (`timeline-worker.db`; the same folder for both processes, since
both read the app's settings):

- the worker process: `record()`, called by `workshop worker` once it has
  imported app/worker.py, connects Celery's `task_prerun`, `task_postrun` and
  `task_failure` signals. Each appends one row (task id, name, what happened,
  the wall-clock time, the error): the worker's own times, not a poll's.
- the web process: `publishing()`, connected by `instrument()` when the app
  has imported Celery, listens to `before_task_publish`, which Celery sends in
  the thread that calls `.delay()`. Inside a recorded request it adds a bar
  "worker: NAME" to that request, queued at that moment and keyed by the
  message's task id: that id is what links the worker's rows to the request.
  The watcher reads the worker's new rows on every look (`WorkerLog`) and
  moves the bar to running, then done or failed, at the worker's times.

Nothing here changes the lesson's code, and nothing here ever raises into the
app or the worker: a write or read that fails is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.timeline import tasks
from workshop.timeline.database import database_path, plain_connect, watch_writes

FILE = "timeline-worker.db"
KEEP_SECONDS = 3600.0  # rows older than this are deleted when a worker starts
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " task_id TEXT,"
    " name TEXT, event TEXT, at REAL, error TEXT)"
)


def log_path() -> Path:
    """The worker's log: beside the app's database, whichever process asks."""
    return database_path().parent / FILE


def short(task: str) -> str:
    """'app.worker.send_digest' -> 'send_digest', as the lesson names it."""
    return task.rpartition(".")[2] or task


# --- the worker process ---------------------------------------------------------


class Recorder:
    """Appends the worker's moments to the log; one connection, one lock."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = plain_connect(
            path, timeout=2.0, isolation_level=None, check_same_thread=False
        )
        self._db.execute(SCHEMA)
        self._db.execute(
            "DELETE FROM events WHERE at < ?", (time.time() - KEEP_SECONDS,)
        )

    def write(
        self,
        task_id: Any,
        name: str,
        event: str,
        error: str | None = None,
        what: str | None = None,
    ) -> None:
        """One moment; a "wrote" row puts the row's kind and key in `name`."""
        at = time.time()
        with contextlib.suppress(Exception), self._lock:  # never into the worker
            self._db.execute(
                "INSERT INTO events (task_id, name, event, at, error)"
                " VALUES (?, ?, ?, ?, ?)",
                (str(task_id), what or short(name), event, at, error),
            )


@dataclass(frozen=True)
class WorkerTask:
    """The task a worker thread runs: told of each row it inserts."""

    recorder: Recorder
    task_id: str
    name: str

    def row_written(self, kind: str, key: str) -> None:
        self.recorder.write(self.task_id, self.name, "wrote", None, f"{kind} {key}")

    def task_started(self, name: str) -> None:  # no FastAPI tasks in a worker
        return None

    def task_ended(self, token: Any, error: BaseException | None) -> None:
        return None


def record() -> Recorder | None:
    """In the worker process: log every task's start and end (see the docstring)."""
    from celery import signals

    try:
        recorder = Recorder(log_path())
    except (OSError, sqlite3.Error):
        return None  # no timeline for the worker; the jobs run all the same

    def name_of(task: Any) -> str:
        return str(getattr(task, "name", None) or task)

    def prerun(task_id: Any = None, task: Any = None, **_: Any) -> None:
        recorder.write(task_id, name_of(task), "running")
        # the rows this task inserts name it (database.py's triggers)
        tasks.current.set(WorkerTask(recorder, str(task_id), name_of(task)))

    def postrun(
        task_id: Any = None, task: Any = None, state: Any = None, **_: Any
    ) -> None:
        tasks.current.set(None)
        if state == "FAILURE":
            return  # task_failure wrote it, with the error
        event = {"SUCCESS": "done", "RETRY": "retrying"}.get(
            str(state), str(state).lower()
        )
        recorder.write(task_id, name_of(task), event)

    def failure(
        task_id: Any = None, exception: Any = None, sender: Any = None, **_: Any
    ) -> None:
        recorder.write(task_id, name_of(sender), "failed", describe(exception))

    watch_writes()
    signals.task_prerun.connect(prerun, weak=False)
    signals.task_postrun.connect(postrun, weak=False)
    signals.task_failure.connect(failure, weak=False)
    return recorder


def describe(error: Any) -> str | None:
    if error is None:
        return None
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


# --- the web process ----------------------------------------------------------------


_connected = False


def publishing() -> None:
    """In the web process: note each message a recorded request sends (once)."""
    global _connected
    if _connected:
        return
    from celery import signals

    def published(headers: Any = None, sender: Any = None, **_: Any) -> None:
        observer = tasks.current.get()
        if observer is None or not isinstance(headers, dict):
            return
        task_id = headers.get("id")
        name = headers.get("task") or sender
        queued = getattr(observer, "task_queued", None)
        if task_id is not None and queued is not None:
            queued(str(task_id), short(str(name)), time.perf_counter())

    signals.before_task_publish.connect(published, weak=False)
    _connected = True


def on_loop(loop: asyncio.AbstractEventLoop, callback: Any, *args: Any) -> None:
    """Run `callback` on the server's loop: now if this is it, else soon.

    `.delay()` in a `def` endpoint runs in the threadpool; the timeline is
    only ever changed on the loop. The endpoint's own return reaches the loop
    the same way, later, so the bar is there before the response starts.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback(*args)
    else:
        with contextlib.suppress(RuntimeError):  # the loop is closed: too late
            loop.call_soon_threadsafe(callback, *args)


@dataclass(frozen=True)
class WorkerRow:
    task_id: str
    event: str  # running, retrying, done, failed; wrote (a row it inserted)
    at: float  # time.perf_counter() of this process, from the worker's clock
    error: str | None
    name: str = ""  # the task's name; for "wrote", the row's kind and key


class WorkerLog:
    """The web process's reader of the worker's log, read-only, like `Database`."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None
        self._version: int | None = None
        self._last = 0  # the last row read; rows of tasks not ours are ignored

    def changes(self) -> list[WorkerRow]:
        try:
            db = self._connect()
            if db is None:
                return []
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return []
            self._version = version
            rows = db.execute(
                "SELECT id, task_id, event, at, error, name FROM events WHERE id > ?",
                (self._last,),
            ).fetchall()
        except sqlite3.Error:
            self.close()  # e.g. no table yet: look again next time
            return []
        # the worker's wall-clock times, on this process's perf_counter()
        offset = time.perf_counter() - time.time()
        seen = []
        for row_id, task_id, event, at, error, name in rows:
            self._last = max(self._last, row_id)
            at = float(at) + offset
            seen.append(WorkerRow(str(task_id), str(event), at, error, str(name)))
        return seen

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            path = self._path or log_path()
            if not path.is_file():
                return None
            self._db = plain_connect(
                f"{path.as_uri()}?mode=ro", uri=True, timeout=0, isolation_level=None
            )
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
        self._db, self._version = None, None
