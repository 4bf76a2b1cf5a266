"""Pitfall 5: a returned `Response` with its own `background` drops the injected tasks.

When a path operation returns a `Response`, FastAPI attaches the injected
`BackgroundTasks` only if `response.background is None` (fastapi/routing.py,
0.163.2). A response that brings its own `background=` keeps it, and every task
added through the injected `BackgroundTasks` (endpoint and dependencies) is
dropped silently: no merge, no warning. The fix is one collection: add your
task to the injected `BackgroundTasks` and pass that as `background=`, or
do not set `background=` at all.

`TestClient` returns only after the app has finished, tasks included.
"""

import warnings
from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.background import BackgroundTask


def make_app(events: list[str]) -> FastAPI:
    app = FastAPI()

    def record(what: str) -> None:
        events.append(what)

    def audit(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(record, "injected: audit from the dependency")

    Audit = Annotated[None, Depends(audit)]

    @app.get("/own-background")
    async def own_background(background_tasks: BackgroundTasks, _: Audit):
        background_tasks.add_task(record, "injected: welcome email")
        return JSONResponse(
            {"status": "ok"}, background=BackgroundTask(record, "response's own")
        )

    @app.get("/no-background")
    async def no_background(background_tasks: BackgroundTasks, _: Audit):
        background_tasks.add_task(record, "injected: welcome email")
        return JSONResponse({"status": "ok"})

    @app.get("/same-collection")
    async def same_collection(background_tasks: BackgroundTasks, _: Audit):
        background_tasks.add_task(record, "injected: welcome email")
        background_tasks.add_task(record, "response's own")
        return JSONResponse({"status": "ok"}, background=background_tasks)

    return app


def test_response_with_own_background_silently_drops_injected_tasks():
    """A returned `Response(background=...)` runs only its own task; the injected tasks
    never run and no warning is given.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning would fail the test
        response = client.get("/own-background")

    assert response.status_code == 200
    assert events == ["response's own"]


def test_response_without_background_gets_the_injected_tasks():
    """A returned `Response` without `background` gets the injected tasks attached, and
    they run.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    client.get("/no-background")

    assert events == ["injected: audit from the dependency", "injected: welcome email"]


def test_passing_the_injected_tasks_as_background_runs_them_all():
    """Passing the injected `BackgroundTasks` itself as `background=` runs every task,
    in the order added.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    client.get("/same-collection")

    assert events == [
        "injected: audit from the dependency",
        "injected: welcome email",
        "response's own",
    ]
