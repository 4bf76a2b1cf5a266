"""Work a request sets off besides its answer: emails and audit entries."""

import logging
from contextlib import closing

from app.config import settings
from app.db import connect
from app.mailer import MailError, send_email, send_email_async
from app.models import Subscriber

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
