"""Fixtures for the pitfall tests: real uvicorn servers for tiny FastAPI apps.

- `serve(app, **config)`: starts `uvicorn.Server` in a thread on a socket bound
  to a free port (port 0), waits until it accepts requests, and returns a
  `LiveServer` with its `url`. Every server started is stopped after the test.
- `gate()`: a `threading.Event` whose `wait()` is bounded, so a test that goes
  wrong fails instead of hanging.
- `wait_until(condition, what)`: polls `condition` and fails the test if it
  does not hold within `WAIT` seconds.

uvicorn is started with `log_config=None`, so its loggers ("uvicorn.error")
propagate to the root logger and pytest's `caplog` sees what it logs.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

WAIT = 10.0  # seconds: the upper bound of every wait; reached only on failure


class Gate(threading.Event):
    """An event whose `wait()` gives up after `WAIT` seconds by default."""

    def wait(self, timeout: float | None = WAIT) -> bool:
        return super().wait(timeout)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll `condition` until it holds; fail the test after `WAIT` seconds."""
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


class LiveServer:
    """A uvicorn server running `app` in a background thread."""

    def __init__(self, app: Any, **config: Any) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        host, port = self.sock.getsockname()
        self.url = f"http://{host}:{port}"
        config = {"log_config": None, "access_log": False, "lifespan": "off"} | config
        self.server = uvicorn.Server(uvicorn.Config(app, **config))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> LiveServer:
        self.thread.start()
        wait_until(lambda: self.server.started, "uvicorn to start")
        return self

    def stop(self) -> None:
        """Ask for a graceful shutdown (what SIGINT does) and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(WAIT)
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(app: Any, **config: Any) -> LiveServer:
        server = LiveServer(app, **config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.server.force_exit = True  # a test that failed may leave a task open
        server.stop()


@pytest.fixture
def gate() -> Callable[[], Gate]:
    return Gate


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[[Callable[[], bool], str], None]:
    return wait_until
