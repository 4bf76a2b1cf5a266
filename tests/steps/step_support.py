"""Helpers of the step suites: polling, the mail gate, a live uvicorn server."""

from __future__ import annotations

import contextvars
import socket
import threading
import time
from collections.abc import Callable

import pytest

TIMEOUT = 3.0  # seconds: a client request or a wait that takes longer fails
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


def wait_for(condition: Callable[[], object], what: str, timeout: float = TIMEOUT):
    """Poll `condition` until it returns something truthy; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g} s waiting until {what}")
        time.sleep(0.01)


class Exchange:
    """One request to the live server: has its whole response been sent yet?"""

    def __init__(self, method: str, path: str) -> None:
        self.what = f"{method} {path}"
        self.responded = False


# The request being answered, as seen from code running on its behalf: the
# endpoint, its dependencies and its background tasks (threadpool included).
CURRENT_EXCHANGE: contextvars.ContextVar[Exchange] = contextvars.ContextVar("exchange")


def track_responses(app):
    """Wrap an ASGI app so CURRENT_EXCHANGE tells whether the response is out."""

    async def tracked(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        exchange = Exchange(scope["method"], scope["path"])
        CURRENT_EXCHANGE.set(exchange)

        async def send_and_note(message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get(
                "more_body", False
            ):
                exchange.responded = True

        await app(scope, receive, send_and_note)

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

    def sent_during_request(self, recipient: str) -> bool:
        """True (and noted) when called by code the client is still waiting for."""
        exchange = CURRENT_EXCHANGE.get(None)
        if exchange is None or exchange.responded:
            return False
        self.sent_before_response.append(f"{recipient}, during {exchange.what}")
        return True

    def hold(self, *recipients: str) -> None:
        """Hold only emails to these recipients (`hold()`: hold none)."""
        self.recipients = set(recipients)

    def release(self, *recipients: str) -> None:
        """Stop holding emails to these recipients; the others stay held."""
        if self.recipients is None:
            raise ValueError("release() needs hold(...) first")
        self.recipients = self.recipients - set(recipients)

    def holds(self, recipient: str) -> bool:
        if self.opened.is_set():
            return False
        return self.recipients is None or recipient in self.recipients

    def open(self) -> None:
        self.opened.set()


class LiveServer:
    """The app served by a real uvicorn server on a free port, in a thread."""

    def __init__(self, app) -> None:
        import httpx
        import uvicorn

        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        host, port = self.socket.getsockname()
        self.url = f"http://{host}:{port}"
        # log_config=None: uvicorn's messages reach pytest's log capture (caplog)
        config = uvicorn.Config(
            track_responses(app), log_config=None, log_level="info", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        # a new connection per request: a failed task closes its connection
        fresh = httpx.Limits(max_keepalive_connections=0)
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, limits=fresh)

    def request(self, method: str, path: str, **kwargs):
        """Send a request; no answer within TIMEOUT seconds fails the test."""
        import httpx

        try:
            return self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            pytest.fail(f"{method} {path} got no answer within {TIMEOUT:g} s")
        except httpx.TransportError as error:
            pytest.fail(f"{method} {path} failed: {error!r}")

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def emails_to(self, recipient: str, status: str | None = None) -> list[dict]:
        """The emails to `recipient` in GET /outbox (with this status, if given)."""
        return [
            email
            for email in self.get("/outbox").json()
            if email["recipient"] == recipient
            and (status is None or email["status"] == status)
        ]

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started, "the server started", timeout=10)

    def stop(self, timeout: float = 10) -> None:
        """Shut down gracefully, as on Ctrl+C, and wait until the server is gone."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(timeout)

    def close(self) -> None:
        self.client.close()
        self.stop()
        self.socket.close()
