"""Step 2: an async task (the admin notice) runs beside the sync welcome email."""

import inspect

import pytest
import task_trace
from step_support import wait_for

ADA = {"email": "ada@example.com", "name": "Ada"}
ADMIN = "admin@example.com"  # the default of ADMIN_EMAIL


def test_admin_is_told_about_a_new_subscriber(client):
    """Subscribing also emails the admin, naming the new subscriber."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    notices = [e for e in client.get("/outbox").json() if e["recipient"] == ADMIN]
    assert notices, f"no email to {ADMIN} after POST /subscribers: " + (
        task_trace.why_not_run("notify_admin")
        or "notify_admin ran and sent nothing (read workshop hint 2)"
    )
    assert len(notices) == 1, f"expected one email to {ADMIN}, got {notices}"
    assert notices[0]["status"] == "sent"
    named = f"{ADA['name']} <{ADA['email']}>"
    assert named in notices[0]["body"], f"the notice names {named}"


def test_welcome_email_and_admin_notice_both_go_out(client):
    """Each subscriber gets a welcome email and the admin gets one notice each."""
    for name in ("ada", "grace"):
        person = {"email": f"{name}@example.com", "name": name.title()}
        assert client.post("/subscribers", json=person).status_code == 201
    outbox = client.get("/outbox").json()
    recipients = sorted(e["recipient"] for e in outbox)
    expected = sorted([ADMIN, ADMIN, "ada@example.com", "grace@example.com"])
    assert recipients == expected, (
        f"two signups sent emails to {recipients}, not {expected}: each signup"
        " sends its subscriber a welcome email and the admin one notice"
    )


def test_admin_notice_is_an_async_task():
    """notify_admin in app/tasks.py is an `async def` task, run on the event loop."""
    from app import tasks

    assert inspect.iscoroutinefunction(getattr(tasks, "notify_admin", None)), (
        "write `async def notify_admin(...)` in app/tasks.py"
    )


def test_async_task_does_not_freeze_the_server(live_server, mail_gate):
    """While the async admin notice waits for the mail server, the app still answers."""
    mail_gate.hold(ADMIN)
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_for(
        live_server,
        lambda: live_server.emails_to(ADMIN, "sending") or mail_gate.blocked_loop,
        lambda: (
            f"no email to {ADMIN} was sent: "
            + (
                task_trace.why_not_run("notify_admin")
                or "notify_admin ran and sent nothing (read workshop hint 2)"
            )
        ),
    )
    if mail_gate.blocked_loop:
        pytest.fail(
            "notify_admin blocked the event loop: it called the blocking send_email"
            " in an `async def`, and the whole server waited for the mail server."
            " Write `await send_email_async(...)`"
        )
    assert live_server.get("/subscribers").status_code == 200

    mail_gate.open()
    wait_for(
        live_server,
        lambda: live_server.emails_to(ADMIN, "sent"),
        "the admin notice was never sent",
    )
