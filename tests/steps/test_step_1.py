"""Step 1: the welcome email moves to a background task; the response is quick."""

import httpx
import pytest
from conftest import wait_for

ADA = {"email": "ada@example.com", "name": "Ada"}


def emails_to(server, recipient: str) -> list[dict]:
    outbox = server.client.get("/outbox").json()
    return [email for email in outbox if email["recipient"] == recipient]


def subscribe_quickly(server, person: dict) -> httpx.Response:
    try:
        return server.client.post("/subscribers", json=person)
    except httpx.TimeoutException:
        pytest.fail("POST /subscribers did not answer: it waited for the welcome email")


def test_response_does_not_wait_for_the_welcome_email(live_server, mail_gate):
    """POST /subscribers answers before the welcome email is sent."""
    response = subscribe_quickly(live_server, ADA)
    assert response.status_code == 201, response.text
    assert all(e["status"] != "sent" for e in emails_to(live_server, ADA["email"]))
    saved = live_server.client.get(f"/subscribers/{response.json()['id']}")
    assert saved.status_code == 200, "the new subscriber is readable at once"

    mail_gate.open()
    wait_for(
        lambda: [
            e for e in emails_to(live_server, ADA["email"]) if e["status"] == "sent"
        ],
        "the welcome email shows as sent in GET /outbox",
    )
