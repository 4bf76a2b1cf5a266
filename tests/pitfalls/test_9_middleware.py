"""Pitfall 9: background tasks behind a middleware, `BaseHTTPMiddleware` or pure ASGI.

On Starlette 1.10.0 with uvicorn 0.54.0, measured on a real server:

- behind `@app.middleware("http")` (a `BaseHTTPMiddleware`) the client gets
  its whole response while the task still waits on a gate, and the task runs
  (starlette#919 and #1438, fixed long ago). Closing the connection at once
  does not cancel an `async def` task either;
- the middleware's code after `await call_next(request)` runs before the
  task starts, so a duration it logs leaves the task out;
- behind a pure ASGI middleware the client does not wait either, but the
  code after `await self.app(scope, receive, send)` runs only after every
  task has finished: a session or a connection the middleware closes there
  is held for the tasks' whole length, and a duration it logs includes them;
- a `ContextVar` set by either middleware before it calls the app is seen by
  `def` and `async def` tasks (the app runs in a copy of the context).

Gates, never sleeps: every "does not wait" is proven with the task blocked.
"""

import socket
import threading
from contextvars import ContextVar

import anyio
import pytest
from fastapi import BackgroundTasks, FastAPI, Request

request_id: ContextVar[str] = ContextVar("request_id", default="unset")
STARTED = "def task sees request_id=from middleware"


def make_app(events: list[str], shut: threading.Event, kind: str) -> FastAPI:
    """An endpoint with a `def` and an `async def` task, both behind `shut`."""
    app = FastAPI()

    def sync_task() -> None:
        events.append(f"def task sees request_id={request_id.get()}")
        shut.wait()
        events.append("def task done")

    async def async_task() -> None:
        while not shut.is_set():  # an await point: this task can be cancelled
            await anyio.sleep(0.005)
        events.append(f"async task sees request_id={request_id.get()}")

    @app.get("/")
    async def endpoint(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(sync_task)
        background_tasks.add_task(async_task)
        return {"status": "ok"}

    if kind == "base":

        @app.middleware("http")
        async def tag_request(request: Request, call_next):
            request_id.set("from middleware")
            response = await call_next(request)
            events.append("middleware: after call_next")
            return response

    else:
        app.add_middleware(PureTag, events=events)
    return app


class PureTag:
    """A pure ASGI middleware: sets the request id, notes when the app returned."""

    def __init__(self, app, events: list[str]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id.set("from middleware")
        await self.app(scope, receive, send)
        self.events.append("middleware: after the app returned")


@pytest.mark.parametrize("kind", ["base", "pure"])
def test_the_response_does_not_wait_behind_a_middleware(serve, gate, wait_until, kind):
    """The client has its full response while the first task is still blocked."""
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, kind))

    response = server.get("/")

    assert response.json() == {"status": "ok"}
    wait_until(lambda: STARTED in events, "the def task is running")
    assert "def task done" not in events  # the response came while it was blocked
    shut.set()
    wait_until(lambda: len(events) == 4, "both tasks and the middleware are done")


def test_base_middleware_code_after_call_next_runs_before_the_tasks(
    serve, gate, wait_until
):
    """`@app.middleware("http")`: after `call_next` runs first, then the tasks, which
    see the middleware's ContextVar."""
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, "base"))

    server.get("/")
    shut.set()
    wait_until(lambda: len(events) == 4, "both tasks are done")

    assert events == [
        "middleware: after call_next",
        "def task sees request_id=from middleware",
        "def task done",
        "async task sees request_id=from middleware",
    ]


def test_pure_middleware_code_after_the_app_runs_after_the_tasks(
    serve, gate, wait_until
):
    """A pure ASGI middleware: `await self.app(...)` returns after the last task, so
    what follows it (closing a session, logging a duration) waits for the tasks."""
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, "pure"))

    server.get("/")
    wait_until(lambda: STARTED in events, "the def task started")
    assert "middleware: after the app returned" not in events  # held by the task
    shut.set()
    wait_until(lambda: len(events) == 4, "the middleware returned")

    assert events == [
        "def task sees request_id=from middleware",
        "def task done",
        "async task sees request_id=from middleware",
        "middleware: after the app returned",
    ]


@pytest.mark.parametrize("kind", ["base", "pure"])
def test_closing_the_connection_does_not_cancel_the_tasks(
    serve, gate, wait_until, kind
):
    """The client reads its response and closes the socket at once (starlette#1438's
    case): the `async def` task still runs to its end once the gate opens."""
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, kind))
    host, port = server.url.removeprefix("http://").split(":")

    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while b'{"status":"ok"}' not in answer:
            answer += sock.recv(4096)
    wait_until(lambda: STARTED in events, "the def task started")
    shut.set()

    wait_until(
        lambda: "async task sees request_id=from middleware" in events,
        "the async task ran to its end",
    )
