"""Chromium through Playwright, for browser tests: the system's browser, no
download, every request off this machine blocked and counted, every console
error collected (the pattern of tests/timeline/test_browser.py).

Import the fixtures into a test module: `from support.browser import browser,
tab`. Without Chromium or Playwright (`make browser`) the tests are skipped
with the reason; with REQUIRE_BROWSER=1 they fail instead.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
LOCAL = {"127.0.0.1", "localhost", "[::1]"}
WAIT_MS = 20_000  # the bound of every wait in the page; reached only when broken


def browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: run 'make browser'"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


# Module scope: while Playwright's sync API is open, an event loop runs in
# this thread, and a later test's asyncio.run() would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = browser_problem()
    if problem is not None:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1, but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page whose requests off this machine are blocked and counted."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.blocked == [], "requests left the machine"
        assert self.errors == [], "the console showed errors"
        assert self.dialogs == [], "the page opened a dialog (a script ran?)"


@pytest.fixture
def tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Tab]:
    # a module may size its pages (VIEWPORT): screenshots grow to the content
    viewport = getattr(request.module, "VIEWPORT", {"width": 1100, "height": 300})
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    opened = Tab(page)

    def only_local(route: Any) -> None:
        host = urllib.parse.urlsplit(route.request.url).hostname or ""
        if host in LOCAL or f"[{host}]" in LOCAL:
            route.continue_()
        else:
            opened.blocked.append(route.request.url)
            route.abort()

    def dialog(shown: Any) -> None:
        opened.dialogs.append(shown.message)
        shown.dismiss()

    context.route("**/*", only_local)
    page.on("console", lambda m: m.type == "error" and opened.errors.append(m.text))
    page.on("pageerror", lambda error: opened.errors.append(str(error)))
    page.on("dialog", dialog)
    yield opened
    context.close()
