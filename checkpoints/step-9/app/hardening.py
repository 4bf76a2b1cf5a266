"""Hardening no step teaches: odd input or old data never give a 500.

Nothing here is about background tasks, and you can skip this file. Every
checkpoint carries it unchanged (tests/project/test_lesson_shared.py checks
that), so each step's main.py shows only what the step teaches.

- `harden(app)`: a request body over 64 KiB gets 413, and a 422 answer stays
  short and can be sent whatever the input.
- `SubscriberId`: an id SQLite can look up.
- `set_aside_other_schema(path, SCHEMA)`: db.py's `init_db` calls it, so a
  database file another step wrote is moved aside instead of breaking this one.
"""

import json
import logging
import pathlib
import sqlite3
import zlib
from contextlib import closing
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024  # bytes in a request body; a signup needs less than 1 KiB
TOO_LARGE = f"Request body too large: at most {MAX_BODY} bytes"
MAX_ECHO = 200  # characters of each value that a 422 answer repeats
logger = logging.getLogger(__name__)

# SQLite integers have 64 bits: sqlite3 raises OverflowError (a 500) for more
SubscriberId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def harden(app: FastAPI) -> None:
    """Install the hardening on `app`; main.py calls it once."""
    app.add_middleware(BodyLimit)
    app.add_exception_handler(RequestValidationError, validation_error)


class BodyLimit:
    """Pure ASGI middleware: a request body over MAX_BODY bytes gets 413.

    FastAPI reads a body whole, however long: this checks the Content-Length
    a client announces, and counts a body streamed without one (chunked).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        announced = Headers(scope=scope).get("content-length", "")
        if announced.isdecimal() and int(announced) > MAX_BODY:
            response = JSONResponse({"detail": TOO_LARGE}, status_code=413)
            return await response(scope, receive, send)  # the app never runs
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY:
                # FastAPI lets an HTTPException raised while it reads the body
                # through to its handler: the client gets this 413
                raise HTTPException(413, TOO_LARGE)
            return message

        await self.app(scope, counting_receive, send)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own 422 body, with long values cut short and ASCII-escaped.

    FastAPI repeats the whole input in it (a 1 MB name, a 1 MB answer), and
    some input (a lone "\\ud800" in the JSON) cannot be encoded as UTF-8:
    FastAPI's usual answer would be a 500.
    """
    errors = [
        {key: _cut(value) for key, value in error.items()}
        for error in jsonable_encoder(exc.errors())
    ]
    content = json.dumps({"detail": errors})  # ASCII: any str can be sent
    return Response(content, status_code=422, media_type="application/json")


def _cut(value: Any) -> Any:
    """`value` itself if short, else the first MAX_ECHO characters of its JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    return value if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "..."


def set_aside_other_schema(path: pathlib.Path, schema: str) -> None:
    """Move the database file aside if it was made with another SCHEMA.

    `workshop goto N` and `git checkout step-N` keep data/newsletter.db. But
    what one step stores can break another: step 3 answers 500 on an email
    step 5 marked "failed", and `CREATE TABLE IF NOT EXISTS` never adds a
    column to a table another step made. So the file keeps a fingerprint of
    the SCHEMA that made it (SQLite's PRAGMA user_version), and a file with
    another one is moved aside: nothing is lost, and the app starts fresh.
    """
    version = zlib.crc32(schema.encode()) >> 1  # user_version: a signed 32-bit int
    with closing(sqlite3.connect(path)) as db:
        made_with = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if tables and made_with != version:
        aside = _unused_name(path)
        for suffix in ("", "-wal", "-shm"):  # the file and SQLite's companions
            part = path.with_name(path.name + suffix)
            if part.exists():
                part.rename(aside.with_name(aside.name + suffix))
        logger.warning(
            "%s was written by another step; moved to %s; starting fresh", path, aside
        )
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {version}")


def _unused_name(path: pathlib.Path) -> pathlib.Path:
    """data/newsletter.db -> data/newsletter-old1.db (or -old2, ... if taken)."""
    number = 1
    while (aside := path.with_stem(f"{path.stem}-old{number}")).exists():
        number += 1
    return aside
