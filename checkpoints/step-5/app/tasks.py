"""Work a request sets off besides its answer: emails and audit entries."""

import logging
import sqlite3

from app.config import settings
from app.mailer import MailError, send_email, send_email_async
from app.models import Subscriber

MAX_ATTEMPTS = 3
logger = logging.getLogger(__name__)


def send_welcome_email(subscriber: Subscriber) -> None:
    # a plain def runs in the threadpool: blocking calls are fine here
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


def write_audit_entry(db: sqlite3.Connection, event: str, detail: str) -> None:
    with db:
        db.execute("INSERT INTO audit (event, detail) VALUES (?, ?)", (event, detail))
