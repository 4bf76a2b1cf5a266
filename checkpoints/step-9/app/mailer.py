"""A pretend mail server: slow on purpose, and every email lands in the outbox.

Talking to a real mail server takes time. Here `deliver` waits MAIL_DELAY
seconds instead. Every email is written to the `outbox` table with its
delivery status, so GET /outbox shows what was sent and when.

Like a real one, the server refuses some emails (it raises MailError):
- anything to @bounce.example.com: always refused (no such mailbox);
- anything to @greylist.example.com: refused until the address has had one
  refused attempt; the next attempt gets through (TryLater: a 4xx answer).
"""

import asyncio
import time
from contextlib import closing

from app.config import settings
from app.db import connect


class MailError(Exception):
    """The mail server refused the email."""


class TryLater(MailError):
    """A 4xx answer: refused for now; the same email may get through later."""


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


def send_email_once(job_id: str, to: str, subject: str, body: str) -> None:
    """Like send_email, but one email per (job, recipient), even when two runs
    of one job overlap: a run sends only an email it has claimed, and a claim
    is one atomic statement. A claim older than MAIL_TIMEOUT is a dead run's
    and is taken over (so after a crash, that one email can go twice)."""
    while (email_id := _claim(job_id, to, subject, body)) is None:
        if _sent(job_id, to):
            return  # an earlier run of this job, or one beside it, sent it
        time.sleep(0.1)  # another run is sending it right now: wait for it
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


def _claim(job_id: str, to: str, subject: str, body: str) -> int | None:
    """The email's id if this run may send it: new, failed before, or claimed
    by a run that has not answered for MAIL_TIMEOUT seconds; else None."""
    now = time.time()
    with closing(connect()) as db, db:
        row = db.execute(
            "INSERT INTO outbox (job_id, recipient, subject, body, status, claimed_at)"
            " VALUES (?, ?, ?, ?, 'sending', ?)"
            " ON CONFLICT (job_id, recipient) DO UPDATE"
            " SET status = 'sending', claimed_at = excluded.claimed_at"
            " WHERE status = 'failed' OR (status = 'sending' AND claimed_at < ?)"
            " RETURNING id",
            (job_id, to, subject, body, now, now - settings.mail_timeout),
        ).fetchone()
    return None if row is None else row["id"]


def _sent(job_id: str, to: str) -> bool:
    with closing(connect()) as db:
        query = "SELECT status FROM outbox WHERE job_id = ? AND recipient = ?"
        return db.execute(query, (job_id, to)).fetchone()["status"] == "sent"


def _check_accepted(recipient: str) -> None:
    domain = recipient.rpartition("@")[2].lower()
    if domain == "bounce.example.com":
        raise MailError(f"550 no such mailbox: {recipient}")
    if domain == "greylist.example.com" and not _refused_before(recipient):
        raise TryLater(f"451 greylisted, try again later: {recipient}")


def _refused_before(recipient: str) -> bool:
    with closing(connect()) as db:
        # refused once: the error stays while a retry claims the email again
        query = "SELECT 1 FROM outbox WHERE recipient = ? AND error IS NOT NULL"
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
