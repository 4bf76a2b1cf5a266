"""Hardening no step teaches, put around the lesson's app by the tooling.

`workshop serve` (`make run`), `workshop.timeline.served` and the step
suites' fixtures serve `harden(app)`, never the bare app, so odd input or old
data never give a 500, and the lesson's own code holds only the lesson:

- a request body over 64 KiB gets 413 (`BodyLimit`);
- a 422 answer stays short and can be sent whatever the input: a lone
  "\\ud800" in the JSON, a body that is not UTF-8 (`validation_error`);
- a database file another step wrote is moved aside at startup, before the
  app's own lifespan runs `init_db` (`set_aside_other_schema`).

The lesson keeps one line of it: `SubscriberId`, an id SQLite can look up, in
its models.py. Imported lazily (FastAPI): only the app process and the
suites load this module.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import zlib
from contextlib import closing
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY = 64 * 1024  # bytes in a request body; a signup needs less than 1 KiB
TOO_LARGE = f"Request body too large: at most {MAX_BODY} bytes"
MAX_ECHO = 200  # characters of each value that a 422 answer repeats
logger = logging.getLogger(__name__)


def harden(app: ASGIApp) -> ASGIApp:
    """`app` with the hardening around it (and its 422 handler installed)."""
    handlers = getattr(app, "exception_handlers", None)
    if isinstance(handlers, dict):  # a FastAPI app: the 422 lives inside it
        handlers[RequestValidationError] = validation_error
        app.middleware_stack = None  # built again, with the handler, on next use
    return Hardened(app)


class Hardened:
    """The lesson's app behind BodyLimit and OldData. Its attributes stay in
    view (`docs_url`, `state`, ...): the timeline's wrapper reads them."""

    def __init__(self, app: ASGIApp) -> None:
        self.lesson = app
        self.asgi = BodyLimit(OldData(app))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lesson, name)


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

    FastAPI repeats the whole input in it (a 1 MB name, a 1 MB answer); some
    input cannot be encoded as UTF-8 (a lone "\\ud800" in the JSON), and a
    body that is not JSON arrives as bytes, which FastAPI's encoder decodes
    as UTF-8 (b"\\xff": a 500). Bytes are shown as Python writes them.
    """
    errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: _show_bytes})
    cut = [{key: _cut(value) for key, value in error.items()} for error in errors]
    content = json.dumps({"detail": cut})  # ASCII: any str can be sent
    return Response(content, status_code=422, media_type="application/json")


def _show_bytes(value: bytes) -> str:
    return value.decode("utf-8", "backslashreplace")


def _cut(value: Any) -> Any:
    """`value` itself if short, else the first MAX_ECHO characters of its JSON."""
    text = value if isinstance(value, str) else json.dumps(value)
    return value if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "..."


class OldData:
    """Pure ASGI middleware: at startup, before the app's own lifespan, a
    database file another step wrote is moved aside (`set_aside_other_schema`).

    The lesson's app/db.py names the file (`settings.newsletter_db`) and the
    tables (`SCHEMA`); an app without them is left alone.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        started = False

        async def receive_after_set_aside() -> Message:
            nonlocal started
            message = await receive()
            if message["type"] == "lifespan.startup" and not started:
                started = True
                set_aside_lesson_database()
            return message

        await self.app(scope, receive_after_set_aside, send)


def set_aside_lesson_database() -> None:
    """`set_aside_other_schema` on the database of the `app` package imported."""
    db, config = sys.modules.get("app.db"), sys.modules.get("app.config")
    schema = getattr(db, "SCHEMA", None)
    path = getattr(getattr(config, "settings", None), "newsletter_db", None)
    if isinstance(schema, str) and isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        set_aside_other_schema(path, schema)


def set_aside_other_schema(path: Path, schema: str) -> None:
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


def _unused_name(path: Path) -> Path:
    """data/newsletter.db -> data/newsletter-old1.db (or -old2, ... if taken)."""
    number = 1
    while (aside := path.with_stem(f"{path.stem}-old{number}")).exists():
        number += 1
    return aside


def served_app() -> ASGIApp:
    """`app.main:app` hardened, for uvicorn's `--factory` (the step suites'
    real servers: `uvicorn --factory workshop.hardening:served_app`)."""
    from app.main import app

    return harden(app)
