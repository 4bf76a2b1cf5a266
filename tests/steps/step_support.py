"""Helpers of the step suites: the mail gate, response tracking, the app's server.

`wait_for(server, condition, otherwise)` is how a suite waits for the app: it
fails at once, saying `otherwise`, as soon as nothing the app does can make
the condition true (every request and its tasks done, or held at the gate).

The live server and `wait_until` are shared with the other tests: they live in
tests/support/live.py (conftest.py puts tests/ on sys.path).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
import task_trace
from queue_support import jobs_pending
from support.live import TIMEOUT, LiveServer

T = TypeVar("T")

GATE_LIMIT = 10.0  # seconds a held delivery waits at most, should a test forget


def written_summary(path: str, method: str) -> str | None:
    """The `summary=` an endpoint was declared with (None: FastAPI's default)."""
    from fastapi.routing import APIRoute

    from app.main import app

    for route in app.routes:
        found = isinstance(route, APIRoute) and route.path == path
        if found and method.upper() in route.methods:
            return route.summary
    raise AssertionError(f"no endpoint {method.upper()} {path}")


class Exchange:
    """One request to the live server: has its whole response been sent yet?
    Has the app finished with it (the response and its background tasks)?"""

    def __init__(self, method: str, path: str) -> None:
        self.what = f"{method} {path}"
        self.responded = False
        self.held = False  # a delivery of its tasks waits at the mail gate
        self.finished = threading.Event()
        self.error: BaseException | None = None  # what the app (or a task) raised

    @property
    def idle(self) -> bool:
        """Nothing of it can move on by itself: it is done, or held at the gate."""
        return self.finished.is_set() or self.held


# The request being answered, as seen from code running on its behalf: the
# endpoint, its dependencies and its background tasks (threadpool included).
CURRENT_EXCHANGE: contextvars.ContextVar[Exchange] = contextvars.ContextVar("exchange")


def track_responses(app, exchanges: list[Exchange] | None = None):
    """Wrap an ASGI app so CURRENT_EXCHANGE tells whether the response is out;
    each request's Exchange is appended to `exchanges`."""

    async def tracked(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        exchange = Exchange(scope["method"], scope["path"])
        CURRENT_EXCHANGE.set(exchange)
        if exchanges is not None:
            exchanges.append(exchange)

        async def send_and_note(message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get(
                "more_body", False
            ):
                exchange.responded = True

        try:  # Starlette runs the background tasks inside this call
            await app(scope, receive, send_and_note)
        except BaseException as error:
            exchange.error = error
            raise
        finally:
            exchange.finished.set()

    return tracked


class MailGate:
    """Holds deliveries of the pretend mail server until the test opens it.

    At first it holds every email; `hold(...)` narrows it to some recipients,
    `release(...)` lets some of them go on (held ones too), `open()` all.
    An email sent while its request is still unanswered is never held (the
    client would wait for the gate): it is noted in `sent_before_response`.
    """

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.recipients: set[str] | None = None  # None: hold every recipient
        self.sent_before_response: list[str] = []  # "recipient, during POST /x"
        # a blocking delivery made on the event loop's thread (a sync call in
        # an `async def`): the whole server waits for it, so it is never held
        self.blocked_loop: list[str] = []
        self._lock = threading.Lock()
        self._waiting: dict[Exchange, str] = {}  # held deliveries' requests

    def sent_during_request(self, recipient: str) -> bool:
        """True (and noted) when called by code the client is still waiting for."""
        exchange = CURRENT_EXCHANGE.get(None)
        if exchange is None or exchange.responded:
            return False
        self.sent_before_response.append(f"{recipient}, during {exchange.what}")
        return True

    def hold(self, *recipients: str) -> None:
        """Hold only emails to these recipients (`hold()`: hold none)."""
        with self._lock:
            self.recipients = set(recipients)
            self._let_go()

    def release(self, *recipients: str) -> None:
        """Stop holding emails to these recipients; the others stay held."""
        if self.recipients is None:
            raise ValueError("release() needs hold(...) first")
        with self._lock:
            self.recipients = self.recipients - set(recipients)
            self._let_go()

    def holds(self, recipient: str) -> bool:
        if self.opened.is_set():
            return False
        return self.recipients is None or recipient in self.recipients

    def open(self) -> None:
        with self._lock:
            self.opened.set()
            self._let_go()

    def _let_go(self) -> None:
        """The requests whose deliveries are let go are busy again, at once
        (not when their wait notices): `wait_for` must not see them idle."""
        for exchange, recipient in list(self._waiting.items()):
            if not self.holds(recipient):
                exchange.held = False
                del self._waiting[exchange]

    @contextlib.contextmanager
    def waiting(self, recipient: str) -> Iterator[None]:
        """While a delivery to `recipient` waits here, its request is held
        (see `wait_for`)."""
        exchange = CURRENT_EXCHANGE.get(None)
        with self._lock:
            if exchange is not None and self.holds(recipient):
                exchange.held = True
                self._waiting[exchange] = recipient
        try:
            yield
        finally:
            with self._lock:
                if exchange is not None and self._waiting.pop(exchange, None):
                    exchange.held = False


# app/ code that called time.sleep while its request was unanswered: (where,
# seconds, the request); the client waited for it (note_sleeps)
SLEPT: list[tuple[str, float, Exchange]] = []
_sleep = time.sleep


def note_sleeps() -> None:
    """Record every time.sleep app/ code calls while its request waits for
    its response (evidence, never a timing): once per session."""

    def sleep(seconds: float) -> None:
        exchange = CURRENT_EXCHANGE.get(None)
        waiting = seconds and exchange is not None and not exchange.responded
        if waiting and (where := task_trace.app_caller()):
            SLEPT.append((where, seconds, exchange))
        _sleep(seconds)

    time.sleep = sleep


class AppServer(LiveServer):
    """The app under test on a live server (`support.live`), plus its outbox."""

    def __init__(self, app) -> None:
        # response tracking for MailGate; the app's startup and shutdown run;
        # log_level="info": caplog sees "Waiting for background tasks ..."
        self.exchanges: list[Exchange] = []
        tracked = track_responses(app, self.exchanges)
        super().__init__(tracked, lifespan="on", log_level="info")

    def request(self, method: str, path: str, **kwargs):
        """As LiveServer's; a request whose answer waited for a time.sleep in
        app/ fails the test, naming the line."""
        response = super().request(method, path, **kwargs)
        mine = [s for s in SLEPT if any(s[2] is e for e in self.exchanges)]
        if mine:
            SLEPT.clear()
            where, seconds, exchange = mine[0]
            pytest.fail(
                f"{where}: {exchange.what} called time.sleep({seconds:g}) before"
                " answering, so the client waited for it: drop the sleep, or move"
                " the slow work to a background task"
            )
        return response

    def idle(self) -> bool:
        """Nothing the app does can change what a test sees: every request is
        answered and its tasks are done, or a task waits at the mail gate; and
        no job it sent to a worker (step 8 on) is still to run."""
        if jobs_pending():
            return False
        return all(exchange.idle for exchange in list(self.exchanges))

    def settle(self) -> list[str]:
        """Wait (3 s at most) until the server is idle; return `errors()`."""
        deadline = time.monotonic() + TIMEOUT
        while not self.idle() and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.errors()

    def errors(self) -> list[str]:
        """What requests or their tasks raised: 'POST /subscribers: KeyError: ...'."""
        return [
            f"{e.what} (or one of its tasks) raised {type(e.error).__name__}: {e.error}"
            for e in list(self.exchanges)
            if e.error is not None
        ]

    def emails_to(self, recipient: str, status: str | None = None) -> list[dict]:
        """The emails to `recipient` in GET /outbox (with this status, if given)."""
        return [
            email
            for email in self.get("/outbox").json()
            if email["recipient"] == recipient
            and (status is None or email["status"] == status)
        ]


def uncommitted(opened: list[list[str]], statement: str) -> bool:
    """True when `statement` ran on a connection (of the `opened` fixture) that
    never committed after it: the row was dropped when it closed."""
    for statements in opened:
        ran = [i for i, sql in enumerate(statements) if sql.startswith(statement)]
        if ran and "COMMIT" not in statements[ran[-1] :]:
            return True
    return False


def uncommitted_or(opened: list[list[str]], statement: str, otherwise: str) -> str:
    """What to do when a row is not as the app meant it: when `statement` ran
    and was never committed, say so (the fix the app lacks); else `otherwise`."""
    if uncommitted(opened, statement):
        return (
            f"the {statement} ran but was never committed (its connection closed"
            " without a COMMIT): run it inside `with db:`"
        )
    return otherwise


def why_no_trace(task: str, hint: str) -> str:
    """Why task `task` left no trace, from what was seen: never added, added
    where FastAPI never ran it, or ran with an argument its annotation does
    not take; else that it ran and `hint`."""
    if why := task_trace.why_not_run(task):
        return why
    if wrong := task_trace.ran_with(task):
        parameter = wrong.split("(", 1)[1].split(":", 1)[0]
        given = parameter.removesuffix("_id") + ".id"
        fix = f": add_task({task}, {given})" if parameter.endswith("_id") else ""
        return f"{wrong}{fix}"
    return f"{task} ran and {hint}"


def wait_for(
    server: AppServer, condition: Callable[[], T], otherwise: str | Callable[[], str]
) -> T:
    """Poll `condition` until it returns something truthy, and return that.

    It fails at once, with `otherwise` (say what is missing and the fix), when
    nothing the app does can make it true any more: every request is answered
    and its background tasks are done, or wait at the mail gate. What a
    request or task raised is added. A red test never waits out a timeout.
    `otherwise` may be a function: the evidence read once the wait failed.
    """
    deadline = time.monotonic() + TIMEOUT
    while True:
        idle = server.idle()  # first: a condition seen false after it stays so
        result = condition()
        if result:
            return result
        if idle or time.monotonic() > deadline:
            problems = server.errors()
            if not idle:
                problems.append(f"(gave up after {TIMEOUT:g} s)")
            said = otherwise() if callable(otherwise) else otherwise
            pytest.fail("\n".join([said, *problems]))
        time.sleep(0.005)
