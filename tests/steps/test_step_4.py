"""Step 4: a dependency adds its own task to the request's BackgroundTasks."""

import sqlite3
from contextlib import closing

from support.live import wait_until

ADA = {"email": "ada@example.com", "name": "Ada"}


def audit(server_or_client, text: str) -> list[dict]:
    return [e for e in server_or_client.get("/audit").json() if text in e["detail"]]


def test_subscribe_requests_are_audited(client):
    """Each POST /subscribers adds a "POST /subscribers" entry to the audit log."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    requests = audit(client, "POST /subscribers")
    assert len(requests) == 1, requests


def test_listing_subscribers_is_audited_too(client):
    """The same dependency logs GET /subscribers, which has no tasks of its own."""
    assert client.get("/subscribers").status_code == 200
    assert len(audit(client, "GET /subscribers")) == 1


def test_request_audit_entry_is_written_after_the_response(live_server, settings):
    """The dependency's audit entry is a task: GET /subscribers does not wait for it."""
    with closing(sqlite3.connect(settings.newsletter_db)) as lock:
        lock.execute("BEGIN IMMEDIATE")  # no one else can write until we roll back
        assert live_server.get("/subscribers").status_code == 200
        assert not audit(live_server, "GET /subscribers"), "written after the response"
        lock.rollback()
    wait_until(lambda: audit(live_server, "GET /subscribers"), "the audit entry")


def test_dependency_task_runs_before_the_endpoint_tasks(live_server, mail_gate):
    """The dependency's audit entry is written before the welcome email is sent."""
    mail_gate.hold(ADA["email"])
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_until(
        lambda: audit(live_server, "POST /subscribers"),
        "the dependency's audit entry is written (while the welcome email waits)",
    )
    assert not live_server.emails_to(ADA["email"], "sent")

    mail_gate.open()
    subscribed = wait_until(
        lambda: audit(live_server, ADA["email"]), "the endpoint's audit entry"
    )
    assert audit(live_server, "POST /subscribers")[0]["id"] < subscribed[0]["id"]
