"""Pitfall 4: raising `HTTPException` after `add_task` means the tasks never run.

The tasks travel with the response the path operation returns. When it raises
instead, the exception handler builds a new error response that carries no
background tasks, so every task added so far (by the endpoint or by its
dependencies) is dropped without a trace. Returning an error response instead
of raising keeps them.

`TestClient` returns only after the app has finished, tasks included (pitfall
3), so an empty event list after the call means the tasks never ran.
"""

from typing import Annotated

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient


def make_app(events: list[str]) -> FastAPI:
    app = FastAPI()

    def record(what: str) -> None:
        events.append(what)

    def audit(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(record, "audit entry from the dependency")

    @app.get("/raise/{name}")
    async def raise_not_found(
        name: str,
        background_tasks: BackgroundTasks,
        _: Annotated[None, Depends(audit)],
    ) -> dict[str, str]:
        background_tasks.add_task(record, f"task for {name}")
        raise HTTPException(status_code=404, detail="Item not found")

    @app.get("/return/{name}")
    async def return_not_found(
        name: str,
        background_tasks: BackgroundTasks,
        _: Annotated[None, Depends(audit)],
    ) -> JSONResponse:
        background_tasks.add_task(record, f"task for {name}")
        return JSONResponse({"detail": "Item not found"}, status_code=404)

    return app


def test_raising_httpexception_after_add_task_drops_every_task():
    """Tasks added before an `HTTPException` is raised, by the endpoint or a dependency,
    never run.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    response = client.get("/raise/orange")

    assert response.status_code == 404
    assert response.json() == {"detail": "Item not found"}
    assert events == []


def test_returning_an_error_response_keeps_the_tasks():
    """Returning an error response (instead of raising) still runs the tasks: what
    matters is `return` vs `raise`, not the status code.
    """
    events: list[str] = []
    client = TestClient(make_app(events))

    response = client.get("/return/orange")

    assert response.status_code == 404
    assert events == ["audit entry from the dependency", "task for orange"]
