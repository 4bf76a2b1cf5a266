"""Work a request sets off besides its answer: emails and audit entries."""

import sqlite3

from app.config import settings
from app.mailer import send_email, send_email_async
from app.models import Subscriber


def send_welcome_email(subscriber: Subscriber) -> None:
    # a plain def runs in the threadpool: blocking calls are fine here
    send_email(
        subscriber.email,
        "Welcome to the newsletter!",
        f"Hi {subscriber.name}, thanks for subscribing.",
    )


async def notify_admin(email: str, *, name: str) -> None:
    # async def runs on the event loop: await slow things, never block
    await send_email_async(
        settings.admin_email, "New subscriber", f"{name} <{email}> just subscribed."
    )


def write_audit_entry(db: sqlite3.Connection, event: str, detail: str) -> None:
    with db:
        db.execute("INSERT INTO audit (event, detail) VALUES (?, ?)", (event, detail))
