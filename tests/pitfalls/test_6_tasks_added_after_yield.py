"""Pitfall 6: tasks added in a `yield` dependency's exit code never run (default scope).

On FastAPI 0.163.2 the exit code of a `yield` dependency with the default scope
("request") runs after the response was sent *and* after the background tasks
ran, so a task it adds comes too late and is silently ignored. With
`Depends(..., scope="function")` (FastAPI 0.121+) the exit code runs before the
response is sent, and a task added there does run.

`TestClient` returns only after the app has finished, tasks included.
"""

from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI
from fastapi.testclient import TestClient


def make_app(events: list[str]) -> FastAPI:
    app = FastAPI()

    def record(what: str) -> None:
        events.append(what)

    def audited(background_tasks: BackgroundTasks):
        background_tasks.add_task(record, "task added before yield")
        yield
        events.append("exit code runs")
        background_tasks.add_task(record, "task added after yield")

    @app.get("/default-scope")
    async def default_scope(_: Annotated[None, Depends(audited)]) -> str:
        return "ok"

    @app.get("/request-scope")
    async def request_scope(
        _: Annotated[None, Depends(audited, scope="request")],
    ) -> str:
        return "ok"

    @app.get("/function-scope")
    async def function_scope(
        _: Annotated[None, Depends(audited, scope="function")],
    ) -> str:
        return "ok"

    return app


def test_task_added_after_yield_never_runs_with_the_default_scope():
    """With the default scope, a task added after `yield` never runs: the exit code runs
    after the tasks already ran.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    assert client.get("/default-scope").status_code == 200

    assert events == ["task added before yield", "exit code runs"]


def test_scope_request_is_the_default():
    """`Depends(..., scope="request")` behaves exactly like the default."""
    events: list[str] = []
    client = TestClient(make_app(events))

    client.get("/request-scope")

    assert events == ["task added before yield", "exit code runs"]


def test_task_added_after_yield_runs_with_scope_function():
    """With `Depends(..., scope="function")` the exit code runs before the response is
    sent, so a task added there runs.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    client.get("/function-scope")

    assert events == [
        "exit code runs",
        "task added before yield",
        "task added after yield",
    ]
