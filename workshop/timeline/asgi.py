"""`instrument(app)`: the ASGI wrapper that records the timeline.

For each request it notes the arrival, the status, and the moment the last
body message has been handed to the server (the client has everything); the
app call returns only after the response's background tasks, which the task
hook (tasks.py) times one by one. The database is looked at just before the
response starts (so an email that ended inside the request is seen before
the response is sent), at the end of each task and of the app call, and every
20 ms while something runs and the page is open. A look costs one `PRAGMA
data_version` when nothing was written: `workshop bench --scenario overhead`
measures the rest.

From step 8 a request's work runs in a Celery worker, another process: the
message it sends is noted as a "worker: NAME" bar on the request, and the
worker's own log moves it along (worker_log.py); the watcher reads that log on
each look too, and keeps looking while a job waits for or runs in a worker.

Paths under /_workshop/ are the tooling's own (the page, the JSON, offline
Swagger UI files); /docs and /redoc are served by the app and rewritten to
use those files (docs.py). Neither is recorded.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sys
import time
from importlib import resources
from typing import Any

from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop.timeline import docs, tasks, worker_log
from workshop.timeline.database import Database, watch_writes
from workshop.timeline.events import FAILED, Event, Kind, Request, Timeline
from workshop.timeline.guard import Guard

PREFIX = "/_workshop"
POLL_ACTIVE = 0.02  # seconds between looks while a request or task runs
POLL_IDLE = 0.25  # ... while only an email or job is still open
WATCHED = 5.0  # seconds a fetch of timeline.json keeps the poller going
PAGE = "page.html"


def describe(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class Watcher:
    """Looks at the database on each boundary, and on a timer while watched.

    The boundaries alone place every email and job rightly against the
    response and the tasks. The timer adds what happens in between (a job's
    "running", an email's exact start) and runs only while someone watches:
    the page, or anything else fetching timeline.json, in the last WATCHED
    seconds. An unwatched server pays for the boundaries only.
    """

    def __init__(
        self, timeline: Timeline, database: Database, log: worker_log.WorkerLog
    ) -> None:
        self.timeline = timeline
        self.database = database
        self.log = log
        self._last = time.perf_counter()
        self._poller: asyncio.Task[None] | None = None
        self._watched_until = 0.0

    def look(self) -> None:
        now = time.perf_counter()
        try:
            # The app's rows first, the worker's log second: a worker task
            # logs the rows it inserts before it commits them, so each row
            # read here has its cause in the log read next.
            seen = self.database.changes()
            if self.timeline.waiting_on_worker():  # applied first: a job starts
                for row in self.log.changes():  # before the emails it sends
                    self.timeline.worker_seen(
                        row.task_id, row.event, row.at, row.error, row.name
                    )
            self.timeline.observe(seen, now, self._last)
        except Exception:  # the tooling must never break the learner's app
            self.database.close()
            self.log.close()
        self._last = now

    def watched(self) -> None:
        """Someone looks at the timeline: keep it live for a while."""
        self._watched_until = time.perf_counter() + WATCHED
        self.wake()

    def wake(self) -> None:
        """Start the poller if it is watched and not running (on this loop)."""
        if time.perf_counter() > self._watched_until:
            return
        loop = asyncio.get_running_loop()
        poller = self._poller
        if poller is None or poller.done() or poller.get_loop() is not loop:
            # A fresh context: the poller must not inherit the request's.
            self._poller = loop.create_task(self._poll(), context=contextvars.Context())

    async def _poll(self) -> None:
        timeline = self.timeline
        while time.perf_counter() < self._watched_until and (
            timeline.busy() or self.database.open_rows() or timeline.waiting_on_worker()
        ):
            active = timeline.busy() or timeline.worker_running()
            await asyncio.sleep(POLL_ACTIVE if active else POLL_IDLE)
            self.look()

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        self.database.close()
        self.log.close()


class Recording:
    """The request being recorded: what the task hook reports to."""

    def __init__(self, request: Request, watcher: Watcher) -> None:
        self.request = request
        self.watcher = watcher
        self.loop = asyncio.get_running_loop()

    def task_queued(self, task_id: str, name: str, at: float) -> None:
        """A message for a Celery worker was sent (any thread: worker_log.py)."""
        queued = self.watcher.timeline.queued
        worker_log.on_loop(self.loop, queued, self.request, task_id, name, at)

    def row_written(self, kind: Kind, key: str) -> None:
        """The request's code inserted an email or job (any thread: database.py)."""
        self.watcher.timeline.cause(kind, key, self.request)

    def row_status(self, kind: Kind, key: str, status: str, at: float) -> None:
        """... or wrote its status, at `at` (any thread: database.py)."""
        self.watcher.timeline.noted(kind, key, status, at)

    def task_started(self, name: str) -> Event:
        task = Event("task", name, time.perf_counter())
        self.request.events.append(task)
        self.watcher.timeline.changed()
        return task

    def task_blocked(self, token: Event, start: float, end: float) -> None:
        """One step of the async task `token` kept the event loop (tasks.Steps)."""
        token.blocked.append((start, end))
        self.watcher.timeline.stalled(start, end, f"{token.name} of #{self.request.id}")

    def task_ended(self, token: Event, error: BaseException | None) -> None:
        self.watcher.look()  # first: what the task wrote ends before it does
        now = time.perf_counter()
        if error is None:
            token.finish(now, "done")
        else:
            token.finish(now, FAILED, describe(error))
        self.watcher.timeline.changed()


class Instrumented:
    """The app, plus the timeline and offline docs; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        timeline: Timeline,
        database: Database,
        log: worker_log.WorkerLog | None = None,
    ) -> None:
        self.app = app
        self.timeline = timeline
        self.watcher = Watcher(timeline, database, log or worker_log.WorkerLog())
        self.docs = docs.Docs(app)
        self.tooling = Router(
            routes=[
                Route(f"{PREFIX}/timeline", self.page),
                Route(f"{PREFIX}/timeline.json", self.json),
                Route(f"{PREFIX}/timeline/reset", self.reset, methods=["POST"]),
                Route(f"{docs.STATIC}/{docs.REDOC}", docs.serve_redoc_bundle),
                Mount(f"{PREFIX}/static", StaticFiles(directory=docs.static_folder())),
            ]
        )
        # Guard: 403 to other sites and foreign Host names (guard.py);
        # ExceptionMiddleware: StaticFiles' 404 for a missing file (else a 500)
        self.guarded = Guard(ExceptionMiddleware(self.tooling))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await self.app(scope, receive, self._lifespan_send(send))
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if path == PREFIX or path.startswith(PREFIX + "/"):
            return await self.guarded(scope, receive, send)
        if self.docs.is_page(path):
            return await self.docs.serve(scope, receive, send)
        if self.docs.is_quiet(path):
            return await self.app(scope, receive, send)
        await self._record(scope, receive, send)

    def _lifespan_send(self, send: Send) -> Send:
        async def lifespan_send(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown"):
                self.watcher.stop()
            await send(message)
            if message["type"] == "lifespan.startup.complete":
                self.watcher.look()  # the app made its tables: note what is old

        return lifespan_send

    async def _record(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.watcher.database.started:
            self.watcher.look()  # what is in the database now is old
        now = time.perf_counter()
        request = self.timeline.arrive(scope["method"], scope["path"], now)
        token = tasks.current.set(Recording(request, self.watcher))
        self.watcher.wake()

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.watcher.look()  # an email done by now ended inside the request
                request.status_code = message["status"]
                self.timeline.changed()
            await send(message)
            if message["type"] == "http.response.body" and not message.get(
                "more_body", False
            ):
                request.response_sent = time.perf_counter()
                self.timeline.changed()

        try:
            await self.app(scope, receive, observed_send)
        except BaseException as error:
            request.error = describe(error)
            raise
        finally:
            tasks.current.reset(token)
            self.watcher.look()
            self.timeline.finish(request, time.perf_counter())

    async def page(self, request: HttpRequest) -> Response:
        html = resources.files(__package__).joinpath(PAGE).read_text(encoding="utf-8")
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def json(self, request: HttpRequest) -> Response:
        self.watcher.watched()
        data: dict[str, Any] = self.timeline.to_json(time.perf_counter())
        return JSONResponse(data, headers={"Cache-Control": "no-store"})

    async def reset(self, request: HttpRequest) -> Response:
        self.timeline.reset()
        return JSONResponse({"reset": True})


class QuietTooling(logging.Filter):
    """Leaves the page's own polling out of uvicorn's access log: four lines a
    second would bury the log lines the lesson asks learners to read."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        path = args[2] if isinstance(args, tuple) and len(args) > 2 else ""
        return not (isinstance(path, str) and path.startswith(PREFIX + "/"))


def quiet_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QuietTooling) for f in access.filters):
        access.addFilter(QuietTooling())


def instrument(
    app: ASGIApp, *, timeline: Timeline | None = None, database: Database | None = None
) -> Instrumented:
    """`app` inside the timeline's wrapper; installs the task hook once, and
    the publishing hook when the app uses Celery (imported it: step 8 on)."""
    tasks.install()
    watch_writes()
    quiet_access_log()
    if "celery" in sys.modules:
        worker_log.publishing()
    return Instrumented(app, timeline or Timeline(), database or Database())
