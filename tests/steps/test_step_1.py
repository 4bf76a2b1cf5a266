"""Step 1: the welcome email moves to a background task; the response is quick."""

import pytest
from step_support import wait_for, why_no_trace

ADA = {"email": "ada@example.com", "name": "Ada"}


def test_response_does_not_wait_for_the_welcome_email(live_server, mail_gate):
    """POST /subscribers answers before the welcome email is sent."""
    response = live_server.post("/subscribers", json=ADA)
    assert response.status_code == 201, (
        f"POST /subscribers answered {response.status_code}, not 201 Created:"
        f" declare it with status_code=201 ({response.text[:120]})"
        if response.is_success
        else f"POST /subscribers answered {response.status_code}: {response.text}"
    )
    if mail_gate.sent_before_response:
        raised = live_server.settle()  # a task that raised says more: add it
        pytest.fail(
            "\n".join(
                [
                    "the welcome email was sent before the response, so the client"
                    " waited for it: hand it to background_tasks.add_task instead",
                    *raised,
                ]
            )
        )
    assert not live_server.emails_to(ADA["email"], "sent")
    saved = live_server.get(f"/subscribers/{response.json()['id']}")
    assert saved.status_code == 200, "the new subscriber is readable at once"

    mail_gate.open()
    wait_for(
        live_server,
        lambda: live_server.emails_to(ADA["email"], "sent"),
        lambda: (
            "no welcome email shows as sent in GET /outbox: "
            + why_no_trace("send_welcome_email", "sent nothing (read workshop hint 1)")
        ),
    )
