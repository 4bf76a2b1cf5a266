"""Step 4: a dependency adds its own task to the request's BackgroundTasks."""

import sqlite3
from contextlib import closing

import pytest
import task_trace
from step_support import CURRENT_EXCHANGE, uncommitted, wait_for

ADA = {"email": "ada@example.com", "name": "Ada"}


def audit(server_or_client, text: str) -> list[dict]:
    return [e for e in server_or_client.get("/audit").json() if text in e["detail"]]


def no_entry(server_or_client, expected: str, opened=None) -> str:
    """Why there is no audit entry `expected`, showing what was written instead
    (or that the INSERT ran and was never committed: `opened`, when given)."""
    if opened is not None and uncommitted(opened, "INSERT INTO audit"):
        return (
            f"no audit entry {expected!r}: the INSERT INTO audit ran but was never"
            " committed (its connection closed without a COMMIT): run it inside"
            " `with db:`"
        )
    written = [
        e["detail"] for e in server_or_client.get("/audit").json()
        if e["event"] == "request"
    ]  # fmt: skip
    if written:
        return (
            f"the audit log has {written} where {expected!r} was expected: write"
            ' f"{request.method} {request.url.path}" (request.url is the whole URL)'
        )
    why = task_trace.why_not_run("write_audit_entry", "request")
    if why is None or why.startswith("no write_audit_entry task"):
        # never added, or added for other requests only: the dependency is missing
        return (
            f"no audit entry {expected!r}: write a dependency that adds"
            f" write_audit_entry with background_tasks.add_task, and give {expected}"
            " dependencies=[Depends(audit_request)]"
        )
    return f"no audit entry {expected!r}: {why}"


class WriteLock:
    """The database's write lock, held by the test: nobody else writes until
    `release()`. A write made while its request is still unanswered would make
    the client wait: it releases the lock at once and is noted in `inline`."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.inline: list[str] = []

    def traced(self, statement: str) -> None:
        exchange = CURRENT_EXCHANGE.get(None)
        writes = statement.lstrip().upper().startswith(("INSERT", "UPDATE"))
        if writes and exchange is not None and not exchange.responded:
            self.inline.append(f"{statement}, during {exchange.what}")
            self.release()  # let it through: the client must not wait for us

    def release(self) -> None:
        self.connection.rollback()


@pytest.fixture
def write_lock(settings, live_server, monkeypatch: pytest.MonkeyPatch):
    """A WriteLock on the database of the running app, held (BEGIN IMMEDIATE)."""
    connect = sqlite3.connect
    lock = WriteLock(connect(settings.newsletter_db, check_same_thread=False))

    def connect_traced(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(lock.traced)
        return connection

    monkeypatch.setattr(sqlite3, "connect", connect_traced)
    with closing(lock.connection):
        lock.connection.execute("BEGIN IMMEDIATE")  # no one else can write now
        yield lock
        lock.release()


def test_subscribe_requests_are_audited(client, opened):
    """Each POST /subscribers adds a "POST /subscribers" entry to the audit log."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    requests = audit(client, "POST /subscribers")
    assert requests, no_entry(client, "POST /subscribers", opened)
    assert len(requests) == 1, requests


def test_listing_subscribers_is_audited_too(client, opened):
    """The same dependency logs GET /subscribers, which has no tasks of its own."""
    assert client.get("/subscribers").status_code == 200
    requests = audit(client, "GET /subscribers")
    assert requests, no_entry(client, "GET /subscribers", opened)
    assert len(requests) == 1, requests


def test_request_audit_entry_is_written_after_the_response(live_server, write_lock):
    """The dependency's audit entry is a task: GET /subscribers does not wait for it."""
    assert live_server.get("/subscribers").status_code == 200
    if write_lock.inline:
        pytest.fail(
            "the audit entry was written inside the request, so GET /subscribers"
            " waited for the database (this test holds its write lock): in the"
            " dependency, call background_tasks.add_task(write_audit_entry, ...)"
        )
    assert not audit(live_server, "GET /subscribers"), "written after the response"
    write_lock.release()
    wait_for(
        live_server,
        lambda: audit(live_server, "GET /subscribers"),
        lambda: no_entry(live_server, "GET /subscribers"),
    )


def test_dependency_task_runs_before_the_endpoint_tasks(live_server, mail_gate, opened):
    """The dependency's audit entry is written before the welcome email is sent."""
    mail_gate.hold(ADA["email"])
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_for(
        live_server,
        lambda: audit(live_server, "POST /subscribers"),
        lambda: (
            no_entry(live_server, "POST /subscribers", opened)
            + " (the dependency's task runs before the endpoint's)"
        ),
    )
    assert not live_server.emails_to(ADA["email"], "sent"), (
        "the welcome email went out while the mail server was held shut"
    )

    mail_gate.open()
    subscribed = wait_for(
        live_server,
        lambda: audit(live_server, ADA["email"]),
        "no audit entry about the new subscriber",
    )
    assert audit(live_server, "POST /subscribers")[0]["id"] < subscribed[0]["id"], (
        "the request's audit entry was written after the subscriber's: the"
        " dependency's task runs first when it is added in the dependency"
    )
