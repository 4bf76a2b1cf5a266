"""Who may use /_workshop/*: pages of this server, at a name of this machine.

The timeline runs on the learner's machine, and any web page they open can
send requests to it. So a request whose Host is not the server's own (a
DNS-rebinding page: a name of the attacker's that resolves to 127.0.0.1)
gets 403, and so does a write (`POST .../reset`) whose Origin is another
site. curl and the learner's own page send no foreign Origin and pass.

The server's own names: an IP address (a rebinding needs a name), localhost,
the address the connection came in at, and the names Codespaces forwards
from (`*.app.github.dev`).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE = {"GET", "HEAD", "OPTIONS"}
FORWARDED = (".app.github.dev", ".localhost")


class Guard:
    """Pure ASGI middleware in front of the tooling's routes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (refused := refusal(scope)):
            return await PlainTextResponse(refused, 403)(scope, receive, send)
        await self.app(scope, receive, send)


def refusal(scope: Scope) -> str | None:
    """Why this request may not reach the tooling (None: it may)."""
    headers = Headers(scope=scope)
    host = headers.get("host", "")
    if not own_name(_hostname(host), scope):
        return "Forbidden: /_workshop/ answers only at this machine's own names"
    origin = headers.get("origin")
    write = scope["method"] not in SAFE
    if write and origin is not None and urlsplit(origin).netloc.lower() != host.lower():
        return "Forbidden: /_workshop/ takes no writes from another site"
    return None


def own_name(name: str, scope: Scope) -> bool:
    server = scope.get("server") or ("", None)
    if name in ("localhost", str(server[0]).lower()) or name.endswith(FORWARDED):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _hostname(host: str) -> str:
    """'Example.com:8000' -> 'example.com'; '[::1]:8000' -> '::1'."""
    try:
        return (urlsplit(f"//{host}").hostname or "").lower()
    except ValueError:  # a bracket that does not close
        return ""
