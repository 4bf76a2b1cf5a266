"""The live room of `workshop room serve`: a FastAPI app that learners' checks
report to and the instructor's dashboard reads.

- POST /api/join, /api/report, /api/leave: need the room code (and for a
  report, the learner's own key, given at join). Bodies are limited to
  BODY_LIMIT bytes, validated by pydantic (lengths, ranges, no markup in
  names), and each learner may send BURST reports at once, then one a second.
- GET /dashboard, /api/room (JSON), /api/timings.csv: need the instructor's
  token (`?token=` or `Authorization: Bearer`), compared in constant time.
- Memory only: nothing is written anywhere; the CSV export is the one way to
  keep the timings past the session. The room holds at most `max_learners`.

The room receives data only: nothing a learner sends is run or evaluated.
Durations use the room's own clock (learners' clocks may differ); a learner's
`at` only orders their reports (an older one arriving late is ignored).
"""

from __future__ import annotations

import csv
import hmac
import io
import secrets
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop.room.reporting import LINE_MAX, NAME_MAX, name_problem

HERE = Path(__file__).parent
BODY_LIMIT = 4096  # bytes: a report is a few hundred
MAX_LEARNERS = 60
BURST, PER_SECOND = 10, 1.0  # reports a learner may send at once, then a second
TOP_LINES = 8  # the most common first lines shown
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; "
    "style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


# --- what learners may send -------------------------------------------------------


def _name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value.strip()


def _line(value: str | None) -> str | None:
    if value is not None and not value.isprintable():
        raise ValueError("one line of printable text")
    return value


Secret = Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(max_length=NAME_MAX), AfterValidator(_name)]
StepNumber = Annotated[int, Field(ge=0, le=99)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class JoinBody(Strict):
    code: Secret
    name: Name
    key: Secret | None = None  # rejoining from the same checkout keeps one row


class LeaveBody(Strict):
    code: Secret
    id: Secret
    key: Secret


class StepState(Strict):
    number: StepNumber
    state: Literal["green", "red", "not checked"]


class ReportBody(LeaveBody):
    command: Literal["check", "watch", "status"]
    at: float = Field(ge=0, le=1e11)
    step: StepNumber
    finished: bool
    steps: list[StepState] = Field(max_length=100)
    failure: Annotated[str | None, Field(max_length=LINE_MAX), AfterValidator(_line)]


# --- the room, in memory ----------------------------------------------------------


class Refused(Exception):
    """A request the room turns down: its HTTP status and one line."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass
class Learner:
    id: str
    key: str
    name: str
    since: float  # the room's time: joined, or began the current step
    step: int | None = None
    state: str = "joined"  # red, working, green, done
    failure: str | None = None
    command: str | None = None
    at: float = 0.0  # the learner's clock, last report: orders reports
    seen: float = 0.0  # the room's clock, last report
    red_since: float | None = None
    states: dict[int, str] = field(default_factory=dict)
    started: dict[int, float] = field(default_factory=dict)
    greened: dict[int, float] = field(default_factory=dict)
    tokens: float = BURST
    refilled: float = 0.0


class LiveRoom:
    """Every learner of the session and what their last report said.

    Called from the app's `async def` endpoints only, on one event loop, and
    never awaits inside: each change happens whole, with no lock needed.
    """

    def __init__(
        self,
        steps: dict[int, str],
        *,
        max_learners: int = MAX_LEARNERS,
        stuck_after: float = 600.0,
        clock: Callable[[], float] = time.time,
        new_secret: Callable[[], str] | None = None,
    ) -> None:
        self.steps, self.max, self.stuck_after = steps, max_learners, stuck_after
        self.clock = clock
        self.new_secret = new_secret or (lambda: secrets.token_urlsafe(12))
        self.learners: dict[str, Learner] = {}

    def join(self, name: str, key: str | None) -> Learner:
        again = next((x for x in self.learners.values() if _same(x.key, key)), None)
        if again is not None:
            again.name = name
            return again
        if len(self.learners) >= self.max:
            raise Refused(409, f"the room is full ({self.max} learners)")
        now = self.clock()
        learner = Learner(self.new_secret(), self.new_secret(), name, now, refilled=now)
        self.learners[learner.id] = learner
        return learner

    def find(self, id: str, key: str) -> Learner:
        learner = self.learners.get(id)
        if learner is None or not _same(learner.key, key):
            raise Refused(404, "no such learner in this room: join again")
        return learner

    def leave(self, id: str, key: str) -> None:
        del self.learners[self.find(id, key).id]

    def report(self, body: ReportBody) -> bool:
        """Apply a report; False when it was older than one already applied."""
        learner = self.find(body.id, body.key)
        unknown = {body.step, *(s.number for s in body.steps)} - set(self.steps)
        if unknown:
            raise Refused(422, f"this course has no step {min(unknown)}")
        now = self.clock()
        _spend(learner, now)
        if body.at <= learner.at:
            return False
        learner.at, learner.seen, learner.command = body.at, now, body.command
        _apply(learner, body, now)
        return True

    def view(self) -> dict[str, Any]:
        """What the dashboard shows, as data."""
        now = self.clock()
        rows = list(self.learners.values())
        return {
            "now": datetime.fromtimestamp(now, UTC).isoformat(),
            "stuck_after_s": self.stuck_after,
            "max_learners": self.max,
            "learners": [self._row(x, now) for x in rows],
            "common": _common(rows),
            "steps": [_step(n, t, rows) for n, t in sorted(self.steps.items())],
        }

    def _row(self, learner: Learner, now: float) -> dict[str, Any]:
        red_for = now - learner.red_since if learner.red_since is not None else 0.0
        return {
            "id": learner.id,
            "name": learner.name,
            "step": learner.step,
            "state": learner.state,
            "failure": learner.failure,
            "command": learner.command,
            "on_step_s": round(now - learner.since, 1),
            "red_s": round(red_for, 1),
            "stuck": learner.red_since is not None and red_for > self.stuck_after,
            "last_report_s": round(now - learner.seen, 1) if learner.seen else None,
        }

    def timings_csv(self) -> str:
        """One row per learner and step begun: when, when green, how long."""
        out = io.StringIO()
        table = csv.writer(out, lineterminator="\n")
        table.writerow(["learner", "step", "started_utc", "green_utc", "seconds"])
        for learner in self.learners.values():
            for number, began in sorted(learner.started.items()):
                green = learner.greened.get(number)
                took = "" if green is None else f"{green - began:.1f}"
                table.writerow([_cell(learner.name), number, _utc(began),
                                _utc(green), took])  # fmt: skip
        return out.getvalue()


def _same(known: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(known.encode(), given.encode())


def _spend(learner: Learner, now: float) -> None:
    """The rate limit: a bucket of BURST reports, refilled PER_SECOND."""
    gained = (now - learner.refilled) * PER_SECOND
    learner.tokens, learner.refilled = min(BURST, learner.tokens + gained), now
    if learner.tokens < 1:
        raise Refused(429, "too many reports: one a second is plenty")
    learner.tokens -= 1


def _apply(learner: Learner, body: ReportBody, now: float) -> None:
    if body.step != learner.step:
        learner.step, learner.since, learner.red_since = body.step, now, None
    learner.started.setdefault(body.step, now)
    for each in body.steps:
        if each.state != "not checked":
            learner.states[each.number] = each.state
        if each.state == "green" and each.number in learner.started:
            learner.greened.setdefault(each.number, now)
    learner.failure = body.failure
    mine = learner.states.get(body.step)
    learner.state = (
        "done" if body.finished and body.failure is None
        else "red" if body.failure is not None
        else "green" if mine == "green" else "working"
    )  # fmt: skip
    if learner.state != "red":
        learner.red_since = None
    elif learner.red_since is None:
        learner.red_since = now


def _common(rows: list[Learner]) -> list[dict[str, Any]]:
    counted = Counter(x.failure for x in rows if x.state == "red" and x.failure)
    ranked = sorted(counted.items(), key=lambda pair: (-pair[1], pair[0]))
    return [{"line": line, "count": n} for line, n in ranked[:TOP_LINES]]


def _step(number: int, title: str, rows: list[Learner]) -> dict[str, Any]:
    took = [x.greened[number] - x.started[number] for x in rows
            if number in x.greened and number in x.started]  # fmt: skip
    return {
        "number": number,
        "title": title,
        "green": sum(x.states.get(number) == "green" for x in rows),
        "here": sum(x.step == number for x in rows),
        "median_to_green_s": round(statistics.median(took), 1) if took else None,
    }


def _utc(moment: float | None) -> str:
    if moment is None:
        return ""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(text: str) -> str:
    """A spreadsheet never reads a name as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


# --- HTTP -------------------------------------------------------------------------


class LimitBody:
    """Refuse a request body over `limit` bytes with 413, declared or streamed,
    before the app reads any of it."""

    def __init__(self, app: ASGIApp, limit: int = BODY_LIMIT) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            return await _too_large(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                return await _too_large(scope, receive, send)
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read, at once; then the client's own messages (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay

    return receive


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    refused = JSONResponse(
        {"detail": f"the body is over {BODY_LIMIT} bytes"}, 413, headers=HEADERS
    )
    await refused(scope, receive, send)


def create_app(room: LiveRoom, *, code: str, token: str) -> ASGIApp:
    """The room's web app; `code` lets learners in, `token` lets the instructor see."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(Refused)
    async def refused(request: Request, error: Refused) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, error.status)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable) -> Response:
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    def with_code(given: str) -> None:
        if not _same(code, given):
            raise Refused(403, "wrong room code")

    def instructor(request: Request) -> None:
        given = request.query_params.get("token", "")
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            given = bearer[7:]
        if not _same(token, given):
            raise Refused(403, "the dashboard needs the instructor's token")

    @app.post("/api/join")
    async def join(body: JoinBody) -> dict[str, str]:
        with_code(body.code)
        learner = room.join(body.name, body.key)
        return {"id": learner.id, "key": learner.key, "name": learner.name}

    @app.post("/api/report")
    async def report(body: ReportBody) -> dict[str, bool]:
        with_code(body.code)
        return {"applied": room.report(body)}

    @app.post("/api/leave")
    async def leave(body: LeaveBody) -> dict[str, bool]:
        with_code(body.code)
        room.leave(body.id, body.key)
        return {"left": True}

    @app.get("/api/room")
    async def view(request: Request) -> dict[str, Any]:
        instructor(request)
        return room.view()

    @app.get("/api/timings.csv")
    async def timings(request: Request) -> Response:
        instructor(request)
        disposition = 'attachment; filename="room-timings.csv"'
        return Response(room.timings_csv(), media_type="text/csv",
                        headers={"Content-Disposition": disposition})  # fmt: skip

    @app.get("/dashboard")
    async def dashboard(request: Request) -> FileResponse:
        instructor(request)
        return FileResponse(HERE / "dashboard.html", media_type="text/html")

    @app.get("/dashboard.{kind}")
    async def asset(kind: Literal["js", "css"]) -> FileResponse:
        return FileResponse(HERE / f"dashboard.{kind}")  # no data: no token

    @app.get("/join/{given}")
    async def join_page(given: str) -> PlainTextResponse:
        return PlainTextResponse(
            "This is a workshop live room. In your copy of the workshop, run:\n\n"
            "    workshop join THIS-ADDRESS\n"
        )

    return LimitBody(app)
