"""The Celery app: jobs leave the web process and run in a worker process.

Start a worker beside the app (`make worker`, or `workshop worker`):

    celery -A app.worker worker --pool threads --loglevel INFO
"""

import asyncio
from pathlib import Path

from celery import Celery

from app import tasks
from app.config import settings
from app.mailer import TryLater

# no server needed by default: the broker is a table in an SQLite file
settings.newsletter_db.parent.mkdir(parents=True, exist_ok=True)
broker = settings.celery_broker_url or (
    f"sqla+sqlite:///{settings.newsletter_db.parent / 'broker.db'}"
)

celery = Celery("newsletter", broker=broker)
celery.conf.task_ignore_result = True  # a job's status lives in our jobs table
# acknowledge a job when it is done, not when it starts: if its process dies
# mid-job, the broker still has the message and a worker runs the job again
celery.conf.task_acks_late = True
celery.conf.task_reject_on_worker_lost = True  # also when a pool process dies
# one job per free thread, none waiting in the worker's buffer: a job in that
# buffer is already taken from the broker, and its visibility clock runs
celery.conf.worker_prefetch_multiplier = 1
if broker.startswith("redis"):
    # a Redis that takes the connection and never answers would hold .delay(),
    # and the request, for ever: give up on a read after 2 s (.delay() then
    # raises kombu's OperationalError, in about 4 s with its retries).
    # A job taken and not acknowledged for 10 s goes back to the queue (the
    # default is an hour). Short for the workshop; keep it above your longest
    # job plus any retry countdown. A job that runs longer runs a second time
    # beside the first: send_email_once's claim keeps each email to one.
    celery.conf.broker_transport_options = {
        "socket_timeout": 2,
        "visibility_timeout": 10,
        "unacked_restore_interval": 1,  # look for such jobs every second
        "unacked_restore_throttle": 1,  # (by default, every 100 s)
    }


@celery.task
def welcome(subscriber_id: int, email: str, name: str) -> None:
    """After a signup: the three tasks of step 3, in order, in the worker."""
    tasks.send_welcome_email(subscriber_id)
    asyncio.run(tasks.notify_admin(email, name=name))  # an async def task
    tasks.write_audit_entry("subscribed", email)


@celery.task(
    bind=True, autoretry_for=(TryLater,), retry_backoff=1, retry_jitter=False,
    max_retries=3,
)  # fmt: skip
def send_digest(self, job_id: str) -> None:
    """The step 7 task; a greylisted address: again after 1, 2, 4 s."""
    tasks.send_digest(job_id, last_try=self.request.retries >= self.max_retries)


@celery.task
def import_subscribers(job_id: str, path: str) -> None:
    """The step 7 task, on the upload the web server stored; deleted after."""
    try:
        with open(path, "rb") as upload:
            tasks.import_subscribers(job_id, upload)
    finally:
        Path(path).unlink(missing_ok=True)
