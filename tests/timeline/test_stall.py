"""A blocked event loop shows, with its cause: step 2's trap, in process.

An `async def` background task that calls `time.sleep` keeps the event loop:
the task hook times each step of its coroutine (tasks.Steps) and the task's
bar, and the request's reading, say it blocked the loop and for how long.
The same task awaiting `asyncio.sleep` blocks nothing. The sleeps here are
the subject (the blocking call of the lesson's trap), not a wait for timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.testclient import TestClient

from workshop.timeline import instrument
from workshop.timeline.database import Database
from workshop.timeline.tasks import BLOCKING


def trap() -> FastAPI:
    app = FastAPI()

    async def notify_admin() -> None:
        time.sleep(BLOCKING * 2)  # the trap: a blocking call in an async def

    async def notify_admin_async() -> str:
        await asyncio.sleep(BLOCKING * 2)
        return "sent"

    async def refused() -> None:
        await asyncio.sleep(0)
        raise RuntimeError("451 greylisted")

    @app.post("/refused", status_code=201)
    def fails(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(refused)
        return {"ok": True}

    @app.post("/blocking", status_code=201)
    def blocking(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(notify_admin)
        return {"ok": True}

    @app.post("/awaiting", status_code=201)
    def awaiting(tasks: BackgroundTasks) -> dict[str, bool]:
        tasks.add_task(notify_admin_async)
        return {"ok": True}

    return app


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    wrapped = instrument(trap(), database=Database(tmp_path / "none.db"))
    with TestClient(wrapped, raise_server_exceptions=False) as client:
        yield client


def test_a_blocking_async_task_says_it_blocked_the_loop(client: TestClient) -> None:
    client.post("/blocking")
    (request,) = client.get("/_workshop/timeline.json").json()["requests"]
    (task,) = [e for e in request["events"] if e["kind"] == "task"]
    ((start, end),) = task["blocked"]
    assert task["start_ms"] <= start < end <= task["end_ms"]
    assert end - start >= BLOCKING * 2 * 1000
    assert "notify_admin blocked the event loop for" in request["reading"]


def test_an_awaiting_async_task_blocks_nothing(client: TestClient) -> None:
    client.post("/awaiting")
    (request,) = client.get("/_workshop/timeline.json").json()["requests"]
    (task,) = [e for e in request["events"] if e["kind"] == "task"]
    assert "blocked" not in task
    assert task["status"] == "done"
    assert "blocked" not in request["reading"]


def test_an_async_task_s_error_passes_through_unchanged(client: TestClient) -> None:
    client.post("/refused")
    (request,) = client.get("/_workshop/timeline.json").json()["requests"]
    (task,) = [e for e in request["events"] if e["kind"] == "task"]
    assert (task["status"], task["error"]) == ("failed", "RuntimeError: 451 greylisted")
