"""Pitfall 3: `TestClient` waits for the background tasks and re-raises their errors.

Unlike a real server, `TestClient` returns from `client.post(...)` only after
the app has finished, background tasks included. So a TestClient test cannot
show that "the response does not wait" (use a real server for that), and a
task that raises makes the test call raise (default
`raise_server_exceptions=True`). With `raise_server_exceptions=False` the
client gets the endpoint's response and the failure is silent: nothing raised,
nothing logged.
"""

import logging
import threading

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.testclient import TestClient

STALL = 0.3  # seconds a call that must stall is given before we call it stalled


def make_app(events: list[str], release: threading.Event | None = None) -> FastAPI:
    app = FastAPI()

    def send_welcome_email() -> None:
        if release is not None:
            release.wait()
        events.append("welcome email sent")

    def notify_admin() -> None:
        raise RuntimeError("mail server down")

    def write_audit_entry() -> None:
        events.append("audit entry written")

    @app.post("/subscribers")
    async def subscribe(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(send_welcome_email)
        return {"status": "subscribed"}

    @app.post("/failing")
    async def failing(background_tasks: BackgroundTasks) -> dict[str, str]:
        background_tasks.add_task(send_welcome_email)
        background_tasks.add_task(notify_admin)
        background_tasks.add_task(write_audit_entry)
        return {"status": "subscribed"}

    return app


def test_testclient_returns_only_after_the_background_tasks_ran(gate):
    """`TestClient` returns the response only after every background task finished."""
    events: list[str] = []
    release, returned = gate(), gate()
    client = TestClient(make_app(events, release))
    responses = []

    def call() -> None:
        responses.append(client.post("/subscribers"))
        returned.set()

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert not returned.wait(STALL)  # the task is blocked, so is the client
    finally:
        release.set()
    caller.join(10)
    assert returned.is_set()
    assert responses[0].status_code == 200
    assert events == ["welcome email sent"]


def test_testclient_reraises_a_task_exception_by_default():
    """By default (`raise_server_exceptions=True`) the exception of a failing task is
    raised by the `TestClient` call.
    """
    events: list[str] = []
    client = TestClient(make_app(events))
    with pytest.raises(RuntimeError, match="mail server down"):
        client.post("/failing")
    assert events == ["welcome email sent"]  # the audit entry never ran


def test_testclient_without_raise_server_exceptions_hides_a_task_failure(caplog):
    """With `raise_server_exceptions=False` the client gets the endpoint's 200 and the
    task's failure is neither raised nor logged.
    """
    caplog.set_level(logging.DEBUG)
    events: list[str] = []
    client = TestClient(make_app(events), raise_server_exceptions=False)

    response = client.post("/failing")

    assert response.status_code == 200
    assert response.json() == {"status": "subscribed"}
    assert events == ["welcome email sent"]  # the audit entry still never ran
    assert not [
        r for r in caplog.records if r.exc_info or "mail server" in r.getMessage()
    ]
