"""Step 8: the jobs leave the web process; a Celery worker runs them.

The app's own Celery app and tasks, in seconds: requests go through FastAPI's
TestClient, and every job through a real Celery worker running in this
process (queue_support.run_queued_jobs_here), on an in-memory broker that
encodes each message as a broker would carry it. `worker_log` names the
messages sent and the jobs the worker ran.

The same jobs with the web server and the worker as real processes, the web
server killed for real: test_step_8_crash.py (`workshop check 8 --crash`).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from types import ModuleType

from queue_support import APP_DIR, worker_conf_on

ADA = {"email": "ada@example.com", "name": "Ada"}


def _named(names: list[str], task: str) -> list[str]:
    return [name for name in names if name.rpartition(".")[2] == task]


def _unknown_to_a_worker(names: list[str], db: Path) -> list[str]:
    """The tasks among `names` that a worker started as `celery -A app.worker`
    does not know: it imports app/worker.py (and the modules its Celery app
    lists in include or imports), never app.main. Asked of a new Python
    process (its database: `db`), as the worker would import them, when the
    names do not show it."""
    import app.worker
    from workshop.checks.worker_app import worker_app

    conf = worker_app().conf
    seen = {"app.worker", *(conf.include or ()), *(conf.imports or ())}
    for value in vars(app.worker).values():
        seen.add(value.__name__ if isinstance(value, ModuleType) else None)
        seen.add(getattr(value, "__module__", None))
    unsure = [name for name in set(names) if name.rpartition(".")[0] not in seen]
    if not unsure:
        return []
    known = subprocess.run(
        [sys.executable, "-c", WORKER_TASKS],
        cwd=APP_DIR,
        env={**os.environ, "NEWSLETTER_DB": str(db)},
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout.split()
    return [name for name in unsure if name not in known]


WORKER_TASKS = """\
from workshop.checks.worker_app import worker_app
app = worker_app()
app.loader.import_default_modules()
print(*app.tasks)
"""


def test_jobs_are_sent_to_the_worker_and_run_there(client, settings, worker_log):
    """POST /subscribers and POST /digests each send the worker a message and
    answer; the worker runs the welcome job and the digest job."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    assert _named(worker_log.published, "welcome"), (
        "POST /subscribers sent the worker no message: call welcome.delay(...)"
        " with the subscriber's id, email and name"
    )
    response = client.post("/digests")
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    if not _named(worker_log.published, "send_digest"):
        status = client.get(f"/jobs/{job_id}").json()["status"]
        raise AssertionError(
            f"POST /digests sent no message and its job was {status!r}:"
            " send_digest(job_id) ran it in the web process; send it to the"
            " worker with send_digest.delay(job_id)"
        )
    for name in _unknown_to_a_worker(worker_log.published, settings.newsletter_db):
        module, _, task = name.rpartition(".")
        raise AssertionError(
            f"define {task} in app/worker.py: a worker started with `celery -A"
            f" app.worker` never imports {module}, where it is, and would log"
            f" 'Received unregistered task of type {name!r}'"
        )
    assert _named(worker_log.ran, "send_digest"), "the worker ran the digest job"
    job = client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "done", job
    assert job["detail"] == "sent to 1 of 1 subscribers", job
    subjects = {e["subject"] for e in client.get("/outbox").json()}
    assert "New subscriber" in subjects, (
        "the worker's welcome job sent the admin no notice: notify_admin is an"
        " async def, and welcome() a plain def where calling it only makes a"
        " coroutine that was never awaited; run it: asyncio.run(...)"
    )
    expected = {"Welcome to the newsletter!", "Your newsletter digest"}
    assert subjects >= expected, worker_log.disagreement() or (
        f"the outbox has the subjects {sorted(subjects)}, {sorted(expected)} expected"
    )


def test_the_job_row_is_committed_before_its_message_is_sent(client, settings):
    """POST /digests commits the job's row before send_digest.delay(job_id): a
    worker may take the message at once, and must find the job."""
    from celery.signals import before_task_publish

    committed: list[bool] = []

    def look(sender=None, body=None, **_) -> None:
        if str(sender).endswith("send_digest"):
            job_id = body[0][0]  # Celery's message: (args, kwargs, embed)
            with closing(sqlite3.connect(settings.newsletter_db, timeout=2)) as db:
                row = db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,))
                committed.append(row.fetchone() is not None)

    assert client.post("/subscribers", json=ADA).status_code == 201
    before_task_publish.connect(look, weak=False)
    try:
        assert client.post("/digests").status_code == 202
    finally:
        before_task_publish.disconnect(look)
    assert committed, "POST /digests sent the worker no send_digest message"
    assert all(committed), (
        "send_digest.delay(job_id) went out before the job's row was committed:"
        " a worker that takes it at once finds no job; call .delay() after the"
        " `with db:` block"
    )


def test_an_upload_is_stored_for_the_worker_and_deleted_after(
    client, settings, worker_log
):
    """POST /subscribers/import stores the uploaded file where the worker can
    read it and sends the worker its path; the worker imports it, then deletes it."""
    csv = b"email,name\ngrace@example.com,Grace\n"
    files = {"file": ("subscribers.csv", csv, "text/csv")}
    response = client.post("/subscribers/import", files=files)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    assert _named(worker_log.ran, "import_subscribers"), (
        "the worker ran no import job: call import_subscribers.delay(job_id, path)"
    )
    job = client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "done", job
    assert job["detail"] == "imported 1 of 1 rows", job
    welcomed = [e for e in client.get("/outbox").json() if "grace" in e["recipient"]]
    assert [e["status"] for e in welcomed] == ["sent"], "the worker welcomes Grace"
    stored = [p.name for p in settings.newsletter_db.parent.rglob(f"*{job_id}*")]
    assert not stored, f"the worker deletes the stored upload once imported: {stored}"


def test_on_redis_a_broker_that_never_answers_cannot_hold_a_request(
    settings, monkeypatch
):
    """With a Redis broker, .delay() gives up on a broker that takes the
    connection and never answers (kombu waits for ever by default)."""
    conf = worker_conf_on("redis://127.0.0.1:6379/0", settings, monkeypatch)
    timeout = (conf.broker_transport_options or {}).get("socket_timeout")
    assert timeout and timeout <= 5, (
        "when the broker URL starts with redis, set"
        ' broker_transport_options = {"socket_timeout": 2}: a Redis that never'
        f" answers holds .delay(), and the request, for ever (now: {timeout})"
    )
