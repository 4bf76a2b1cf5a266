"""Helpers of the step suites: the mail gate, response tracking, the app's server.

The live server and `wait_until` are shared with the other tests: they live in
tests/support/live.py (conftest.py puts tests/ on sys.path).
"""

from __future__ import annotations

import contextvars
import threading

from support.live import LiveServer

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


class AppServer(LiveServer):
    """The app under test on a live server (`support.live`), plus its outbox."""

    def __init__(self, app) -> None:
        # response tracking for MailGate; the app's startup and shutdown run;
        # log_level="info": caplog sees "Waiting for background tasks ..."
        super().__init__(track_responses(app), lifespan="on", log_level="info")

    def emails_to(self, recipient: str, status: str | None = None) -> list[dict]:
        """The emails to `recipient` in GET /outbox (with this status, if given)."""
        return [
            email
            for email in self.get("/outbox").json()
            if email["recipient"] == recipient
            and (status is None or email["status"] == status)
        ]
