"""Pitfall 6: tasks added in a `yield` dependency's exit code never run (default scope).

On FastAPI 0.163.2 the exit code of a `yield` dependency with the default scope
("request") runs after the response was sent *and* after the background tasks
ran, so a task it adds comes too late and is silently ignored. With
`Depends(..., scope="function")` (FastAPI 0.121+) the exit code runs before the
response is sent, and a task added there does run.

`TestClient` returns only after the app has finished, tasks included.
"""

from typing import Annotated

import pytest
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


def test_dependencies_and_endpoint_share_one_background_tasks():
    """Sub-dependency, dependency and endpoint share one BackgroundTasks, in order."""
    app = FastAPI()
    events: list[str] = []
    seen: list[BackgroundTasks] = []

    def inner(background_tasks: BackgroundTasks) -> None:
        seen.append(background_tasks)
        background_tasks.add_task(events.append, "sub-dependency's task")

    def outer(
        background_tasks: BackgroundTasks, _: Annotated[None, Depends(inner)]
    ) -> None:
        seen.append(background_tasks)
        background_tasks.add_task(events.append, "dependency's task")

    @app.get("/")
    def endpoint(
        background_tasks: BackgroundTasks, _: Annotated[None, Depends(outer)]
    ) -> str:
        seen.append(background_tasks)
        background_tasks.add_task(events.append, "endpoint's task")
        return "ok"

    assert TestClient(app).get("/").status_code == 200
    assert len(seen) == 3 and seen[0] is seen[1] is seen[2]
    assert events == ["sub-dependency's task", "dependency's task", "endpoint's task"]


def test_default_scope_yield_dependency_cannot_use_a_function_scoped_one():
    """A default-scope `yield` dependency depending on scope="function" is refused."""
    from fastapi.exceptions import DependencyScopeError

    app = FastAPI()

    def connection():
        yield "db"

    def audited(db: Annotated[str, Depends(connection, scope="function")]):
        yield db

    with pytest.raises(DependencyScopeError, match='scope "function"'):

        @app.get("/")
        def endpoint(value: Annotated[str, Depends(audited)]) -> str:
            return value
