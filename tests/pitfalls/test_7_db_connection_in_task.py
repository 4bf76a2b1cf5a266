"""Pitfall 7: handing the request's DB connection to a background task.

A `yield` dependency that opens and closes a connection decides, by its scope,
whether a task can still use it (FastAPI 0.163.2):

- default scope, same as `Depends(get_db, scope="request")`: the exit code runs
  after the response was sent *and after the background tasks*. The task can
  use the connection, but the connection stays open (checked out of any pool)
  for as long as the tasks run, and cleanup such as a commit happens after the
  client already has its answer.
- `Depends(get_db, scope="function")`: the exit code runs when the path
  operation returns, before the response is sent; the task gets a closed
  connection (`sqlite3.ProgrammingError: Cannot operate on a closed database.`).

The robust pattern for either scope: pass ids, and let the task open its own
connection. (`check_same_thread=False` keeps thread affinity out of it: the
dependency and a `def` task may run in different worker threads, and with the
sqlite3 default the task would then fail for that reason, depending on
scheduling.)
"""

import sqlite3
from typing import Annotated

import pytest
from fastapi import BackgroundTasks, Depends, FastAPI
from fastapi.exceptions import DependencyScopeError
from fastapi.testclient import TestClient


class RecordResponseSent:
    """ASGI middleware: records "response sent" once the last body chunk is sent."""

    def __init__(self, app, events: list[str]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope, receive, send) -> None:
        async def recording_send(message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get(
                "more_body", False
            ):
                self.events.append("response sent")

        await self.app(scope, receive, recording_send)


def make_app(events: list[str], release=None) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RecordResponseSent, events=events)

    def get_db():
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        events.append("db opened")
        try:
            yield conn
        finally:
            conn.close()
            events.append("db closed")

    def save_welcome_email(conn: sqlite3.Connection, email: str) -> None:
        events.append("task started")
        if release is not None:
            release.wait()
        try:
            conn.execute("SELECT ?", (email,))
        except sqlite3.ProgrammingError as error:
            events.append(f"task failed: {error}")
        else:
            events.append("task used the connection")

    def subscribe(background_tasks: BackgroundTasks, db: sqlite3.Connection):
        background_tasks.add_task(save_welcome_email, db, "ada@example.com")
        events.append("endpoint returns")
        return {"email": "ada@example.com"}

    @app.post("/default")
    def default(
        bt: BackgroundTasks, db: Annotated[sqlite3.Connection, Depends(get_db)]
    ):
        return subscribe(bt, db)

    @app.post("/request")
    def request(
        bt: BackgroundTasks,
        db: Annotated[sqlite3.Connection, Depends(get_db, scope="request")],
    ):
        return subscribe(bt, db)

    @app.post("/function")
    def function(
        bt: BackgroundTasks,
        db: Annotated[sqlite3.Connection, Depends(get_db, scope="function")],
    ):
        return subscribe(bt, db)

    return app


@pytest.mark.parametrize("path", ["/default", "/request"])
def test_default_and_request_scope_keep_the_connection_open_until_tasks_end(path):
    """With the default scope (= "request") the connection is closed only after the
    response was sent and the tasks ran, so the task can use it.
    """
    events: list[str] = []
    TestClient(make_app(events)).post(path)

    assert events == [
        "db opened",
        "endpoint returns",
        "response sent",
        "task started",
        "task used the connection",
        "db closed",
    ]


def test_function_scope_closes_the_connection_before_the_task_runs():
    """With `scope="function"` the connection is closed before the response is sent, so
    the task gets a closed connection.
    """
    events: list[str] = []
    TestClient(make_app(events)).post("/function")

    assert events == [
        "db opened",
        "endpoint returns",
        "db closed",
        "response sent",
        "task started",
        "task failed: Cannot operate on a closed database.",
    ]


def test_with_uvicorn_the_connection_is_held_while_the_client_already_has_its_response(
    serve, gate, wait_until
):
    """On a real server the client has its response while the task still holds the
    request's connection open (default scope).
    """
    events: list[str] = []
    release = gate()
    server = serve(make_app(events, release))
    try:
        response = server.client.post("/default")
        assert response.status_code == 200
        wait_until(lambda: "task started" in events, "the task started")
        assert events == [
            "db opened",
            "endpoint returns",
            "response sent",
            "task started",
        ]
    finally:
        release.set()
    wait_until(
        lambda: "db closed" in events,
        "the dependency's exit code closed the connection",
    )
    assert events[-2:] == ["task used the connection", "db closed"]


def test_request_scope_dependency_cannot_depend_on_a_function_scope_one():
    """A `yield` dependency with scope "request" may not depend on one with scope
    "function": FastAPI refuses the route.
    """
    app = FastAPI()

    def inner():
        yield "inner"

    def outer(value: Annotated[str, Depends(inner, scope="function")]):
        yield value

    with pytest.raises(
        DependencyScopeError,
        match='cannot depend on dependencies with scope "function"',
    ):

        @app.get("/")
        def endpoint(value: Annotated[str, Depends(outer, scope="request")]) -> str:
            return value
