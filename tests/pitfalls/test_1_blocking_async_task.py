"""Pitfall 1: a blocking call in an `async def` task freezes the whole server.

An `async def` task runs on the event loop, so a blocking call inside it (here a
`threading.Event.wait()`, in real code `time.sleep`, `requests.get`, a sync DB
driver) stops every other request until it returns. A `def` task runs in
anyio's threadpool instead: the server keeps answering, but the task holds one
of the pool's 40 tokens, which sync endpoints and sync dependencies share.

Every test runs a real uvicorn server. "Stalls" is shown with a short client
timeout on a request that cannot be answered while the gate is closed.
"""

from typing import Annotated

import anyio.to_thread
import httpx
import pytest
from fastapi import BackgroundTasks, Depends, FastAPI

STALL = 0.3  # seconds a request that must stall is given before we call it stalled


def make_app(started, release) -> FastAPI:
    """Endpoints that queue a blocking task, plus probes that answer at once."""
    app = FastAPI()

    def blocking_call() -> None:
        started.set()
        release.wait()  # blocks the calling thread, like time.sleep()

    async def async_task() -> None:
        blocking_call()  # no await: the event loop is stuck here

    def sync_task() -> None:
        blocking_call()  # runs in a worker thread

    def sync_dependency() -> str:
        return "from a def dependency"

    @app.post("/async-task")
    async def queue_async_task(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(async_task)
        return {"queued": "async def task"}

    @app.post("/sync-task")
    async def queue_sync_task(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(sync_task)
        return {"queued": "def task"}

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    @app.get("/sync-endpoint")
    def sync_endpoint() -> str:
        return "from a def endpoint"

    @app.get("/sync-dependency")
    async def uses_sync_dependency(
        value: Annotated[str, Depends(sync_dependency)],
    ) -> str:
        return value

    @app.get("/threadpool")
    async def threadpool(size: int | None = None) -> dict[str, float]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        if size is not None:
            limiter.total_tokens = size
        return {"total": limiter.total_tokens, "borrowed": limiter.borrowed_tokens}

    return app


def assert_stalls(server, path: str) -> None:
    with pytest.raises(httpx.TimeoutException):
        server.client.get(path, timeout=STALL)


def test_blocking_call_in_async_task_freezes_the_server(serve, gate):
    """A blocking call inside an `async def` task stops the server from answering any
    other request until it returns.
    """
    started, release = gate(), gate()
    server = serve(make_app(started, release))
    try:
        response = server.client.post("/async-task")
        assert response.status_code == 200  # the client got its answer first
        assert started.wait()

        assert_stalls(server, "/ping")  # even an async endpoint is stuck
    finally:
        release.set()
    assert server.client.get("/ping").json() == "pong"


def test_def_task_runs_in_threadpool_and_server_keeps_answering(serve, gate):
    """A `def` task runs in anyio's threadpool (40 tokens), so the server keeps
    answering while it blocks.
    """
    started, release = gate(), gate()
    server = serve(make_app(started, release))
    try:
        assert server.client.post("/sync-task").status_code == 200
        assert started.wait()

        assert server.client.get("/ping").json() == "pong"
        pool = server.client.get("/threadpool").json()
        assert pool == {"total": 40, "borrowed": 1}  # the blocked task holds one
        assert not release.is_set()  # the task was blocked the whole time
    finally:
        release.set()


def test_def_tasks_share_the_threadpool_with_sync_endpoints_and_dependencies(
    serve, gate
):
    """`def` tasks, `def` endpoints and `def` dependencies share one limiter: when tasks
    hold every token, sync code waits.
    """
    started, release = gate(), gate()
    server = serve(make_app(started, release))
    try:
        # Shrink the pool to one token so that a single task can exhaust it.
        server.client.get("/threadpool", params={"size": 1})
        assert server.client.post("/sync-task").status_code == 200
        assert started.wait()

        assert_stalls(server, "/sync-endpoint")
        assert_stalls(server, "/sync-dependency")
        assert server.client.get("/ping").json() == "pong"
    finally:
        release.set()
    assert server.client.get("/sync-endpoint").status_code == 200
