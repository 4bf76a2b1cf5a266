"""Step 8, the crash tier: the digest job runs in a Celery worker, a process
of its own (`workshop check 8 --crash`; test_step_8.py checks the same in seconds).

Real processes and real signals: the web server (uvicorn) and the worker are
started as the learner starts them, on the no-server default broker (an SQLite
file) and on Redis where one runs. Nothing here mocks the broker or the worker.
"""

from __future__ import annotations

import re
import signal
import time

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


def logged(process, text: str) -> bool:
    """Whether `process` prints `text` within 3 s (uvicorn logs an error only
    after the 500 is sent)."""
    deadline = time.monotonic() + 3
    while text not in process.output and time.monotonic() < deadline:
        time.sleep(0.01)
    return text in process.output


@pytest.fixture(params=["sqlite", "redis"])
def stack(request):
    """The web server and the worker on this broker (one pair per module)."""
    if request.param not in STACKS:
        pytest.fail("no app/worker.py: the jobs have no worker to run them")
    found = STACKS[request.param]
    found.broker.check()
    return found


def test_an_upload_is_stored_for_the_worker_and_deleted_after(stack):
    """POST /subscribers/import stores the uploaded file where the worker can
    read it and sends the worker its path; the worker imports it, then deletes it."""
    web = stack.web()
    stack.worker()
    csv = b"email,name\ngrace@example.com,Grace\n"
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        response = client.post(
            "/subscribers/import", files={"file": ("subscribers.csv", csv, "text/csv")}
        )
    if response.status_code == 500 and logged(web, "is not JSON serializable"):
        pytest.fail(
            "an UploadFile cannot go to .delay() (no message can carry it): write"
            " the upload to a file beside the database and pass the worker its path"
        )
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    job = stack.wait_for_job(job_id, "done", "the worker has imported the file")
    assert job["detail"] == "imported 1 of 1 rows", job
    stack.wait_for_emails("grace@example.com", 1, "the worker welcomes Grace")

    def stored() -> list[str]:  # the upload, stored under a name with the job id
        return [p.name for p in stack.db.parent.rglob(f"*{job_id}*")]

    wait_until(lambda: not stored(), "the worker has deleted the stored upload")


def test_jobs_survive_the_web_server_and_run_in_the_worker(stack):
    """The welcome email and a digest accepted with 202 are sent by the worker,
    even when the web server is killed right after answering."""
    web = stack.web()
    with httpx.Client(base_url=stack.url, timeout=15) as client:
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
    # to everyone: Ada, and Grace if the import test ran here first
    assert re.fullmatch(r"sent to (\d) of \1 subscribers", job["detail"]), job
    sent = stack.wait_for_emails(ADA["email"], 2, "the welcome email is sent too")
    assert {e["subject"] for e in sent} == {
        "Welcome to the newsletter!",
        "Your newsletter digest",
    }

    def ran(task: str) -> bool:
        return any(f".{task}[" in x and "succeeded" in x for x in worker.lines)

    wait_until(lambda: ran("welcome") and ran("send_digest"), "the worker logs both")
