"""The SQLite database: one connection per request, tables created at startup."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from typing import Annotated

from fastapi import Depends

from app.config import settings

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY,
    job_id TEXT,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error TEXT,
    claimed_at REAL,  -- when a job's run claimed it for sending (time.time())
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (job_id, recipient)  -- one email per job and subscriber, however often
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    detail TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    detail TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
"""


def connect() -> sqlite3.Connection:
    """Open a new connection to the database file."""
    db = sqlite3.connect(settings.newsletter_db, check_same_thread=False)
    db.row_factory = sqlite3.Row
    return db


def init_db() -> None:
    """Create the database folder and tables if they are missing."""
    settings.newsletter_db.parent.mkdir(parents=True, exist_ok=True)
    with closing(connect()) as db:
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
        db.executescript(SCHEMA)


def get_db() -> Iterator[sqlite3.Connection]:
    """A dependency: a connection for one request, closed when it is done."""
    db = connect()
    try:
        yield db
    finally:
        db.close()


# scope="function": closed as soon as the path operation returns, before the
# response is sent; background tasks must open a connection of their own.
DbDep = Annotated[sqlite3.Connection, Depends(get_db, scope="function")]
