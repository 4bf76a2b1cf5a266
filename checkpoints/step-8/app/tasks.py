"""Work a request sets off besides its answer: emails, audit entries, jobs."""

import csv
import logging
import sqlite3
from contextlib import closing
from typing import BinaryIO

from pydantic import ValidationError

from app.config import settings
from app.db import connect
from app.mailer import MailError, send_email, send_email_async
from app.models import Subscriber, SubscriberIn

MAX_ATTEMPTS = 3
logger = logging.getLogger(__name__)


def send_welcome_email(subscriber_id: int) -> None:
    # a plain def runs in the threadpool: blocking calls are fine here
    with closing(connect()) as db:  # our own connection, not the request's
        row = db.execute(
            "SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)
        ).fetchone()
    if row is None:
        return  # gone by the time the task ran
    subscriber = Subscriber(**row)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            send_email(
                subscriber.email,
                "Welcome to the newsletter!",
                f"Hi {subscriber.name}, thanks for subscribing.",
            )
            return
        except MailError as error:  # caught here, so the next tasks still run
            logger.warning("welcome email, attempt %d: %s", attempt, error)
    logger.error("welcome email to %s: gave up", subscriber.email)


async def notify_admin(email: str, *, name: str) -> None:
    # async def runs on the event loop: await slow things, never block
    try:
        await send_email_async(
            settings.admin_email, "New subscriber", f"{name} <{email}> just subscribed."
        )
    except MailError as error:
        logger.error("admin notice: %s", error)


def write_audit_entry(event: str, detail: str) -> None:
    with closing(connect()) as db, db:
        db.execute("INSERT INTO audit (event, detail) VALUES (?, ?)", (event, detail))


def send_digest(job_id: str) -> None:
    """Email the digest to every subscriber; the job's status tells how it went."""
    _set_job(job_id, "running")
    try:
        with closing(connect()) as db:
            emails = [
                row["email"] for row in db.execute("SELECT email FROM subscribers")
            ]
        failed = []
        for email in emails:
            try:
                send_email(email, "Your newsletter digest", "Here is what is new.")
            except MailError as error:
                logger.warning("digest: %s", error)
                failed.append(email)
        summary = f"sent to {len(emails) - len(failed)} of {len(emails)} subscribers"
        _set_job(job_id, "failed" if failed else "done", summary)
    except Exception:  # a job must never stay "running" forever
        logger.exception("digest job %s", job_id)
        _set_job(job_id, "failed", "unexpected error, see the server log")


def _set_job(job_id: str, status: str, detail: str | None = None) -> None:
    with closing(connect()) as db, db:
        db.execute(
            "UPDATE jobs SET status = ?, detail = ? WHERE id = ?",
            (status, detail, job_id),
        )


def import_subscribers(job_id: str, upload: BinaryIO) -> None:
    """Add the subscribers of a CSV file (its first line: email,name) and welcome
    each one; the job's detail says how many were imported, which rows refused."""
    _set_job(job_id, "running")
    try:
        rows = csv.DictReader(upload.read().decode("utf-8-sig").splitlines())
        imported, refused = 0, []
        for row in rows:
            try:
                subscriber_id = _add_subscriber(SubscriberIn.model_validate(row))
            except ValidationError:
                refused.append(f"line {rows.line_num} (not an email and a name)")
            except sqlite3.IntegrityError:
                refused.append(f"line {rows.line_num} (already subscribed)")
            else:
                imported += 1
                send_welcome_email(subscriber_id)
        summary = f"imported {imported} of {imported + len(refused)} rows"
        if refused:
            summary += "; refused: " + ", ".join(refused)
        _set_job(job_id, "done", summary)
    except Exception:  # a job must never stay "running" forever
        logger.exception("import job %s", job_id)
        _set_job(job_id, "failed", "unexpected error, see the server log")


def _add_subscriber(new: SubscriberIn) -> int:
    with closing(connect()) as db, db:
        row = db.execute(
            "INSERT INTO subscribers (email, name) VALUES (?, ?) RETURNING id",
            (new.email, new.name),
        ).fetchone()
    return row["id"]
