"""A quiet terminal, Swagger UI's durations, the debugger's offline /docs."""

from __future__ import annotations

import logging
import re

from fastapi.openapi.docs import get_swagger_ui_html
from timeline_support import ROOT

from workshop.timeline.asgi import QuietTooling
from workshop.timeline.docs import offline


def access(path: str) -> logging.LogRecord:
    """A record as uvicorn's access logger makes it."""
    args = ("127.0.0.1:5000", "GET", path, "1.1", 200)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d', args, None
    )


def test_the_timeline_s_polling_is_not_in_the_access_log() -> None:
    quiet = QuietTooling()
    assert not quiet.filter(access("/_workshop/timeline.json"))
    assert quiet.filter(access("/subscribers"))
    assert quiet.filter(access("/_workshopper"))  # only the tooling's own folder


def test_swagger_ui_shows_each_request_s_duration() -> None:
    page = offline(get_swagger_ui_html(openapi_url="/o.json", title="x").body.decode())
    assert re.search(r'SwaggerUIBundle\(\{\s*"displayRequestDuration": true,', page)
    own = get_swagger_ui_html(
        openapi_url="/o.json",
        title="x",
        swagger_ui_parameters={"displayRequestDuration": False},
    ).body.decode()
    # the app's own setting comes later in the object: it wins
    assert offline(own).rindex('"displayRequestDuration": false') > offline(own).index(
        '"displayRequestDuration": true'
    )


def test_the_debugger_serves_the_app_with_offline_docs() -> None:
    launch = (ROOT / ".vscode" / "launch.json").read_text()
    assert '"workshop.timeline.served:app"' in launch
