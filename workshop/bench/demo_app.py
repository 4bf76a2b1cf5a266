"""The app `workshop bench` serves for the trap and the ceiling.

It is checkpoint step-2's own app (`app.main:app`, run with the checkpoint's
folder first on the import path) plus a few routes under /bench that queue one
of three background tasks, so each kind can be measured alone:

- `def`: step 2's `send_welcome_email`, a plain function; Starlette runs it in
  the threadpool, so the event loop stays free.
- `async`: step 2's `notify_admin`, an `async def` that awaits the mailer.
- `async-blocking`: the same work as `send_welcome_email` declared `async def`
  (the step 2 pitfall). It runs on the event loop, and the mailer's blocking
  `time.sleep` freezes it: no other request is served meanwhile. The
  checkpoints never contain it, so it lives here.

Every email goes through the checkpoint's mailer (MAIL_DELAY seconds) and lands
in its outbox (status "sending", then "sent"), which is how the bench counts
emails in flight and delivered.

Run: `uvicorn workshop.bench.demo_app:app --app-dir checkpoints/step-2`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import anyio.to_thread
from fastapi import APIRouter, BackgroundTasks

from app.db import connect
from app.main import app
from app.models import Subscriber
from app.tasks import notify_admin, send_welcome_email

router = APIRouter(prefix="/bench", tags=["bench"])

Kind = Literal["def", "async", "async-blocking"]


async def send_welcome_email_blocking(subscriber: Subscriber) -> None:
    """The pitfall: blocking work inside `async def` runs on the event loop."""
    send_welcome_email(subscriber)


@router.post("/send/{kind}", status_code=202)
def send(kind: Kind, background_tasks: BackgroundTasks) -> dict[str, str]:
    """Respond at once; send one email with a task of this kind afterwards.

    A `def` endpoint like the checkpoint's POST /subscribers: it needs a
    threadpool thread, so it queues behind `def` tasks when every thread is busy.
    """
    reader = Subscriber(
        id=1, email="reader@example.com", name="Reader", created_at=datetime.now(UTC)
    )
    if kind == "def":
        background_tasks.add_task(send_welcome_email, reader)
    elif kind == "async":
        background_tasks.add_task(notify_admin, reader.email, name=reader.name)
    else:
        background_tasks.add_task(send_welcome_email_blocking, reader)
    return {"queued": kind}


@router.get("/outbox")
async def outbox() -> dict[str, int]:
    """Emails sent and still being sent (in flight), and the threadpool's size."""
    db = connect()
    try:
        counts = dict(
            db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        )
    finally:
        db.close()
    limiter = anyio.to_thread.current_default_thread_limiter()
    return {
        "sent": counts.get("sent", 0),
        "sending": counts.get("sending", 0),
        "threads": int(limiter.total_tokens),
    }


app.include_router(router)
