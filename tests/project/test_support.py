"""tests/support/live.py, the helpers every test folder shares, does what it says."""

from __future__ import annotations

import socket
from contextlib import asynccontextmanager

import pytest
from support.live import LiveServer, free_port, wait_until


def test_wait_until_returns_what_the_condition_returned() -> None:
    """wait_until hands back the first truthy result."""
    results = iter([None, [], ["sent"]])
    assert wait_until(lambda: next(results), "an email is sent", interval=0) == ["sent"]


def test_wait_until_fails_with_one_short_line() -> None:
    """The failure says how long it waited and for what, in one line, nothing more."""
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_until(lambda: False, "the job is done", timeout=0.05)
    assert str(failed.value) == "gave up after 0.05 s waiting until the job is done"


def test_free_port_can_be_bound() -> None:
    """free_port names a loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))


def test_live_server_serves_and_stops() -> None:
    """A LiveServer answers on its url; close() stops the thread, also twice."""
    from fastapi import FastAPI

    app = FastAPI()
    app.get("/")(lambda: "hello")
    server = LiveServer(app, lifespan="off")
    try:
        assert server.start() is server
        assert server.get("/").json() == "hello"
    finally:
        server.close()
    assert not server.thread.is_alive()
    server.close()


# uvicorn ends its thread with SystemExit(3) when the app's startup fails
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_live_server_start_fails_at_once_when_startup_fails() -> None:
    """A broken startup fails start() as soon as uvicorn gives up, not after 10 s."""
    from fastapi import FastAPI

    @asynccontextmanager
    async def lifespan(app):
        raise RuntimeError("no database")
        yield

    server = LiveServer(FastAPI(lifespan=lifespan), lifespan="on")
    try:
        with pytest.raises(pytest.fail.Exception, match="stopped before it started"):
            server.start()
    finally:
        server.close()


def test_live_server_stops_without_waiting_for_uvicorns_ticks(monkeypatch) -> None:
    """close() wakes the server at once: with uvicorn's 0.1 s sleeps (its main
    loop's tick, its shutdown's grace for open connections) made endless, an
    idle server still stops (a step-7 check starts one per test)."""
    import asyncio
    import types

    import uvicorn.server
    from fastapi import FastAPI

    endless = []

    async def sleep(delay: float, *args):
        if delay >= 0.1:
            endless.append(delay)
            await asyncio.Event().wait()  # never set
        await asyncio.sleep(delay, *args)

    patched = types.SimpleNamespace(**vars(asyncio))
    patched.sleep = sleep
    monkeypatch.setattr(uvicorn.server, "asyncio", patched)
    app = FastAPI()
    app.get("/")(lambda: "hello")
    server = LiveServer(app, lifespan="on")
    try:
        server.start()
        assert server.get("/").json() == "hello"
    finally:
        server.stop(timeout=10)  # a bound for the old server, never reached now
    assert not server.thread.is_alive(), f"the server waited in sleep({endless})"
    server.close()
