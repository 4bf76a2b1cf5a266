"""The newsletter signup API. Run it with `make run` (`workshop serve`); open /docs."""

import shutil
import sqlite3
from contextlib import asynccontextmanager
from uuid import UUID, uuid4

from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import RedirectResponse

from app.config import settings
from app.db import DbDep, init_db
from app.models import AuditEntry, Email, Job, Subscriber, SubscriberId, SubscriberIn
from app.tasks import write_audit_entry
from app.worker import import_subscribers, send_digest, welcome


@asynccontextmanager
async def lifespan(app: FastAPI):
    init_db()
    yield


app = FastAPI(title="Newsletter", lifespan=lifespan)


@app.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """Opening the app in a browser lands on the interactive docs."""
    return RedirectResponse("/docs")


def audit_request(request: Request, background_tasks: BackgroundTasks) -> None:
    """A dependency that logs the request; FastAPI gives it the same BackgroundTasks."""
    detail = f"{request.method} {request.url.path}"
    background_tasks.add_task(write_audit_entry, "request", detail)


@app.post(
    "/subscribers",
    status_code=201,
    summary="Subscribe to the newsletter",
    responses={409: {"description": "This email is already subscribed"}},
    dependencies=[Depends(audit_request)],
)
def subscribe(new: SubscriberIn, db: DbDep) -> Subscriber:
    try:
        with db:
            row = db.execute(
                "INSERT INTO subscribers (email, name) VALUES (?, ?) RETURNING *",
                (new.email, new.name),
            ).fetchone()
    except sqlite3.IntegrityError:
        raise HTTPException(409, f"{new.email} is already subscribed") from None
    subscriber = Subscriber(**row)
    # a message to the broker: a worker sends the emails, in the same order
    welcome.delay(subscriber.id, subscriber.email, subscriber.name)
    return subscriber


@app.get(
    "/subscribers",
    summary="List the subscribers",
    dependencies=[Depends(audit_request)],
)
def list_subscribers(db: DbDep) -> list[Subscriber]:
    rows = db.execute("SELECT * FROM subscribers ORDER BY id").fetchall()
    return [Subscriber(**row) for row in rows]


@app.get(
    "/subscribers/{subscriber_id}",
    summary="Get one subscriber",
    responses={404: {"description": "No subscriber with this id"}},
)
def get_subscriber(subscriber_id: SubscriberId, db: DbDep) -> Subscriber:
    row = db.execute(
        "SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)
    ).fetchone()
    if row is None:
        raise HTTPException(404, f"No subscriber with id {subscriber_id}")
    return Subscriber(**row)


@app.get("/outbox", summary="See the emails the app sent, with their status")
def list_outbox(db: DbDep) -> list[Email]:
    rows = db.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    return [Email(**row) for row in rows]


@app.get("/audit", summary="Read the audit log")
def list_audit(db: DbDep) -> list[AuditEntry]:
    rows = db.execute("SELECT * FROM audit ORDER BY id").fetchall()
    return [AuditEntry(**row) for row in rows]


@app.post(
    "/digests",
    status_code=202,
    summary="Start emailing the digest to everyone (a job)",
    dependencies=[Depends(audit_request)],
)
def start_digest(db: DbDep, response: Response) -> Job:
    job_id = str(uuid4())
    with db:
        row = db.execute(
            "INSERT INTO jobs (id, status) VALUES (?, 'pending') RETURNING *",
            (job_id,),
        ).fetchone()
    # the row is committed first: the worker may pick the job up at once
    send_digest.delay(job_id)  # a message to the broker; a worker runs it
    response.headers["Location"] = f"/jobs/{job_id}"  # where to follow it
    return Job(**row)


@app.post(
    "/subscribers/import",
    status_code=202,
    summary="Import subscribers from a CSV file: email,name (a job)",
    dependencies=[Depends(audit_request)],
)
def start_import(file: UploadFile, db: DbDep, response: Response) -> Job:
    job_id = str(uuid4())
    # no message can carry the UploadFile, and it is closed after the request:
    # store the upload where the worker can read it, named by the job
    path = settings.newsletter_db.parent / f"import-{job_id}.csv"
    with path.open("wb") as stored:
        shutil.copyfileobj(file.file, stored)
    with db:
        row = db.execute(
            "INSERT INTO jobs (id, status) VALUES (?, 'pending') RETURNING *",
            (job_id,),
        ).fetchone()
    import_subscribers.delay(job_id, str(path))  # the worker deletes the file
    response.headers["Location"] = f"/jobs/{job_id}"
    return Job(**row)


@app.get(
    "/jobs/{job_id}",
    summary="Follow a job: pending, running, done or failed",
    responses={404: {"description": "No job with this id"}},
)
def get_job(job_id: UUID, db: DbDep) -> Job:
    row = db.execute("SELECT * FROM jobs WHERE id = ?", (str(job_id),)).fetchone()
    if row is None:
        raise HTTPException(404, f"No job with id {job_id}")
    return Job(**row)
