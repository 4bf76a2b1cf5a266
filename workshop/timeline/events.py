"""What the timeline remembers: each request, and what happened because of it.

Times are `time.perf_counter()` seconds while recording; the JSON gives them
in milliseconds from the request's arrival, which is what a reader compares
("the email ended 1.0 s after the response"). Everything here runs on the
server's event loop (the ASGI wrapper, the task hook and the database poller
all do), except `cause`: the insert trigger calls it in the inserting
thread, so the map it writes has a lock.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from workshop.timeline.reading import plural, reading

Kind = Literal["request", "task", "email", "job", "worker"]
KEEP = 200  # requests remembered; older ones are dropped (and queued jobs)
SHOWN = 50  # requests the JSON returns (the newest)
FAILED = "failed"
LOST = "lost"  # a worker's run that never finished: the job was delivered again
APART = "written outside any recorded request"
JUST_AFTER = 0.1  # s: a request read this soon after a stall waited behind it


@dataclass
class Event:
    """One bar: a task, an email or a job (the request's own bar is derived)."""

    kind: Kind
    name: str
    start: float
    end: float | None = None
    status: str = "running"
    error: str | None = None
    phases: list[tuple[str, float]] = field(default_factory=list)  # jobs, emails
    # an async task's steps that kept the event loop (tasks.Steps): start, end
    blocked: list[tuple[float, float]] = field(default_factory=list)

    def finish(self, at: float, status: str, error: str | None = None) -> None:
        self.end, self.status, self.error = at, status, error


@dataclass
class Request:
    """One request, from its arrival to the end of its last background task."""

    id: int
    method: str
    path: str
    arrival: float
    clock: float  # time.time() at arrival: the time of day shown on the page
    status_code: int | None = None
    response_sent: float | None = None  # the last body message was handed over
    finished: float | None = None  # the app call returned: every task is done
    error: str | None = None
    events: list[Event] = field(default_factory=list)
    # the event loop was blocked while this request waited, or just before it
    # was read: (start, end, by whom), see Timeline.stalled
    stalls: list[tuple[float, float, str]] = field(default_factory=list)

    def earliest_new(self) -> float:
        """The earliest a row that appears now can have been written.

        During a task: not before that task began. After the response: not
        before it (a row not seen when the response started was written
        later; the send takes microseconds). Else: not before the arrival.
        A job running in the worker: not before the worker started it.
        """
        running = [e.start for e in self.events if e.kind == "task" and e.end is None]
        running += [
            e.phases[-1][1]
            for e in self.events
            if e.kind == "worker" and e.status == "running" and e.phases
        ]
        return max([self.response_sent or self.arrival, *running])

    def until(self, now: float) -> float:
        """Where the row's time axis ends: now while anything of it is open
        (a job may wait for a worker long after the request finished), else
        the last end."""
        if self.finished is None or any(e.end is None for e in self.events):
            return now
        return max([self.finished, *(e.end for e in self.events if e.end is not None)])

    def bar_status(self) -> str:
        if self.error is not None and self.response_sent is None:
            return FAILED
        if self.status_code is None:
            return "running"
        return FAILED if self.status_code >= 500 else str(self.status_code)

    def to_json(self, now: float) -> dict[str, Any]:
        def ms(at: float | None) -> float | None:
            return None if at is None else round((at - self.arrival) * 1000, 1)

        own = {
            "request_id": self.id,
            "kind": "request",
            "name": f"{self.method} {self.path}",
            "start_ms": 0.0,
            "end_ms": ms(self.response_sent),
            "status": self.bar_status(),
            "error": self.error if self.response_sent is None else None,
        }
        events = [own] + [
            {
                "request_id": self.id,
                "kind": e.kind,
                "name": e.name,
                "start_ms": ms(e.start),
                "end_ms": ms(e.end),
                "status": e.status,
                "error": e.error,
            }
            | ({"phases": [[s, ms(t)] for s, t in e.phases]} if e.phases else {})
            | ({"blocked": [[ms(a), ms(b)] for a, b in e.blocked]} if e.blocked else {})
            for e in self.events
        ]
        stalls = [
            {"start_ms": ms(a), "end_ms": ms(b), "by": by} for a, b, by in self.stalls
        ]
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status_code,
            "clock": self.clock,
            "done": self.finished is not None,
            "elapsed_ms": ms(self.until(now)),
            "response_sent_ms": ms(self.response_sent),
            "error": self.error,
            "stalls": stalls,
            "reading": self._reading(events, stalls),
            "events": events,
        }

    def _reading(
        self, events: list[dict[str, Any]], stalls: list[dict[str, Any]]
    ) -> str:
        if self.id == 0:  # the row apart: rows no recorded request caused
            return (
                f"{plural(len(self.events), 'row')} written by code no recorded"
                " request ran (the app's startup, another process, or a Celery"
                " worker not started with `workshop worker`): not attributed"
            )
        return reading(events, done=self.finished is not None, stalls=stalls)


@dataclass(frozen=True)
class Seen:
    """A row of the app's database as the poller saw it: new, or changed."""

    kind: Kind  # "email" or "job"
    key: str
    name: str
    status: str
    error: str | None
    final: bool  # no further change expected (sent, failed, done)


class Timeline:
    """The requests seen since the server started (or since the last reset)."""

    def __init__(self, keep: int = KEEP) -> None:
        self._requests: deque[Request] = deque(maxlen=keep)
        self._ids = itertools.count(1)
        self._rows: dict[tuple[str, str], Event] = {}  # (kind, key) -> its bar
        self._active: list[Request] = []  # not finished, oldest first
        # task id -> (its request, its bar): sent to a worker, not finished yet
        self._queued: dict[str, tuple[Request, Event]] = {}
        # worker rows of task ids not (yet) known: a fast worker's first row
        # may be read before the loop has run the thread's "queued" callback
        self._early: dict[str, list[tuple[str, float, str | None, str]]] = {}
        # (kind, key) of a row -> the request whose code inserted it; written
        # from any thread at insert time, read when the poller sees the row
        self._causes: dict[tuple[str, str], Request] = {}
        self._causes_lock = threading.Lock()
        # (kind, key) of a row -> each status it was written with, and when
        # (any thread, at the write): the poller places what it sees there,
        # not somewhere between two looks
        self._noted: dict[tuple[str, str], list[tuple[str, float]]] = {}
        # rows no recorded request caused: drawn apart, never guessed
        self._apart: Request | None = None
        self._last_stall: tuple[float, float, str] | None = None
        self.version = 0  # bumped on every change: the page redraws only then

    def changed(self) -> None:
        self.version += 1

    def arrive(self, method: str, path: str, at: float) -> Request:
        request = Request(next(self._ids), method, path, at, time.time())
        stall = self._last_stall
        if stall is not None and at - stall[1] < JUST_AFTER:
            request.stalls.append(stall)  # read right after: perhaps sent before
        self._requests.append(request)
        self._active.append(request)
        self.changed()
        return request

    def stalled(self, start: float, end: float, by: str) -> None:
        """The loop ran one step of `by` from `start` to `end` (tasks.Steps):
        every request waiting for its response waited that long for nothing,
        and one the server reads right after was perhaps sent meanwhile."""
        for request in self._active:
            if request.response_sent is None:
                request.stalls.append((start, end, by))
        self._last_stall = (start, end, by)
        self.changed()

    def finish(self, request: Request, at: float) -> None:
        """The app call for `request` returned: its last task is done."""
        request.finished = at
        self._active.remove(request)
        self.changed()

    def busy(self) -> bool:
        """A request is in flight or still running its tasks."""
        return bool(self._active)

    def reset(self) -> None:
        """Forget every finished request; those in flight stay, and go on."""
        kept = {id(bar) for request in self._active for bar in request.events}
        self._requests = deque(self._active, maxlen=self._requests.maxlen)
        self._rows = {key: bar for key, bar in self._rows.items() if id(bar) in kept}
        self._queued = {k: v for k, v in self._queued.items() if id(v[1]) in kept}
        self._apart = None
        self.changed()

    def cause(self, kind: Kind, key: str, request: Request) -> None:
        """`request`'s code inserted the row `key` (any thread: database.py)."""
        with self._causes_lock:
            self._causes[(kind, key)] = request
            while len(self._causes) > KEEP * 10:  # never seen by the poller
                del self._causes[next(iter(self._causes))]

    def noted(self, kind: Kind, key: str, status: str, at: float) -> None:
        """A recorded request's code wrote the row `key` with `status` at `at`
        (any thread: database.py's triggers)."""
        with self._causes_lock:
            self._noted.setdefault((kind, key), []).append((status, at))
            while len(self._noted) > KEEP * 10:  # never seen by the poller
                del self._noted[next(iter(self._noted))]

    def _written_at(
        self, row: Seen, since: float, now: float, first: bool = False
    ) -> float | None:
        """When the row got the status seen now (`first`: when it was first
        written), if that was noted between the two looks."""
        with self._causes_lock:
            notes = self._noted.get((row.kind, row.key), [])
            times = [
                at
                for status, at in notes
                if since <= at <= now and (first or status == row.status)
            ]
        if not times:
            return None
        return times[0] if first else times[-1]

    def _phases(self, row: Seen, since: float, now: float) -> list[tuple[str, float]]:
        """The statuses written between the two looks, in order, each once."""
        with self._causes_lock:
            notes = self._noted.get((row.kind, row.key), [])
            phases = [(s, at) for s, at in notes if since <= at <= now]
        return [p for i, p in enumerate(phases) if i == 0 or p[0] != phases[i - 1][0]]

    def _cause_of(self, kind: Kind, key: str) -> Request:
        """Who inserted the row: its request, else the row of the unattributed."""
        with self._causes_lock:
            request = self._causes.pop((kind, key), None)
        if request is not None:
            return request
        if self._apart is None:
            self._apart = Request(0, "", APART, time.perf_counter(), time.time())
            self._apart.finished = self._apart.arrival
        return self._apart

    def queued(self, request: Request, task_id: str, name: str, at: float) -> None:
        """`request` sent the task `name` to a worker (a message on the broker)."""
        bar = Event("worker", f"worker: {name}", at, status="queued")
        bar.phases.append(("queued", at))
        request.events.append(bar)
        self._queued[task_id] = (request, bar)
        while len(self._queued) > KEEP:  # never picked up: forget the oldest
            del self._queued[next(iter(self._queued))]
        self.changed()
        for event, when, error, what in self._early.pop(task_id, []):
            self.worker_seen(task_id, event, when, error, what)

    def waiting_on_worker(self) -> bool:
        """A job sent by a request we saw has not finished in a worker yet."""
        return bool(self._queued)

    def worker_running(self) -> bool:
        return any(bar.status == "running" for _, bar in self._queued.values())

    def worker_seen(
        self, task_id: str, event: str, at: float, error: str | None, name: str = ""
    ) -> None:
        """The worker logged `event` for `task_id` at `at` (see worker_log.py);
        "wrote" names a row the task inserted (`name`: "email 12")."""
        found = self._queued.get(task_id)
        if found is None:  # not sent by a request we recorded, or not yet
            self._early.setdefault(task_id, []).append((event, at, error, name))
            while len(self._early) > KEEP:
                del self._early[next(iter(self._early))]
            return
        request, bar = found
        if event == "wrote":
            kind, _, key = name.partition(" ")
            if kind in ("email", "job"):
                self.cause(kind, key, request)  # type: ignore[arg-type]
            return
        if event == "running" and bar.status == "running" and bar.phases:
            # running again without an end: the first run never finished (its
            # worker died) and the broker delivered the message again
            bar.phases[-1] = (LOST, bar.phases[-1][1])
        bar.phases.append((event, at))
        bar.status, bar.error = event, error if event == FAILED else None
        if event in ("done", FAILED):
            bar.end = at
            del self._queued[task_id]
        self.changed()

    def observe(self, seen: Iterable[Seen], now: float, since: float) -> None:
        """Apply what the poller saw at `now`; it last looked at `since`.

        A change is placed when it was written, where a recorded request's
        code wrote it (`noted`). Otherwise (the worker's rows, a connection
        opened outside a request) it happened somewhere in between: it is
        placed at the middle, so an email that failed and its retry that
        began in the same interval meet instead of overlapping, and the order
        against the boundaries the wrapper looks at (response sent, task start
        and end) is kept.
        """
        middle = (since + now) / 2
        for row in seen:
            at = self._written_at(row, since, now) or middle
            bar = self._rows.get((row.kind, row.key))
            if bar is None:
                # begun and done between two looks: from its first write to
                # its last, else it spans the whole interval
                begun = self._written_at(row, since, now, first=True)
                if begun is None:
                    begun = since if row.final else at
                bar = self._new_bar(row, begun)
                if bar is None:
                    continue
                if row.final:
                    end = self._written_at(row, since, now) or now
                    bar.phases[:] = self._phases(row, since, now) or bar.phases
                    bar.finish(max(end, bar.start), row.status, row.error)
                    self._forget(row)
                    continue
            elif bar.status != row.status:
                bar.phases.append((row.status, at))
                bar.status, bar.error = row.status, row.error
            if row.final:
                bar.end = at
                del self._rows[(row.kind, row.key)]  # it will not change again
                self._forget(row)
            self.changed()

    def _forget(self, row: Seen) -> None:
        with self._causes_lock:
            self._noted.pop((row.kind, row.key), None)

    def _new_bar(self, row: Seen, at: float) -> Event | None:
        owner = self._cause_of(row.kind, row.key)
        start = max(at, owner.earliest_new())
        bar = Event(row.kind, row.name, start, status=row.status, error=row.error)
        bar.phases.append((row.status, start))
        owner.events.append(bar)
        if owner is self._apart and len(owner.events) > SHOWN:
            del owner.events[0]  # the row apart keeps its newest only
        if not row.final:
            self._rows[(row.kind, row.key)] = bar
        self.changed()
        return bar

    def to_json(self, now: float) -> dict[str, Any]:
        shown = list(self._requests)[-SHOWN:]
        apart = self._apart
        return {
            "version": self.version,
            "requests": [r.to_json(now) for r in shown],
            "apart": None if apart is None else apart.to_json(now),
        }
