"""A live uvicorn server in a thread, waiting for a condition, free ports.

- `LiveServer(app, **config)`: `app` served by `uvicorn.Server` in a thread,
  on a socket bound to a free port (port 0, so no race for the port): `url`,
  `start()`, `stop()`, `close()`. `get()`, `post()` and `request()` send
  through `client` (httpx) and fail the test with a readable message when the
  server does not answer within `timeout`. `config` goes to `uvicorn.Config`,
  with `log_config=None`, so uvicorn's log records reach pytest's `caplog`.
  It stops as soon as it is asked to, not at uvicorn's next 0.1 s tick.
- `wait_until(condition, what)`: polls `condition` until it returns something
  truthy and returns that; the test fails with "gave up after 3 s waiting
  until <what>" otherwise.
- `free_port()`: a port that is free right now, for a server in a subprocess.

The step suites (tests/steps) import this module too: it runs against a
learner's app under `workshop check`, so it depends on pytest, httpx and
uvicorn only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

HOST = "127.0.0.1"  # loopback only
TIMEOUT = 3.0  # seconds: a request or a wait that takes longer fails the test
START_LIMIT = 10.0  # seconds uvicorn may take to start
STOP_LIMIT = 10.0  # seconds a shutdown may take before it is forced

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    what: str,
    *,
    timeout: float = TIMEOUT,
    interval: float = 0.01,
) -> T:
    """Poll `condition` until it returns something truthy, and return that.

    After `timeout` seconds the test fails with one short line, "gave up after
    3 s waiting until <what>": write `what` as the state waited for ("the job
    is done"), so the message reads as a sentence and stays short.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:g} s waiting until {what}")
        time.sleep(interval)


def free_port(host: str = HOST) -> int:
    """A port the OS reports free on `host` right now (for another process).

    A server in this process should bind port 0 itself instead (LiveServer
    does): between this call and the bind, another process may take the port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LiveServer:
    """An ASGI app served by a real uvicorn server in a background thread.

    `config` goes to `uvicorn.Config` (`lifespan`, `log_level`, `access_log`,
    ...); `log_config=None` is the default, so uvicorn's log records reach
    pytest's `caplog`. `client` is an httpx client for `url`, with `timeout` as
    its default per request. Call `start()`, and `close()` when done.
    """

    def __init__(self, app: Any, *, timeout: float = TIMEOUT, **config: Any) -> None:
        import httpx
        import uvicorn

        self.timeout = timeout
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind((HOST, 0))
        host, port = self.socket.getsockname()
        self.url = f"http://{host}:{port}"
        config = {"log_config": None, **config}
        self.server = _prompt_server(uvicorn.Config(app, **config))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        # a new connection per request: a failed task closes its connection
        self.client = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            limits=httpx.Limits(max_keepalive_connections=0),
            verify=False,  # plain http: loading the CA bundle would take 30-100 ms
        )

    def request(self, method: str, path: str, **kwargs: Any):
        """Send a request; no answer within `timeout` seconds fails the test."""
        import httpx

        try:
            return self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            pytest.fail(
                f"{method} {path} got no answer within {self.timeout:g} s: does"
                " something block the server (a blocking call in an `async def`,"
                " a loop that never ends)?"
            )
        except httpx.TransportError as error:
            pytest.fail(f"{method} {path} failed: {error!r}")

    def get(self, path: str, **kwargs: Any):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any):
        return self.request("POST", path, **kwargs)

    def start(self) -> LiveServer:
        """Start the server thread; return once uvicorn accepts requests."""
        self.thread.start()
        wait_until(
            lambda: self.server.started or not self.thread.is_alive(),
            "the server started",
            timeout=START_LIMIT,
            interval=0.005,
        )
        if not self.server.started:  # the thread ended: no use waiting longer
            pytest.fail("the server stopped before it started (see the captured log)")
        return self

    def stop(self, *, force: bool = False, timeout: float = STOP_LIMIT) -> None:
        """Shut down as on Ctrl+C and wait until the server thread is gone.

        Graceful: uvicorn waits for open requests and their background tasks,
        then runs the app's shutdown; after `timeout` seconds it is forced.
        `force`: do not wait for requests and tasks (a failed test may leave
        one blocked), nor run the shutdown.
        """
        if self.thread.ident is None:  # never started: nothing to stop
            return
        if force:
            self.server.force_exit = True
        self.server.should_exit = True
        self.server.wake()
        self.thread.join(timeout)
        if self.thread.is_alive() and not self.server.force_exit:
            self.server.force_exit = True
            self.thread.join(timeout)

    def close(self, *, force: bool = False) -> None:
        """Close the client, stop the server (see `stop`), close the socket."""
        self.client.close()
        self.stop(force=force)
        self.socket.close()


def _prompt_server(config: Any) -> Any:
    """A uvicorn.Server that stops as soon as it is asked to.

    uvicorn's own looks at `should_exit` every 0.1 s, and its shutdown gives
    open connections 0.1 s to finish before it waits for them: about 0.15 s
    per server, most of the time a check of step 7 spent waiting (it starts
    a server per test). This one wakes at once (`wake()`), and skips the
    0.1 s when no connection is open (the client keeps none alive); with one
    open, or a request still running, it shuts down as uvicorn does.
    """
    import uvicorn

    class PromptServer(uvicorn.Server):
        loop: asyncio.AbstractEventLoop | None = None
        woken: asyncio.Event | None = None

        async def main_loop(self) -> None:
            self.loop, self.woken = asyncio.get_running_loop(), asyncio.Event()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.woken.wait(), 0.1)  # uvicorn's tick

        def wake(self) -> None:
            """From another thread: look at `should_exit` now."""
            if self.loop is not None and self.woken is not None:
                with contextlib.suppress(RuntimeError):  # the loop has ended
                    self.loop.call_soon_threadsafe(self.woken.set)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            state = self.server_state
            if state.connections or state.tasks:
                await super().shutdown(sockets)
                return
            logging.getLogger("uvicorn.error").info("Shutting down")
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            for server in self.servers:
                await server.wait_closed()
            if not self.force_exit:
                await self.lifespan.shutdown()

    return PromptServer(config)
