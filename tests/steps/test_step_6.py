"""Step 6: tasks open their own database connection and take ids, not objects.

The test swaps app.db.get_db (FastAPI's dependency_overrides) for one that
records what is done with the request's connection.
"""

import threading
from contextlib import closing
from pathlib import Path

import pytest
from step_support import uncommitted, wait_for, why_no_trace

ADA = {"email": "ada@example.com", "name": "Ada"}


class RequestConnection:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.closed = threading.Event()


@pytest.fixture
def request_connections(settings):
    """Every connection get_db hands to a request, with its SQL and its closing."""
    from app import db
    from app.main import app

    connections: list[RequestConnection] = []

    def recorded_get_db():
        record = RequestConnection()
        connections.append(record)
        connection = db.connect()
        connection.set_trace_callback(record.statements.append)
        try:
            yield connection
        finally:
            connection.close()
            record.closed.set()

    app.dependency_overrides[db.get_db] = recorded_get_db
    try:
        yield connections
    finally:
        app.dependency_overrides.pop(db.get_db, None)


def never_committed(opened: list[list[str]]) -> str:
    """Why there is no audit entry: an INSERT INTO audit on a connection that
    never committed after it, if one was seen."""
    if uncommitted(opened, "INSERT INTO audit"):
        return (
            "no audit entry about the new subscriber: write_audit_entry's"
            " INSERT INTO audit ran on a connection that never committed, so"
            " the row was dropped when it closed: write `with"
            " closing(connect()) as db, db:` (the inner `with db` commits)"
        )
    return "no audit entry about the new subscriber: " + why_no_trace(
        "write_audit_entry", "wrote nothing (read workshop hint 6)"
    )


def get_db_scope() -> str | None:
    """The scope the app's routes give get_db (FastAPI's dependant tree)."""
    from app import db
    from app.main import app

    def walk(dependant):
        for dependency in dependant.dependencies:
            yield dependency
            yield from walk(dependency)

    for route in app.routes:
        dependant = getattr(route, "dependant", None)
        for dependency in walk(dependant) if dependant else ():
            if dependency.call is db.get_db:
                return dependency.scope or "request (the default)"
    return None


def scope_problem() -> str:
    """What the dependant tree says about get_db's scope, at its app/ line."""
    scope = get_db_scope()
    if scope is None:
        return "no path operation depends on get_db: give them db: DbDep"
    where = "app/db.py"
    for path in sorted(Path(__import__("app").__file__).parent.glob("*.py")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if "Depends(get_db" in line:
                where = f"app/{path.name}:{number}"
    if scope not in ("function", "request", "request (the default)"):
        return (
            f"{where}: Depends(get_db, scope={scope!r}): FastAPI knows"
            ' scope="function" and scope="request" and runs any other word as'
            ' "request", so the connection stays open while the background tasks'
            ' run: write scope="function"'
        )
    return (
        f"{where}: get_db's scope is {scope}: the connection stays open while"
        ' the background tasks run: write Depends(get_db, scope="function")'
    )


def audit_about(server, email: str) -> list[dict]:
    return [e for e in server.get("/audit").json() if email in e["detail"]]


def test_request_connection_is_closed_before_the_response(
    request_connections, live_server, mail_gate
):
    """The request's connection is closed before the response (scope="function")."""
    mail_gate.hold(ADA["email"])
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    assert len(request_connections) == 1, "POST /subscribers uses get_db once"
    assert request_connections[0].closed.is_set(), scope_problem()


def test_tasks_do_not_use_the_request_connection(
    request_connections, live_server, mail_gate, opened
):
    """The background tasks open their own connection; the request's stays unused."""
    mail_gate.hold(ADA["email"])
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    connection = request_connections[0]
    used_by_the_endpoint = len(connection.statements)

    mail_gate.open()
    wait_for(
        live_server,
        lambda: live_server.emails_to(ADA["email"], "sent"),
        lambda: (
            "the welcome email was never sent: "
            + why_no_trace("send_welcome_email", "sent nothing (read workshop hint 6)")
        ),
    )
    wait_for(
        live_server,
        lambda: audit_about(live_server, ADA["email"]),
        lambda: never_committed(opened),
    )
    after_the_response = connection.statements[used_by_the_endpoint:]
    assert after_the_response == [], "tasks ran SQL on the request's connection"


def test_welcome_task_reads_the_subscriber_when_it_runs(settings, client_factory):
    """The welcome task gets the subscriber's id and reads the row when it runs."""
    from app import db
    from app.main import app

    def get_db_then_rename():  # as if Ada renamed herself before the task ran
        connection = db.connect()
        try:
            yield connection
        finally:
            connection.close()
            with closing(db.connect()) as other, other:
                other.execute("UPDATE subscribers SET name = 'Ada Lovelace'")

    app.dependency_overrides[db.get_db] = get_db_then_rename
    try:
        with client_factory() as client:
            assert client.post("/subscribers", json=ADA).status_code == 201
            outbox = client.get("/outbox").json()
    finally:
        app.dependency_overrides.pop(db.get_db, None)
    [welcome] = [e for e in outbox if e["recipient"] == ADA["email"]]
    assert "Ada Lovelace" in welcome["body"], (
        "the welcome task used an old copy of the subscriber: give it the id,"
        " add_task(send_welcome_email, subscriber.id), and load the row in it"
        f" ({welcome['body']!r}, after a rename)"
    )
