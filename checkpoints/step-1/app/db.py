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
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    error TEXT,
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


DbDep = Annotated[sqlite3.Connection, Depends(get_db)]
