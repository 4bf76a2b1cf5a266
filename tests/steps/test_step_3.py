"""Step 3: one request, three tasks (email, admin notice, audit entry), in order."""

from step_support import written_summary
from support.live import wait_until

ADA = {"email": "ada@example.com", "name": "Ada"}
ADMIN = "admin@example.com"


def entries_about(server_or_client, email: str) -> list[dict]:
    audit = server_or_client.get("/audit")
    assert audit.status_code == 200, "GET /audit shows the audit log"
    return [entry for entry in audit.json() if email in entry["detail"]]


def test_subscribing_is_written_to_the_audit_log(client):
    """Subscribing adds an entry about the new subscriber to GET /audit."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    entries = entries_about(client, ADA["email"])
    assert len(entries) == 1, entries
    assert {"id", "event", "detail", "created_at"} <= entries[0].keys()
    assert written_summary("/audit", "get"), "give GET /audit a summary=..."


def test_tasks_run_one_after_another_in_the_order_added(live_server, mail_gate):
    """The admin notice and the audit entry wait until the welcome email is sent."""
    mail_gate.hold(ADA["email"], ADMIN)
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_until(
        lambda: live_server.get("/outbox").json(), "the first email is on its way"
    )
    assert not live_server.emails_to(ADMIN), "the admin notice waits its turn"
    assert live_server.emails_to(ADA["email"], "sending"), "the welcome email first"
    assert not entries_about(live_server, ADA["email"]), "the audit entry waits too"

    mail_gate.release(ADA["email"])
    wait_until(
        lambda: live_server.emails_to(ADMIN, "sending"),
        "the admin notice is on its way, after the welcome email",
    )
    assert live_server.emails_to(ADA["email"], "sent"), "welcome email first"
    assert not entries_about(live_server, ADA["email"]), (
        "the audit entry waits until the admin notice is sent"
    )

    mail_gate.open()
    wait_until(
        lambda: entries_about(live_server, ADA["email"]),
        "the audit entry is written after the emails",
    )
    assert live_server.emails_to(ADMIN, "sent"), "the notice went out before it"
