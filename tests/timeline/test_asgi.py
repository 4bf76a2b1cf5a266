"""The wrapper records requests, tasks and emails of any app, in process.

A tiny newsletter app (the lesson's shape: an outbox row "sending", then
"sent") runs inside `instrument()` under Starlette's TestClient. The order
the timeline shows does not depend on timing: the wrapper looks at the
database on the boundaries it compares (response started, response sent,
task started and ended), so these tests need no sleeps.
"""

from __future__ import annotations

import functools
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.testclient import TestClient
from starlette.background import BackgroundTask

from workshop.timeline import instrument
from workshop.timeline.database import Database

MORE = 0.2  # seconds a task works on after its email: a gap to tell apart
OUTBOX = (
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY, recipient TEXT, status TEXT,"
    " error TEXT)"
)


def newsletter(db_path: Path) -> FastAPI:
    """The lesson's shape in a few lines: /inside is step 0, /after is step 1."""
    app = FastAPI()

    def send_email(to: str) -> None:
        with closing(sqlite3.connect(db_path)) as db, db:
            row = db.execute(
                "INSERT INTO outbox (recipient, status) VALUES (?, 'sending')", (to,)
            ).lastrowid
        with closing(sqlite3.connect(db_path)) as db, db:
            db.execute("UPDATE outbox SET status = 'sent' WHERE id = ?", (row,))

    def audit(event: str) -> None:
        pass

    def send_email_then_more(to: str) -> None:
        send_email(to)
        time.sleep(MORE)  # the task goes on after its email is sent

    def broken() -> None:
        raise RuntimeError("the mail server is down")

    @app.post("/inside", status_code=201)
    def inside() -> dict[str, bool]:
        send_email("ada@example.com")
        return {"ok": True}

    @app.post("/after", status_code=201)
    def after(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(send_email, "ada@example.com")
        tasks.add_task(functools.partial(audit, "subscribed"))
        return {"ok": True}

    @app.post("/then-more", status_code=201)
    def then_more(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(send_email_then_more, "ada@example.com")
        return {"ok": True}

    @app.post("/broken", status_code=201)
    def fails(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(broken)
        tasks.add_task(audit, "never runs")
        return {"ok": True}

    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    db_path = tmp_path / "newsletter.db"
    with closing(sqlite3.connect(db_path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(OUTBOX)
    wrapped = instrument(newsletter(db_path), database=Database(db_path))
    with TestClient(wrapped, raise_server_exceptions=False) as client:
        yield client


def timeline(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/_workshop/timeline.json")
    assert response.headers["cache-control"] == "no-store"
    return response.json()["requests"]


def bars(request: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in request["events"] if e["kind"] == kind]


def test_an_email_sent_in_the_handler_ends_before_the_response(
    client: TestClient,
) -> None:
    """Step 0's picture: the email bar lies inside the request bar."""
    client.post("/inside")
    (request,) = timeline(client)
    (own,) = bars(request, "request")
    (email,) = bars(request, "email")
    assert (email["name"], email["status"]) == ("email to ada@example.com", "sent")
    assert 0 <= email["start_ms"] <= email["end_ms"] <= own["end_ms"]
    assert bars(request, "task") == []
    assert request["reading"].endswith(": the email was sent inside the request")


def test_tasks_and_their_email_come_after_the_response(client: TestClient) -> None:
    """Step 1's picture: each task, by name and in order, after the response."""
    client.post("/after")
    (request,) = timeline(client)
    (own,) = bars(request, "request")
    welcome, audit = bars(request, "task")
    (email,) = bars(request, "email")
    assert [welcome["name"], audit["name"]] == ["send_email", "audit"]
    assert own["end_ms"] <= welcome["start_ms"] <= email["start_ms"]
    assert email["end_ms"] <= welcome["end_ms"] <= audit["start_ms"]
    assert request["reading"].startswith("client waited ")
    assert "2 tasks ran for " in request["reading"]


def test_a_failing_task_is_red_and_the_next_never_runs(client: TestClient) -> None:
    """The client got 201; the task's error is recorded; later tasks are skipped."""
    assert client.post("/broken").status_code == 201
    (request,) = timeline(client)
    (task,) = bars(request, "task")
    assert (task["status"], task["error"]) == (
        "failed",
        "RuntimeError: the mail server is down",
    )
    assert request["status"] == 201
    assert request["error"] == "RuntimeError: the mail server is down"
    assert "broken failed" in request["reading"]


def test_the_json_has_the_issue_fields(client: TestClient) -> None:
    """Each event: request id, kind, name, start and end in ms, status."""
    client.post("/after")
    (request,) = timeline(client)
    for event in request["events"]:
        assert {"request_id", "kind", "name", "start_ms", "end_ms", "status"} <= set(
            event
        )
        assert event["request_id"] == request["id"]
    assert request["events"][0] == {
        "request_id": request["id"],
        "kind": "request",
        "name": "POST /after",
        "start_ms": 0.0,
        "end_ms": request["response_sent_ms"],
        "status": "201",
        "error": None,
    }


def test_reset_forgets_and_tooling_requests_are_not_recorded(
    client: TestClient,
) -> None:
    client.post("/after")
    client.get("/docs")
    client.get("/openapi.json")
    client.get("/_workshop/timeline")
    assert [r["path"] for r in timeline(client)] == ["/after"]
    assert client.post("/_workshop/timeline/reset").json() == {"reset": True}
    assert timeline(client) == []


def test_the_page_loads_nothing_from_elsewhere(client: TestClient) -> None:
    """No external assets, and relative URLs (Codespaces forwards the port)."""
    page = client.get("/_workshop/timeline")
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    for url in re.findall(r"fetch\(\"([^\"]+)\"", page.text):
        assert not url.startswith(("/", "http")), url


def test_docs_and_redoc_point_at_local_files(client: TestClient) -> None:
    """/docs and /redoc load Swagger UI and ReDoc from /_workshop/static/."""
    for path in ("/docs", "/redoc"):
        html = client.get(path).text
        assert "://" not in html.replace("window.location.origin", ""), html
        for url in re.findall(r"(?:src|href)=\"([^\"]+)\"", html):
            assert url.startswith("/_workshop/static/"), url
            assert client.get(url).status_code == 200, url
    bundle = client.get("/_workshop/static/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    redoc = client.get("/_workshop/static/redoc.standalone.js")
    assert redoc.headers["content-type"].startswith("text/javascript")
    assert "Redoc" in redoc.text
    assert not re.search(r"https://[^\"]*logo", redoc.text)  # no request to its CDN


def test_docs_honour_the_root_path(tmp_path: Path) -> None:
    """Behind a proxy with a path prefix, the files are found under it."""
    app = instrument(FastAPI(), database=Database(tmp_path / "none.db"))
    with TestClient(app, root_path="/proxy") as client:
        html = client.get("/docs").text
    assert 'src="/proxy/_workshop/static/swagger-ui-bundle.js"' in html


def test_a_task_run_outside_a_recorded_request_just_runs() -> None:
    """The hook on BackgroundTask is transparent where nothing is recorded."""
    instrument(FastAPI())
    ran = []
    task = BackgroundTask(ran.append, "ran")
    with TestClient(FastAPI()) as client:
        client.portal.call(task)  # type: ignore[union-attr]
    assert ran == ["ran"]


def test_an_email_ends_when_it_was_sent_not_when_its_task_ends(
    client: TestClient,
) -> None:
    """Nobody watches the timeline, so nothing looks at the database between
    the task's start and end: the email's bar still starts and ends where the
    code wrote "sending" and "sent" (noted at the write), not across the task."""
    client.post("/then-more")
    (request,) = timeline(client)
    (task,) = bars(request, "task")
    (email,) = bars(request, "email")
    assert email["status"] == "sent"
    assert task["start_ms"] <= email["start_ms"] <= email["end_ms"]
    assert email["end_ms"] <= task["end_ms"] - MORE * 1000 / 2, (email, task)
