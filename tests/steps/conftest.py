"""Fixtures of the step suites; they test the app in WORKSHOP_APP_DIR.

WORKSHOP_APP_DIR names a folder that contains `app/` (default: the repository
root). It goes first on sys.path before anything imports `app`, so the same
suites run against the learner's app/ or any checkpoint.

Every test gets its own database file and a mail server without delay. Slow
mail is simulated with `mail_gate`: deliveries wait until the test releases
their recipient or opens it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP_DIR = Path(os.environ.get("WORKSHOP_APP_DIR") or ROOT).resolve()

if not (APP_DIR / "app" / "__init__.py").is_file():
    raise pytest.UsageError(f"WORKSHOP_APP_DIR has no app/ package: {APP_DIR}")
# First, before the folders pytest puts on the path (tests/ through
# [tool.pytest.ini_options] pythonpath, for `support`; this folder, for
# step_support): whatever else is there, `app` is the app under test.
sys.path.insert(0, str(APP_DIR))
if "app" in sys.modules:  # imported too early, from somewhere else
    raise pytest.UsageError("the package 'app' was imported before conftest.py")

import task_trace  # noqa: E402
from step_support import GATE_LIMIT, AppServer, MailGate, note_sleeps  # noqa: E402


def harden(app):
    """The app as `workshop serve` serves it: with the workshop's hardening
    (workshop/hardening.py: a 413 over 64 KiB, a 422 that can always be sent,
    another step's database moved aside), which no step teaches."""
    from workshop.checks.app_errors import noting
    from workshop.hardening import harden

    return noting(harden(app))  # what the app raises leads a failure's message


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The app's settings: a fresh database in tmp_path, no mail delay."""
    from app.config import settings

    monkeypatch.setattr(settings, "newsletter_db", tmp_path / "data" / "test.db")
    monkeypatch.setattr(settings, "mail_delay", 0.0)
    return settings


@pytest.fixture
def client_factory(settings) -> Callable:
    """Make a TestClient; use it in a `with` block so the app starts and stops."""
    from fastapi.testclient import TestClient

    from app.main import app

    return lambda: TestClient(harden(app))


@pytest.fixture
def client(client_factory) -> Iterator:
    """A TestClient: it returns after the response AND its background tasks."""
    with client_factory() as test_client:
        yield test_client


@pytest.fixture
def mail_gate(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[MailGate]:
    """Make app.mailer's deliveries wait while the gate holds them; open at teardown."""
    from app import mailer

    gate = MailGate()
    deliver, deliver_async = mailer.deliver, mailer.deliver_async

    def held_deliver(recipient: str, *args, **kwargs):
        if on_the_event_loop():  # a sync call in an async def: never hold it
            gate.blocked_loop.append(recipient)
        elif gate.holds(recipient) and not gate.sent_during_request(recipient):
            deadline = time.monotonic() + GATE_LIMIT
            with gate.waiting(recipient):
                while gate.holds(recipient) and time.monotonic() < deadline:
                    gate.opened.wait(0.005)
        return deliver(recipient, *args, **kwargs)

    async def held_deliver_async(recipient: str, *args, **kwargs):
        if gate.holds(recipient) and not gate.sent_during_request(recipient):
            deadline = time.monotonic() + GATE_LIMIT
            with gate.waiting(recipient):
                while gate.holds(recipient) and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
        return await deliver_async(recipient, *args, **kwargs)

    monkeypatch.setattr(mailer, "deliver", held_deliver)
    monkeypatch.setattr(mailer, "deliver_async", held_deliver_async)
    try:
        yield gate
    finally:
        gate.open()


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The SQL run on each sqlite3 connection opened during the test, with
    the BEGIN and COMMIT the sqlite3 module issues."""
    statements: list[list[str]] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        connection = connect(*args, **kwargs)
        statements.append(seen := [])
        connection.set_trace_callback(seen.append)
        return connection

    monkeypatch.setattr(sqlite3, "connect", traced)
    return statements


def on_the_event_loop() -> bool:
    """True in a sync function called by a coroutine, on the loop's thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@pytest.fixture
def live_server(settings) -> Iterator[AppServer]:
    """A real uvicorn server running the app; `.client` is an httpx client."""
    from app.main import app

    server = AppServer(harden(app))
    try:
        server.start()
        yield server
    finally:
        server.close()


# --- a time limit per test outside `workshop check` (tests/steps/timeouts.py) ---
# The editor's Testing panel runs these suites with plain pytest: an endless
# task must fail its test, not hang the panel.

import timeouts  # noqa: E402

_budgets: dict[str, timeouts.Budget] = {}


def pytest_configure(config: pytest.Config) -> None:
    task_trace.install()  # what the app adds to which BackgroundTasks, and runs
    note_sleeps()  # a time.sleep in app/ that a client waits for
    config.addinivalue_line(
        "markers",
        f"{timeouts.MARKER}(seconds): this test may take longer than the default "
        "limit (outside and under workshop check)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    task_trace.clear()
    item.stash[LOG_MARKS] = log_marks()
    if not timeouts.armed():
        return (yield)
    _budgets[item.nodeid] = timeouts.Budget(timeouts.limit(timeouts.asked(item)))
    with timeouts.time_limit(_budgets[item.nodeid]):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    budget = _budgets.get(item.nodeid)
    if budget is None:
        return (yield)
    with timeouts.time_limit(budget):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    budget = _budgets.get(item.nodeid)
    if budget is None:
        return (yield)
    with timeouts.time_limit(budget):
        return (yield)


def pytest_sessionfinish(session: pytest.Session) -> None:
    timeouts.end_soon_if_stuck(list(_budgets.values()))


# --- step 8 on: the earlier suites' jobs run in a Celery worker in this process

from queue_support import (  # noqa: E402, F401
    PROCESSES,
    has_worker,
    log_marks,
    logged_since,
    run_queued_jobs_here,
    start_worker_or_note,
    worker_log,
)


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.items and has_worker():
        start_worker_or_note()  # before the first test: outside every time limit


LOG_MARKS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    """A failed test on live processes (step 8 on): the app's error in the web
    server's or worker's log leads its message (workshop/checks/app_errors)."""
    report = yield
    if report.failed and PROCESSES:
        from workshop.checks.app_errors import from_log, record_line

        for text in logged_since(item.stash.get(LOG_MARKS, {})):
            if found := from_log(text):
                record_line(found)
    return report
