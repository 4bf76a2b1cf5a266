"""The small app `workshop bench` serves for the trap and the ceiling.

The checkpoints never contain a task that blocks inside `async def` (it is the
step 2 pitfall), so the bench measures it here. Each "email" takes
MAIL_DELAY seconds, exactly as the workshop's mailer does; the three kinds of
task differ only in how they wait:

- `def`: `time.sleep` in a plain function; Starlette runs it in the
  threadpool, so the event loop stays free.
- `async-blocking`: `time.sleep` inside `async def` (the trap): it runs on the
  event loop and freezes it; no other request is served meanwhile.
- `async`: `await asyncio.sleep` inside `async def`: waits without a thread.

POST /send/{kind} is a `def` endpoint (it shares the threadpool with `def`
tasks); GET /ping is an `async def` endpoint (it needs only the event loop).

Run with `uvicorn workshop.bench.demo_app:app`.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Literal

from fastapi import BackgroundTasks, FastAPI

app = FastAPI(title="workshop bench demo")

DELAY = float(os.environ.get("MAIL_DELAY", "1"))

_lock = threading.Lock()
_delivered = 0


def _record_delivery() -> None:
    global _delivered
    with _lock:
        _delivered += 1


def send_email(address: str) -> None:
    time.sleep(DELAY)
    _record_delivery()


async def send_email_blocking(address: str) -> None:
    time.sleep(DELAY)  # the trap: a blocking call inside async def
    _record_delivery()


async def send_email_async(address: str) -> None:
    await asyncio.sleep(DELAY)
    _record_delivery()


TASKS = {
    "def": send_email,
    "async-blocking": send_email_blocking,
    "async": send_email_async,
}


@app.post("/send/{kind}", status_code=202)
def send(
    kind: Literal["def", "async-blocking", "async"],
    background_tasks: BackgroundTasks,
) -> dict[str, str]:
    """Respond at once; send one email of this kind afterwards.

    A `def` endpoint, like one that writes to SQLite: it needs a threadpool
    thread too, so it queues behind `def` tasks when all threads are busy.
    """
    background_tasks.add_task(TASKS[kind], "reader@example.com")
    return {"queued": kind}


@app.get("/ping")
async def ping() -> dict[str, bool]:
    """Another request: needs only the event loop."""
    return {"ok": True}


@app.get("/delivered")
async def delivered() -> dict[str, int]:
    """How many emails have been sent, and the threadpool's size."""
    import anyio.to_thread

    limiter = anyio.to_thread.current_default_thread_limiter()
    return {"delivered": _delivered, "threads": int(limiter.total_tokens)}
