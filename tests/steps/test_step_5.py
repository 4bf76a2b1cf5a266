"""Step 5: failing and flaky emails are retried, recorded, and stop nothing else.

The pretend mail server always refuses @bounce.example.com and refuses the
first attempt to an @greylist.example.com address.
"""

from collections import Counter

import pytest

BOUNCE = {"email": "nobody@bounce.example.com", "name": "Nobody"}
GREYLIST = {"email": "grey@greylist.example.com", "name": "Grey"}
ADMIN = "admin@example.com"
GIVES_IN_AFTER = 10  # attempts to one recipient; then the mail server accepts


@pytest.fixture(autouse=True)
def attempts(settings, monkeypatch: pytest.MonkeyPatch) -> Counter:
    """Delivery attempts per recipient; the mail server gives in after ten.

    So a retry loop that never stops ends (with ten failed emails and a sent
    one) and its test fails, instead of hanging.
    """
    from app import mailer

    counted: Counter = Counter()
    deliver, deliver_async = mailer.deliver, mailer.deliver_async

    def counted_deliver(recipient: str, *args, **kwargs):
        counted[recipient] += 1
        if counted[recipient] <= GIVES_IN_AFTER:
            deliver(recipient, *args, **kwargs)

    async def counted_deliver_async(recipient: str, *args, **kwargs):
        counted[recipient] += 1
        if counted[recipient] <= GIVES_IN_AFTER:
            await deliver_async(recipient, *args, **kwargs)

    monkeypatch.setattr(mailer, "deliver", counted_deliver)
    monkeypatch.setattr(mailer, "deliver_async", counted_deliver_async)
    return counted


def emails_to(client, recipient: str) -> list[dict]:
    return [e for e in client.get("/outbox").json() if e["recipient"] == recipient]


def never_stop(attempts: Counter) -> str:
    return (
        f"the retries never stop: the welcome email was tried {attempts} times"
        " (the mail server gave in); stop after MAX_ATTEMPTS = 3 attempts:"
        " for attempt in range(1, MAX_ATTEMPTS + 1)"
    )


def test_bounced_welcome_email_does_not_stop_the_other_tasks(client, attempts):
    """A refused welcome email still lets the admin notice and audit entry happen."""
    assert client.post("/subscribers", json=BOUNCE).status_code == 201
    tried = attempts[BOUNCE["email"]]
    assert tried < GIVES_IN_AFTER, never_stop(tried)
    welcome = emails_to(client, BOUNCE["email"])
    assert welcome, "the welcome email was tried"
    assert {e["status"] for e in welcome} == {"failed"}, welcome
    notices = [e["status"] for e in emails_to(client, ADMIN)]
    assert notices == ["sent"], (
        f"the admin notice after a refused welcome email is {notices}, not"
        " ['sent']: catch MailError inside send_welcome_email, so the tasks after"
        " it still run"
    )
    audit = client.get("/audit").json()
    assert any(BOUNCE["email"] in entry["detail"] for entry in audit), (
        "no audit entry after a refused welcome email: catch MailError inside"
        " send_welcome_email, so the tasks after it still run"
    )


def test_refused_emails_are_retried_a_bounded_number_of_times(client, attempts):
    """A welcome email that keeps failing is tried 3 times, each failure recorded."""
    assert client.post("/subscribers", json=BOUNCE).status_code == 201
    tried = attempts[BOUNCE["email"]]
    assert tried < GIVES_IN_AFTER, never_stop(tried)
    welcome = emails_to(client, BOUNCE["email"])
    assert [e["status"] for e in welcome] == ["failed"] * 3, (
        f"the refused welcome email was tried {tried} time(s), recorded as"
        f" {[e['status'] for e in welcome]}: 3 attempts were expected; retry with"
        " MAX_ATTEMPTS = 3: for attempt in range(1, MAX_ATTEMPTS + 1)"
    )
    assert all("550" in e["error"] for e in welcome), "the server's reason is kept"


def test_flaky_delivery_succeeds_on_a_retry(client):
    """A welcome email refused once (greylisting) is sent on the second attempt."""
    assert client.post("/subscribers", json=GREYLIST).status_code == 201
    welcome = emails_to(client, GREYLIST["email"])
    statuses = [e["status"] for e in welcome]
    assert statuses.count("sent") <= 1, (
        f"the welcome email was sent {statuses.count('sent')} times ({statuses}):"
        " the retry loop went on after a success: return (or break) once"
        " send_email(...) went through"
    )
    assert statuses == ["failed", "sent"], (
        f"a welcome email refused once (451, try later) is recorded as {statuses}:"
        " expected ['failed', 'sent'], a failed attempt and a retry that went"
        " through"
    )
    assert "451" in welcome[0]["error"], "the server's reason is kept"
    assert welcome[1]["error"] is None, "the attempt that went through has no error"
