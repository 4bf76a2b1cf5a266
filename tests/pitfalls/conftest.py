"""Fixtures for the pitfall tests: real uvicorn servers for tiny FastAPI apps.

- `serve(app, **config)`: starts a `LiveServer` (tests/support/live.py) for
  `app`, without lifespan and access log unless `config` says otherwise, and
  returns it once it accepts requests: `server.url`, and `server.client`, an
  httpx client with a new connection per request and a `WAIT` s timeout.
  Every server started is stopped after the test, without waiting for tasks
  a failed test left blocked.
- `gate()`: a `threading.Event` whose `wait()` is bounded, so a test that goes
  wrong fails instead of hanging.
- `wait_until(condition, what)`: the shared `wait_until`, bounded by `WAIT`
  seconds instead of 3: the test fails if `condition` does not hold by then.

uvicorn is started with `log_config=None`, so its loggers ("uvicorn.error")
propagate to the root logger and pytest's `caplog` sees what it logs.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.live import LiveServer, wait_until

WAIT = 30.0  # seconds: the upper bound of every wait; reached only on failure


class Gate(threading.Event):
    """An event whose `wait()` gives up after `WAIT` seconds by default."""

    def wait(self, timeout: float | None = WAIT) -> bool:
        return super().wait(timeout)


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(app: Any, **config: Any) -> LiveServer:
        config = {"access_log": False, "lifespan": "off"} | config
        server = LiveServer(app, timeout=WAIT, **config)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.close(force=True)  # a test that failed may leave a task open


@pytest.fixture
def gate() -> Callable[[], Gate]:
    return Gate


@pytest.fixture(name="wait_until")
def wait_until_fixture() -> Callable[..., Any]:
    return functools.partial(wait_until, timeout=WAIT, interval=0.005)
