"""Pitfall 10: the background tasks of a `StreamingResponse`.

On Starlette 1.10.0 with uvicorn 0.54.0 (which announces ASGI spec 2.3, so
`StreamingResponse` listens for the client's disconnect while it streams),
measured on a real server with a raw socket:

- the tasks run after the last chunk was sent, never between chunks;
- when the client closes the connection mid-stream, the generator is
  cancelled at its next `await` (it gets `CancelledError`, its `finally`
  runs) and the tasks **still run**, at once, with no error logged: a task
  cannot tell a finished stream from an abandoned one. Record the end in the
  generator itself (after its last `yield`) when the task must know.

The same holds behind `@app.middleware("http")`: `BaseHTTPMiddleware`
forwards the disconnect to the app.
"""

import socket
import threading

import anyio
import pytest
from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import StreamingResponse


def make_app(events: list[str], shut: threading.Event, middleware: bool) -> FastAPI:
    """GET /export streams two chunks, the second behind `shut`, then a task."""
    app = FastAPI()

    async def chunks():
        try:
            yield b"first\n"
            events.append("chunk 1 sent")
            while not shut.is_set():  # an await point, where a cancel lands
                await anyio.sleep(0.005)
            yield b"second\n"
            events.append("chunk 2 sent")
        except BaseException as error:
            events.append(f"generator got {type(error).__name__}")
            raise

    async def record_export() -> None:
        events.append("task ran")

    @app.get("/export")
    async def export(background_tasks: BackgroundTasks) -> StreamingResponse:
        background_tasks.add_task(record_export)
        return StreamingResponse(chunks(), media_type="text/plain")

    if middleware:

        @app.middleware("http")
        async def passthrough(request: Request, call_next):
            return await call_next(request)

    return app


def open_stream(url: str) -> socket.socket:
    """A raw connection that has sent GET /export and read its first chunk."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"GET /export HTTP/1.1\r\nHost: x\r\n\r\n")
    read_until(sock, b"first\n")
    return sock


def read_until(sock: socket.socket, end: bytes, answer: bytes = b"") -> bytes:
    while end not in answer:
        data = sock.recv(4096)
        assert data, f"the server closed the connection before {end!r}"
        answer += data
    return answer


@pytest.mark.parametrize("middleware", [False, True], ids=["plain", "middleware"])
def test_tasks_run_after_the_last_chunk(serve, gate, wait_until, middleware):
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, middleware))

    with open_stream(server.url) as sock:
        wait_until(lambda: events, "chunk 1 was sent")
        assert "task ran" not in events  # mid-stream: the task waits
        shut.set()
        read_until(sock, b"0\r\n\r\n")  # the chunked body's end
    wait_until(lambda: "task ran" in events, "the task ran")

    assert events == ["chunk 1 sent", "chunk 2 sent", "task ran"]


@pytest.mark.parametrize("middleware", [False, True], ids=["plain", "middleware"])
def test_a_disconnect_mid_stream_cancels_the_generator_and_still_runs_the_tasks(
    serve, gate, wait_until, caplog, middleware
):
    events: list[str] = []
    shut = gate()
    server = serve(make_app(events, shut, middleware))

    with open_stream(server.url):
        wait_until(lambda: events, "chunk 1 was sent")
    # the socket is closed; the gate stays shut: nothing else can end the stream
    wait_until(lambda: "task ran" in events, "the task ran")

    assert events == ["chunk 1 sent", "generator got CancelledError", "task ran"]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
