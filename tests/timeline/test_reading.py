"""The one line under each row says what the bars show, in the lesson's words."""

from __future__ import annotations

from typing import Any

from workshop.timeline.reading import reading, span


def event(kind: str, start: float, end: float | None, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "name": kind, "start_ms": start, "end_ms": end} | {
        "status": "done",
        **more,
    }


def test_step_0_the_email_inside_the_request() -> None:
    """Step 0: the client waits for the email, and the line says so."""
    events = [event("request", 0, 1003.4), event("email", 2, 1001, status="sent")]
    assert reading(events, done=True) == (
        "client waited 1003 ms: the email was sent inside the request"
    )


def test_step_1_tasks_after_the_response() -> None:
    """Step 1 and later: how long the tasks ran after the client had its answer."""
    events = [
        event("request", 0, 4.2),
        event("task", 4.3, 1004),
        event("email", 5, 1003, status="sent"),
        event("task", 1004, 1006),
        event("task", 1006, 1008),
    ]
    assert reading(events, done=True) == (
        "client waited 4 ms; 3 tasks ran for 1.0 s after the response"
    )


def test_failures_are_named() -> None:
    """A task that raised and an email refused are both in the line."""
    events = [
        event("request", 0, 3),
        event("task", 3, 400, status="failed", name="send_welcome_email"),
        event("email", 4, 300, status="failed"),
    ]
    assert reading(events, done=True) == (
        "client waited 3 ms; 1 task ran for 397 ms after the response; "
        "send_welcome_email failed; 1 email failed"
    )


def test_a_job_and_tasks_still_running() -> None:
    """While tasks run the line says so; a job's state is in it."""
    events = [
        event("request", 0, 5),
        event("job", 2, None, status="running", name="job 1a2b3c4d"),
        event("task", 5, None, status="running"),
    ]
    assert reading(events, done=False) == (
        "client waited 5 ms; 1 task after the response, still running; "
        "job 1a2b3c4d running"
    )


def test_no_response_yet_or_ever() -> None:
    assert reading([event("request", 0, None)], done=False) == (
        "the client is waiting..."
    )
    assert reading([event("request", 0, None)], done=True) == "no response was sent"


def test_span_switches_to_seconds_at_one_second() -> None:
    assert [span(4.4), span(999), span(1000), span(12_345)] == [
        "4 ms",
        "999 ms",
        "1.0 s",
        "12.3 s",
    ]


def test_step_8_the_job_ran_in_the_worker() -> None:
    """Step 8: the job waits on the broker, then runs in the worker."""
    request = event("request", 0, 12.3)
    queued = event("worker", 5, None, status="queued", phases=[["queued", 5]])
    queued["name"] = "worker: send_digest"
    assert reading([request, queued], done=True) == (
        "client waited 12 ms; send_digest waits for a worker"
    )
    done = queued | {
        "end_ms": 2100,
        "status": "done",
        "phases": [["queued", 5], ["running", 912.3], ["done", 2100]],
    }
    assert reading([request, done], done=True) == (
        "client waited 12 ms; send_digest ran in the worker, 900 ms after the response"
    )
