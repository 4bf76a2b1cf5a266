"""Step 8: the digest job runs in a Celery worker, a process of its own.

Real processes and real signals: the web server (uvicorn) and the worker are
started as the learner starts them, on the no-server default broker (an SQLite
file) and on Redis where one runs. Nothing here mocks the broker or the worker.
"""

from __future__ import annotations

import signal

import httpx
import pytest
from queue_support import start_stacks
from support.live import wait_until

ADA = {"email": "ada@example.com", "name": "Ada"}
# Started now, at import: they boot while the suites of earlier steps run.
# The worker's mail takes 0.5 s, so no digest can be done within a few ms.
STACKS = start_stacks("sqlite", "redis", worker_delay=0.5)


@pytest.fixture(scope="module", autouse=True)
def _stop_the_stacks():
    """Every process started above ends with this module's tests."""
    yield
    for started in STACKS.values():
        started.close()


@pytest.fixture(params=["sqlite", "redis"])
def stack(request):
    """The web server and the worker on this broker (one pair per module)."""
    if request.param not in STACKS:
        pytest.fail("no app/worker.py: the jobs have no worker to run them")
    found = STACKS[request.param]
    found.broker.check()
    return found


def test_digest_is_a_celery_task():
    """app/worker.py has a Celery app, and send_digest is one of its tasks."""
    try:
        from app.worker import send_digest
    except ModuleNotFoundError as error:
        pytest.fail(f"no Celery worker module yet: {error}")
    assert callable(getattr(send_digest, "delay", None)), "send_digest is a task"


def test_jobs_survive_the_web_server_and_run_in_the_worker(stack):
    """The welcome email and a digest accepted with 202 are sent by the worker,
    even when the web server is killed right after answering."""
    web = stack.web()
    with httpx.Client(base_url=stack.url, timeout=5) as client:
        assert client.post("/subscribers", json=ADA).status_code == 201
        response = client.post("/digests")
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    # the process killed here is the web server: SIGTERM, then SIGKILL at once
    web.kill(signal.SIGTERM)
    web.kill()  # SIGKILL
    web.process.wait(5)
    assert stack.job(job_id)["status"] != "done", "not done when the server died"

    worker = stack.worker()
    job = stack.wait_for_job(job_id, "done", "the worker has sent the digest")
    assert job["detail"] == "sent to 1 of 1 subscribers"
    sent = stack.wait_for_emails(ADA["email"], 2, "the welcome email is sent too")
    assert {e["subject"] for e in sent} == {
        "Welcome to the newsletter!",
        "Your newsletter digest",
    }

    def ran(task: str) -> bool:
        return any(f".{task}[" in x and "succeeded" in x for x in worker.lines)

    wait_until(lambda: ran("welcome") and ran("send_digest"), "the worker logs both")
