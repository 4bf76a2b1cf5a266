"""The newsletter signup API. Run it with `make run` (`workshop serve`); open /docs."""

import sqlite3
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from fastapi.responses import RedirectResponse

from app.db import DbDep, init_db
from app.models import Email, Subscriber, SubscriberId, SubscriberIn
from app.tasks import send_welcome_email


@asynccontextmanager
async def lifespan(app: FastAPI):
    init_db()
    yield


app = FastAPI(title="Newsletter", lifespan=lifespan)


@app.get("/", include_in_schema=False)
def home() -> RedirectResponse:
    """Opening the app in a browser lands on the interactive docs."""
    return RedirectResponse("/docs")


@app.post(
    "/subscribers",
    status_code=201,
    summary="Subscribe to the newsletter",
    responses={409: {"description": "This email is already subscribed"}},
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
    send_welcome_email(subscriber)  # the client waits until the mail server is done
    return subscriber


@app.get("/subscribers", summary="List the subscribers")
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
