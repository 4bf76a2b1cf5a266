"""A pretend mail server: slow on purpose, and every email lands in the outbox.

Talking to a real mail server takes time. Here `deliver` waits MAIL_DELAY
seconds instead. Every email is written to the `outbox` table with its
delivery status, so GET /outbox shows what was sent and when.

Like a real one, the server refuses some emails (it raises MailError):
- anything to @bounce.example.com: always refused (no such mailbox);
- anything to @greylist.example.com: refused until the address has had one
  refused attempt; the next attempt gets through.
"""

import asyncio
import time
from contextlib import closing

from app.config import settings
from app.db import connect


class MailError(Exception):
    """The mail server refused the email."""


def deliver(recipient: str) -> None:
    """Hand one email to the mail server: the slow part."""
    time.sleep(settings.mail_delay)
    _check_accepted(recipient)


async def deliver_async(recipient: str) -> None:
    """Like `deliver`, for async code: waits without blocking the event loop."""
    await asyncio.sleep(settings.mail_delay)
    _check_accepted(recipient)


def send_email(to: str, subject: str, body: str) -> None:
    """Send one email; raises MailError (and marks it failed) if it is refused."""
    email_id = _store(to, subject, body)
    try:
        deliver(to)
    except MailError as error:
        _set_status(email_id, "failed", str(error))
        raise
    _set_status(email_id, "sent")


async def send_email_async(to: str, subject: str, body: str) -> None:
    """Send one email from async code; the event loop stays free meanwhile."""
    email_id = _store(to, subject, body)
    try:
        await deliver_async(to)
    except MailError as error:
        _set_status(email_id, "failed", str(error))
        raise
    _set_status(email_id, "sent")


def _check_accepted(recipient: str) -> None:
    domain = recipient.rpartition("@")[2].lower()
    if domain == "bounce.example.com":
        raise MailError(f"550 no such mailbox: {recipient}")
    if domain == "greylist.example.com" and not _refused_before(recipient):
        raise MailError(f"451 greylisted, try again later: {recipient}")


def _refused_before(recipient: str) -> bool:
    with closing(connect()) as db:
        query = "SELECT 1 FROM outbox WHERE recipient = ? AND status = 'failed'"
        return db.execute(query, (recipient,)).fetchone() is not None


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
