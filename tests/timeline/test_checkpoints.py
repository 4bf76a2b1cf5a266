"""Every checkpoint, served as `workshop serve` serves it, gives the right picture.

One signup per checkpoint against a real uvicorn server: the tasks it sets
off are found by name and in order, every task starts once the response is
sent, and the emails lie inside the request on step 0 and after it from step
1 on. This is how the task hook is verified on the lesson's own code.
"""

from __future__ import annotations

import uuid

import pytest
from timeline_support import (
    SIGNUP_EMAILS,
    SIGNUP_TASKS,
    call,
    finished,
    kind,
    signup,
    steps,
)


@pytest.mark.parametrize("step", steps())
def test_a_signup_on_each_checkpoint(step: int, checkpoint) -> None:
    url = checkpoint(step)
    signup(url, f"ada-{step}-{uuid.uuid4().hex[:8]}@example.com")
    (request,) = finished(url)
    sent = request["response_sent_ms"]
    assert (request["path"], request["status"]) == ("/subscribers", 201)
    tasks = kind(request, "task")
    assert [t["name"] for t in tasks] == SIGNUP_TASKS[step]
    assert all(t["status"] == "done" and t["start_ms"] >= sent for t in tasks)
    emails = kind(request, "email")
    assert len(emails) == SIGNUP_EMAILS[step]
    assert all(e["status"] == "sent" for e in emails)
    if step == 0:
        assert all(e["end_ms"] <= sent for e in emails)
        assert "the email was sent inside the request" in request["reading"]
    else:
        assert all(e["start_ms"] >= sent for e in emails)
        assert "after the response" in request["reading"]


def test_a_job_goes_pending_running_done_on_step_7(checkpoint) -> None:
    """POST /digests: the job's states, the digest task, its emails."""
    if 7 not in steps():
        pytest.skip("no checkpoint 7")
    # "pending" and "done" are seen on the wrapper's own boundaries (response
    # start, task end); "running" by its poller, which runs while someone
    # fetches timeline.json (here `finished`) and the emails take MAIL_DELAY.
    url = checkpoint(7)
    signup(url, f"ada-{uuid.uuid4().hex[:8]}@example.com")
    finished(url)
    call(f"{url}/_workshop/timeline/reset", "POST")
    call(f"{url}/digests", "POST")
    (request,) = finished(url)
    (job,) = kind(request, "job")
    assert [phase[0] for phase in job["phases"]] == ["pending", "running", "done"]
    assert job["start_ms"] < request["response_sent_ms"] < job["end_ms"]
    assert [t["name"] for t in kind(request, "task")] == [
        "write_audit_entry",
        "send_digest",
    ]
    assert len(kind(request, "email")) >= 1  # one per subscriber so far
    assert f"{job['name']} done" in request["reading"]
