"""Hardening no step teaches: odd input gets a clear 4xx, never a 500.

Nothing here is about background tasks, and you can skip this file. Every
checkpoint carries it unchanged (tests/project/test_lesson_shared.py checks
that), so each step's main.py shows only what the step teaches.

- `harden(app)`: a 422 answer that any input can be sent in.
- `SubscriberId`: an id SQLite can look up.
"""

import json
from typing import Annotated

from fastapi import FastAPI, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

# SQLite integers have 64 bits: sqlite3 raises OverflowError (a 500) for more
SubscriberId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def harden(app: FastAPI) -> None:
    """Install the hardening on `app`; main.py calls it once."""
    app.add_exception_handler(RequestValidationError, validation_error)


async def validation_error(request: Request, exc: RequestValidationError) -> Response:
    """FastAPI's own 422 body, but ASCII-escaped.

    It echoes the input, and some input (a lone "\\ud800" in the JSON) cannot
    be encoded as UTF-8: FastAPI's usual answer would be a 500.
    """
    content = json.dumps({"detail": jsonable_encoder(exc.errors())})
    return Response(content, status_code=422, media_type="application/json")
