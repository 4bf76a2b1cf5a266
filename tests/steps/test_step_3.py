"""Step 3: one request, three tasks (email, admin notice, audit entry), in order."""

from step_support import uncommitted_or, wait_for, written_summary

ADA = {"email": "ada@example.com", "name": "Ada"}
ADMIN = "admin@example.com"


def entries_about(server_or_client, email: str) -> list[dict]:
    audit = server_or_client.get("/audit")
    assert audit.status_code == 200, (
        f"GET /audit answered {audit.status_code}: add a GET /audit endpoint that"
        " lists the audit log"
    )
    return [entry for entry in audit.json() if email in entry["detail"]]


def swapped(server_or_client, email: str) -> str:
    """What the audit log holds instead of an entry whose detail is `email`."""
    audit = server_or_client.get("/audit").json()
    if any(email in entry["event"] for entry in audit):
        seen = [(entry["event"], entry["detail"]) for entry in audit]
        return (
            f"the audit log has (event, detail) = {seen}: the event and the detail"
            " are swapped; write_audit_entry takes (db, event, detail):"
            ' add_task(write_audit_entry, db, "subscribed", subscriber.email)'
        )
    return f"no audit entry about {email}: {audit}"


def test_subscribing_is_written_to_the_audit_log(client, opened):
    """Subscribing adds an entry about the new subscriber to GET /audit."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    entries = entries_about(client, ADA["email"])
    assert entries, uncommitted_or(
        opened, "INSERT INTO audit", swapped(client, ADA["email"])
    )
    assert len(entries) == 1, entries
    assert {"id", "event", "detail", "created_at"} <= entries[0].keys()
    assert written_summary("/audit", "get"), "give GET /audit a summary=..."


def test_tasks_run_one_after_another_in_the_order_added(live_server, mail_gate, opened):
    """The admin notice and the audit entry wait until the welcome email is sent."""
    mail_gate.hold(ADA["email"], ADMIN)
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_for(
        live_server,
        lambda: live_server.get("/outbox").json(),
        "no email was sent after POST /subscribers",
    )
    assert not live_server.emails_to(ADMIN), (
        "the admin notice went out before the welcome email: call"
        " add_task(send_welcome_email, ...) first; tasks run in the order added"
    )
    assert live_server.emails_to(ADA["email"], "sending"), "the welcome email first"
    assert not entries_about(live_server, ADA["email"]), (
        "the audit entry was written before the emails: call"
        " add_task(write_audit_entry, ...) last"
    )

    mail_gate.release(ADA["email"])
    wait_for(
        live_server,
        lambda: live_server.emails_to(ADMIN, "sending"),
        "no admin notice after the welcome email: call add_task(notify_admin, ...)"
        " after add_task(send_welcome_email, ...)",
    )
    assert live_server.emails_to(ADA["email"], "sent"), "welcome email first"
    assert not entries_about(live_server, ADA["email"]), (
        "the audit entry was written before the admin notice was sent: call"
        " add_task(write_audit_entry, ...) after add_task(notify_admin, ...)"
    )

    mail_gate.open()
    wait_for(
        live_server,
        lambda: entries_about(live_server, ADA["email"]),
        lambda: uncommitted_or(
            opened,
            "INSERT INTO audit",
            "no audit entry about the new subscriber after the emails: call"
            " add_task(write_audit_entry, ...) last",
        ),
    )
    assert live_server.emails_to(ADMIN, "sent"), "the notice went out before it"
