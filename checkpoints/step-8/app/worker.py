"""The Celery app: jobs leave the web process and run in a worker process.

Start a worker beside the app (`make worker`, or `workshop worker`):

    celery -A app.worker worker --pool threads --loglevel INFO
"""

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


@celery.task
def send_digest(job_id: str) -> None:
    """Run in the worker: the step 7 task, unchanged."""
    tasks.send_digest(job_id)
