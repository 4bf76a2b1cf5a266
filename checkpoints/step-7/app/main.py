"""The newsletter signup API. Run it with `make run` (`workshop serve`); open /docs."""

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

from app.db import DbDep, init_db
from app.models import AuditEntry, Email, Job, Subscriber, SubscriberId, SubscriberIn
from app.tasks import (
    import_subscribers,
    notify_admin,
    send_digest,
    send_welcome_email,
    write_audit_entry,
)


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
def subscribe(
    new: SubscriberIn, db: DbDep, background_tasks: BackgroundTasks
) -> Subscriber:
    try:
        with db:
            row = db.execute(
                "INSERT INTO subscribers (email, name) VALUES (?, ?) RETURNING *",
                (new.email, new.name),
            ).fetchone()
    except sqlite3.IntegrityError:
        raise HTTPException(409, f"{new.email} is already subscribed") from None
    subscriber = Subscriber(**row)
    # the tasks run after the response, one after another, in this order;
    # they get ids and plain values, never the request's connection
    background_tasks.add_task(send_welcome_email, subscriber.id)
    background_tasks.add_task(notify_admin, subscriber.email, name=subscriber.name)
    background_tasks.add_task(write_audit_entry, "subscribed", subscriber.email)
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
def start_digest(
    db: DbDep, background_tasks: BackgroundTasks, response: Response
) -> Job:
    job_id = str(uuid4())
    with db:
        row = db.execute(
            "INSERT INTO jobs (id, status) VALUES (?, 'pending') RETURNING *",
            (job_id,),
        ).fetchone()
    background_tasks.add_task(send_digest, job_id)
    response.headers["Location"] = f"/jobs/{job_id}"  # where to follow it
    return Job(**row)


@app.post(
    "/subscribers/import",
    status_code=202,
    summary="Import subscribers from a CSV file: email,name (a job)",
    dependencies=[Depends(audit_request)],
)
def start_import(
    file: UploadFile, db: DbDep, background_tasks: BackgroundTasks, response: Response
) -> Job:
    job_id = str(uuid4())
    with db:
        row = db.execute(
            "INSERT INTO jobs (id, status) VALUES (?, 'pending') RETURNING *",
            (job_id,),
        ).fetchone()
    # the task reads the upload after the response: FastAPI 0.163 closes it
    # only once the background tasks are done
    background_tasks.add_task(import_subscribers, job_id, file.file)
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
