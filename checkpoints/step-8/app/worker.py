"""The Celery app: jobs leave the web process and run in a worker process.

Start a worker beside the app (`make worker`, or `workshop worker`):

    celery -A app.worker worker --pool threads --loglevel INFO
"""

import asyncio
from pathlib import Path

from celery import Celery

from app import tasks
from app.config import settings

# no server needed by default: the broker is a table in an SQLite file
settings.newsletter_db.parent.mkdir(parents=True, exist_ok=True)
broker = settings.celery_broker_url or (
    f"sqla+sqlite:///{settings.newsletter_db.parent / 'broker.db'}"
)

celery = Celery("newsletter", broker=broker)
celery.conf.task_ignore_result = True  # a job's status lives in our jobs table
if broker.startswith("redis"):
    # a Redis that takes the connection and never answers would hold .delay(),
    # and the request, for ever: give up on a read after 2 s (.delay() then
    # raises kombu's OperationalError, in about 4 s with its retries)
    celery.conf.broker_transport_options = {"socket_timeout": 2}


@celery.task
def welcome(subscriber_id: int, email: str, name: str) -> None:
    """After a signup: the three tasks of step 3, in order, in the worker."""
    tasks.send_welcome_email(subscriber_id)
    asyncio.run(tasks.notify_admin(email, name=name))  # an async def task
    tasks.write_audit_entry("subscribed", email)


@celery.task
def send_digest(job_id: str) -> None:
    """The step 7 task, unchanged."""
    tasks.send_digest(job_id)


@celery.task
def import_subscribers(job_id: str, path: str) -> None:
    """The step 7 task, on the upload the web server stored; deleted after."""
    try:
        with open(path, "rb") as upload:
            tasks.import_subscribers(job_id, upload)
    finally:
        Path(path).unlink(missing_ok=True)
