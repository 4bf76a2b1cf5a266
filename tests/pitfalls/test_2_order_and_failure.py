"""Pitfall 2: tasks run one after another, and a failure stops the rest.

`BackgroundTasks` awaits its tasks one by one in the order they were added,
`def` and `async def` alike. When one raises, the loop stops: later tasks never
run. The client has its response already (status 200); the error only reaches
the server log ("Exception in ASGI application" with the traceback), and
uvicorn closes that client's keep-alive connection.
"""

import logging
import socket

import pytest
from fastapi import BackgroundTasks, FastAPI


def test_tasks_run_sequentially_in_the_order_added_sync_and_async_mixed(serve, gate):
    """Tasks run one at a time in the order they were added, `def` and `async def`
    mixed, each finishing before the next starts.
    """
    events: list[str] = []
    release, done = gate(), gate()
    app = FastAPI()

    def slow_sync(name: str) -> None:
        events.append(f"{name} start")
        release.wait()  # if tasks ran concurrently, the next one would start now
        events.append(f"{name} end")

    def sync_task(name: str) -> None:
        events.append(f"{name} start")
        events.append(f"{name} end")

    async def async_task(name: str) -> None:
        events.append(f"{name} start")
        events.append(f"{name} end")
        if name == "4 async":
            done.set()

    @app.post("/signup")
    async def signup(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(slow_sync, "1 sync")
        background_tasks.add_task(async_task, "2 async")
        background_tasks.add_task(sync_task, "3 sync")
        background_tasks.add_task(async_task, "4 async")
        events.append("endpoint returns")
        return {"status": "ok"}

    server = serve(app)
    try:
        assert server.client.post("/signup").status_code == 200
    finally:
        release.set()
    assert done.wait()
    assert events == [
        "endpoint returns",
        "1 sync start",
        "1 sync end",
        "2 async start",
        "2 async end",
        "3 sync start",
        "3 sync end",
        "4 async start",
        "4 async end",
    ]


def test_failing_task_skips_later_tasks_and_only_reaches_the_server_log(
    serve, caplog, wait_until
):
    """When a task raises, the tasks after it never run; the client already has its 200
    and the traceback goes only to the server log.
    """
    events: list[str] = []
    app = FastAPI()

    def send_welcome_email(to: str) -> None:
        events.append(f"welcome email to {to}")

    def notify_admin(to: str) -> None:
        raise RuntimeError(f"mail server down, admin notice about {to} lost")

    def write_audit_entry(to: str) -> None:
        events.append(f"audit entry for {to}")

    @app.post("/subscribers")
    async def subscribe(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(send_welcome_email, "ada@example.com")
        background_tasks.add_task(notify_admin, "ada@example.com")
        background_tasks.add_task(write_audit_entry, "ada@example.com")
        return {"email": "ada@example.com"}

    server = serve(app)
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    response = server.client.post("/subscribers")

    assert response.status_code == 200
    assert response.json() == {"email": "ada@example.com"}

    # Wait for the server to log the failure: after that, no task can run.
    def logged() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "uvicorn.error"]

    wait_until(lambda: bool(logged()), "the server logged the task's exception")
    (record,) = logged()
    assert record.levelno == logging.ERROR
    assert record.getMessage().startswith("Exception in ASGI application")
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert "admin notice about ada@example.com lost" in caplog.text  # traceback
    assert events == ["welcome email to ada@example.com"]  # audit entry skipped


def test_a_failing_task_also_closes_the_clients_connection(serve, caplog, wait_until):
    """The response was already sent, so uvicorn cannot answer 500: it logs the
    error and closes that keep-alive connection (the client reads end-of-file).
    Without a failing task the same connection stays open."""
    app = FastAPI()

    def notify_admin(fail: bool) -> None:
        if fail:
            raise RuntimeError("mail server down")

    @app.post("/subscribers")
    async def subscribe(background_tasks: BackgroundTasks, fail: bool) -> dict:
        background_tasks.add_task(notify_admin, fail)
        return {"email": "ada@example.com"}

    server = serve(app)
    caplog.set_level(logging.ERROR, logger="uvicorn.error")
    host, port = server.url.removeprefix("http://").split(":")

    def post(fail: bool) -> socket.socket:
        conn = socket.create_connection((host, int(port)), timeout=5)
        conn.sendall(
            f"POST /subscribers?fail={fail} HTTP/1.1\r\nHost: x\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        head = b""
        while not head.endswith(b'"ada@example.com"}'):
            head += conn.recv(1024)
        assert head.startswith(b"HTTP/1.1 200")
        return conn

    kept = post(fail=False)
    closed = post(fail=True)
    wait_until(lambda: "Exception in ASGI application" in caplog.text, "logged")
    assert closed.recv(1024) == b""  # end-of-file: the server closed it
    kept.settimeout(0.2)
    with pytest.raises(TimeoutError):
        kept.recv(1024)  # still open, nothing to read
    kept.close()
    closed.close()
