"""/docs and /redoc that work offline, with the lesson's code unchanged.

FastAPI's docs pages load Swagger UI and ReDoc from a CDN: with no internet
(conference Wi-Fi, a proxy that blocks CDNs) /docs is a blank page. The app
still serves its own pages here; the wrapper rewrites their script, style and
icon URLs to /_workshop/static/, which serves the files of the pinned and
hashed `fastapi-offline` package (Swagger UI 5 and ReDoc 2, byte for byte the
upstream releases), and drops ReDoc's web-font link (it falls back to the
system fonts). Only those known URLs change; any other page is left alone.
Swagger UI is also told to show each request's duration.

ReDoc's bundle itself asks its vendor's CDN for a small logo, and hides the
logo when that fails: the bundle is served with that one URL blanked, so the
logo is hidden at once and no request leaves the machine.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workshop.errors import WorkshopError

ASSETS_PACKAGE = "fastapi_offline"
STATIC = "/_workshop/static"
_URL = r"https?://[^\"'\s>]+"  # an absolute URL inside an HTML attribute
_VERSION = r"@[^/\"'\s]+"  # swagger-ui-dist@5, redoc@2
REWRITES = [
    # Swagger UI's files from a CDN's swagger-ui-dist@N/ folder
    (_URL + "/swagger-ui-dist" + _VERSION + r"/(swagger-ui[\w.-]*\.(?:js|css))", r"\1"),
    # ReDoc's bundle from a CDN's redoc@N/bundles/ folder
    (_URL + "/redoc" + _VERSION + r"/bundles/(redoc\.standalone\.js)", r"\1"),
    # FastAPI's favicon
    (_URL + r"/img/favicon\.png", "favicon.png"),
]
# any stylesheet still loaded from elsewhere (ReDoc's web fonts) is dropped
EXTERNAL_LINK = re.compile(r"<link\b[^>]*href=[\"']" + _URL + r"[\"'][^>]*>")
# Swagger UI shows how long each "Try it out" took (step 0 asks to watch it);
# set first, so an app's own swagger_ui_parameters, written after, still win
SWAGGER_CONFIG = re.compile(r"SwaggerUIBundle\(\{")
DURATION = 'SwaggerUIBundle({\n    "displayRequestDuration": true,'
REDOC = "redoc.standalone.js"
REDOC_LOGO = re.compile(r'"https://[^"]*/logo-mini\.svg"')  # an <img> src in the bundle


def static_folder() -> Path:
    """The folder of Swagger UI and ReDoc files the package ships (not imported)."""
    spec = importlib.util.find_spec(ASSETS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WorkshopError(
            f"the {ASSETS_PACKAGE} package (offline /docs) is missing: run 'make venv'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@functools.cache
def redoc_bundle() -> bytes:
    """ReDoc's bundle with its logo's URL blanked (read once, kept)."""
    text = (static_folder() / REDOC).read_text(encoding="utf-8")
    return REDOC_LOGO.sub('""', text).encode("utf-8")


async def serve_redoc_bundle(request: Request) -> Response:
    headers = {"Cache-Control": "max-age=3600"}
    return Response(redoc_bundle(), media_type="text/javascript", headers=headers)


def offline(html: str, root_path: str = "") -> str:
    """`html` with the CDN URLs it loads pointing at the local copies."""
    for pattern, file in REWRITES:
        html = re.sub(pattern, f"{root_path}{STATIC}/{file}", html)
    html = SWAGGER_CONFIG.sub(lambda _: DURATION, html, count=1)
    return EXTERNAL_LINK.sub("", html)


class Docs:
    """Knows the app's docs URLs (FastAPI's attributes, else its defaults)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        known = getattr  # the app may be any ASGI app; FastAPI's has these
        self.pages = {
            known(app, "docs_url", "/docs"),
            known(app, "redoc_url", "/redoc"),
        }
        self.pages.discard(None)
        self.quiet = {
            known(app, "openapi_url", "/openapi.json"),
            known(app, "swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect"),
            "/favicon.ico",
        }

    def is_page(self, path: str) -> bool:
        return path in self.pages

    def is_quiet(self, path: str) -> bool:
        """Not worth a row on the timeline: the docs' own requests."""
        return path in self.quiet

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's page, its HTML rewritten by `offline` before it is sent."""
        start: dict[str, Any] = {}
        body = bytearray()

        async def buffer(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    await self._send(start, bytes(body), scope, send)
            else:
                await send(message)

        await self.app(scope, receive, buffer)

    async def _send(
        self, start: dict[str, Any], body: bytes, scope: Scope, send: Send
    ) -> None:
        headers = MutableHeaders(raw=list(start.get("headers", [])))
        html = "text/html" in headers.get("content-type", "")
        if start.get("status") == 200 and html:
            text = offline(body.decode(errors="surrogateescape"), scope["root_path"])
            body = text.encode(errors="surrogateescape")
            headers["content-length"] = str(len(body))
        await send({**start, "headers": headers.raw})
        await send({"type": "http.response.body", "body": body})
