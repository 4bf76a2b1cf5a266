"""Work a request sets off besides its answer: here, the welcome email."""

from app.mailer import send_email
from app.models import Subscriber


def send_welcome_email(subscriber: Subscriber) -> None:
    send_email(
        subscriber.email,
        "Welcome to the newsletter!",
        f"Hi {subscriber.name}, thanks for subscribing.",
    )
