"""Step 8: the timeline shows the job leaving the web process for the worker.

A real Celery worker (`python -m workshop.devserver.worker_process`, as
`workshop worker` starts it) on the no-server broker, beside checkpoint 8
served with the timeline. The worker is started only once the 202 is back,
so "the job ran after the response" holds by construction, not by timing:
the message waits on the broker until a worker runs.
"""

from __future__ import annotations

import uuid

from timeline_support import Step8, call, finished, kind, worker_bar


def phase(bar: dict, status: str) -> float:
    (at,) = [t for s, t in bar["phases"] if s == status]
    return at


def test_the_digest_runs_in_the_worker_after_the_response(step8: Step8) -> None:
    url = step8.url
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    step8.add_subscriber(email)
    job = call(f"{url}/digests", "POST")
    assert job["status"] == "pending"

    # No worker yet: the request is over, its job waits on the broker.
    (request,) = finished(url)
    (bar,) = kind(request, "worker")
    assert bar["name"] == "worker: send_digest"
    assert bar["status"] == "queued"
    sent = request["response_sent_ms"]
    assert bar["start_ms"] < sent, "the message is sent inside the request"
    assert "send_digest waits for a worker" in request["reading"]

    step8.start_worker()
    request = worker_bar(url, step8, "done")
    (bar,) = kind(request, "worker")
    running, done = phase(bar, "running"), phase(bar, "done")
    assert sent <= running <= done == bar["end_ms"], request
    # the job's row and the email the worker sent are on the same request
    (job_bar,) = kind(request, "job")
    assert job_bar["name"] == f"job {job['id'][:8]}"
    assert job_bar["status"] == "done"
    assert job_bar["end_ms"] >= running
    (mail,) = kind(request, "email")
    assert mail["name"] == f"email to {email}"
    assert mail["status"] == "sent"
    assert running <= mail["start_ms"] <= mail["end_ms"]
    assert "send_digest ran in the worker" in request["reading"]
    assert "after the response" in request["reading"]
