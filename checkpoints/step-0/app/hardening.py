"""Hardening no step teaches: odd input gets a clear 4xx, never a 500.

Nothing here is about background tasks, and you can skip this file. Every
checkpoint carries it unchanged (tests/project/test_lesson_shared.py checks
that), so each step's main.py shows only what the step teaches.

- `harden(app)`: a request body over 64 KiB gets 413, and a 422 answer stays
  short and can be sent whatever the input.
- `SubscriberId`: an id SQLite can look up.
"""

import json
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
