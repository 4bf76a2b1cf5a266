"""Basics the pitfalls build on, checked on the pinned versions.

- FastAPI's `BackgroundTasks` is a subclass of Starlette's.
- With uvicorn the whole response (the last `http.response.body` message, with
  `more_body=False`) is sent before the first background task starts; the
  tasks then run inside the same ASGI call, after the response.
- A keep-alive connection is not held up by the tasks of its previous request.
"""

import httpx
import starlette.background
from fastapi import BackgroundTasks, FastAPI, Request


class RecordMessages:
    """ASGI middleware: records the type of every message the app sends."""

    def __init__(self, app, events: list[str]) -> None:
        self.app = app
        self.events = events

    async def __call__(self, scope, receive, send) -> None:
        async def recording_send(message) -> None:
            await send(message)
            if message["type"] == "http.response.body":
                more_body = message.get("more_body", False)
                self.events.append(f"http.response.body more_body={more_body}")
            else:
                self.events.append(message["type"])

        await self.app(scope, receive, recording_send)


def make_app(events: list[str], release) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RecordMessages, events=events)

    def send_welcome_email() -> None:
        events.append("task started")
        release.wait()
        events.append("task finished")

    @app.post("/subscribers")
    async def subscribe(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(send_welcome_email)
        return {"status": "subscribed"}

    @app.get("/client-port")
    async def client_port(request: Request) -> int:
        return request.client.port  # the same port means the same connection

    return app


def test_fastapi_backgroundtasks_subclasses_starlettes():
    """`fastapi.BackgroundTasks` subclasses `starlette.background.BackgroundTasks`."""
    assert issubclass(BackgroundTasks, starlette.background.BackgroundTasks)
    assert BackgroundTasks is not starlette.background.BackgroundTasks


def test_with_uvicorn_the_response_is_sent_before_the_first_task_starts(
    serve, gate, wait_until
):
    """With uvicorn the last body message (`more_body=False`) is sent, and received by
    the client, before the first task starts.
    """
    events: list[str] = []
    release = gate()
    server = serve(make_app(events, release))
    try:
        response = server.client.post("/subscribers")
        assert response.json() == {"status": "subscribed"}  # while the task waits
        wait_until(lambda: "task started" in events, "the task started")
        assert events == [
            "http.response.start",
            "http.response.body more_body=False",
            "task started",
        ]
    finally:
        release.set()
    wait_until(lambda: "task finished" in events, "the task finished")


def test_keep_alive_connection_is_not_held_up_by_the_previous_requests_tasks(
    serve, gate, wait_until
):
    """A client that reuses its connection gets answers while the task of its
    previous request still runs.
    """
    events: list[str] = []
    release = gate()
    server = serve(make_app(events, release))
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            port = client.get("/client-port").json()
            assert client.post("/subscribers").status_code == 200
            wait_until(lambda: "task started" in events, "the task started")
            assert client.get("/client-port").json() == port  # answered, same socket
        assert "task finished" not in events
    finally:
        release.set()
