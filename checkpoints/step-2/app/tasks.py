"""Work a request sets off besides its answer: emails, for now."""

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
