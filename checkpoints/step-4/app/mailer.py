"""A pretend mail server: slow on purpose, and every email lands in the outbox.

Talking to a real mail server takes time. Here `deliver` waits MAIL_DELAY
seconds instead. Every email is written to the `outbox` table with its
delivery status, so GET /outbox shows what was sent and when.
"""

import asyncio
import time
from contextlib import closing

from app.config import settings
from app.db import connect


def deliver(recipient: str) -> None:
    """Hand one email to the mail server: the slow part."""
    time.sleep(settings.mail_delay)


async def deliver_async(recipient: str) -> None:
    """Like `deliver`, for async code: waits without blocking the event loop."""
    await asyncio.sleep(settings.mail_delay)


def send_email(to: str, subject: str, body: str) -> None:
    """Send one email; returns once the mail server has accepted it."""
    email_id = _store(to, subject, body)
    deliver(to)
    _set_status(email_id, "sent")


async def send_email_async(to: str, subject: str, body: str) -> None:
    """Send one email from async code; the event loop stays free meanwhile."""
    email_id = _store(to, subject, body)
    await deliver_async(to)
    _set_status(email_id, "sent")


def _store(to: str, subject: str, body: str) -> int:
    with closing(connect()) as db, db:
        cursor = db.execute(
            "INSERT INTO outbox (recipient, subject, body, status)"
            " VALUES (?, ?, ?, 'sending')",
            (to, subject, body),
        )
    return cursor.lastrowid


def _set_status(email_id: int, status: str, error: str | None = None) -> None:
    with closing(connect()) as db, db:
        db.execute(
            "UPDATE outbox SET status = ?, error = ? WHERE id = ?",
            (status, error, email_id),
        )
