"""Step 7: a digest job the client can follow, and what happens on shutdown."""

import re
import sqlite3
import threading
import uuid
from contextlib import closing

from step_support import uncommitted, wait_for
from support.live import wait_until

ADA = {"email": "ada@example.com", "name": "Ada"}
BOUNCE = {"email": "nobody@bounce.example.com", "name": "Nobody"}
# what uvicorn logs when a shutdown waits for requests and their tasks to end
WAITING = re.compile(r"Waiting for (connections to close|background tasks)")


def job_status(server, location: str) -> str:
    response = server.get(location)
    assert response.status_code == 200, response.text
    return response.json()["status"]


def stored(settings, job_id: str) -> dict | None:
    """The job's row, read from the database file itself."""
    with closing(sqlite3.connect(settings.newsletter_db)) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
    return dict(row) if row else None


def not_followed(followed, opened: list[list[str]], job_id: str) -> str:
    """Why GET /jobs/{id} does not find the job POST /digests just returned."""
    said = f"GET /jobs/{{id}} of the new job answered {followed.status_code}"
    if uncommitted(opened, "INSERT INTO jobs"):
        return (
            f"{said}: the INSERT INTO jobs was never committed (its connection"
            " closed without a COMMIT): insert the row inside `with db:`"
        )
    if not any(sql.startswith("INSERT INTO jobs") for s in opened for sql in s):
        return (
            f"{said}: no INSERT INTO jobs ran: create the job's row in the"
            " path operation, before it adds the task"
        )
    return f"{said}: {followed.text}"


def not_running(status: str) -> str:
    """Why the job is not 'running' while its digest email waits at the mail
    server (the test holds it there)."""
    said = f"the job says {status!r} while its digest email is still being sent"
    if status in ("done", "failed"):
        return (
            f"{said}: set it 'running' when the task starts, and {status!r}"
            " only once the emails are sent"
        )
    return f"{said}: the task sets it 'running' first, _set_job(job_id, 'running')"


def start_digest(client) -> dict:
    """POST /digests: the job it answers with (202), else a failure that says why."""
    response = client.post("/digests")
    assert response.status_code == 202, (
        f"POST /digests answered {response.status_code} ({response.text[:120]}),"
        " not 202 with the job: an HTTPException raised after add_task drops the"
        " task too; decide before adding it"
    )
    return response.json()


def test_digest_is_accepted_as_a_job(client, settings, opened):
    """POST /digests answers 202 Accepted with a job id and a Location to follow."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    response = client.post("/digests")
    assert response.status_code == 202, (
        f"POST /digests answered {response.status_code}, not 202 Accepted: declare"
        " it with status_code=202 (the work is not done yet)"
    )
    job = response.json()
    assert job["status"] == "pending", "the job has not started when we answer"
    assert "location" in response.headers, (
        "no Location header: in the path operation, set"
        ' response.headers["Location"] = f"/jobs/{job_id}"'
    )
    assert response.headers["location"].endswith(f"/jobs/{job['id']}"), (
        f"the Location header is {response.headers['location']!r}: it points at"
        f" the job it answers with, /jobs/{job['id']}"
    )

    followed = client.get(f"/jobs/{job['id']}")
    assert followed.status_code == 200, not_followed(followed, opened, job["id"])
    status, detail = followed.json()["status"], followed.json().get("detail")
    assert status == "done", (
        f"GET /jobs/{{id}} says {status!r} (detail: {detail!r}) after the digest"
        " was sent: the task marks the job 'done' when it has sent every email"
        " (a status other than pending, running, done or failed breaks the jobs"
        " table's CHECK, see the server log)"
    )
    row = stored(settings, job["id"])
    assert row and row["status"] == "done", (
        f"the job is not in the database (its row: {row}, GET /jobs/{{id}} says"
        " 'done'): keep the jobs in the database, not in a Python dict (it"
        " survives a restart; any server process can answer GET /jobs/{id})"
    )
    digests = [e for e in client.get("/outbox").json() if "digest" in e["subject"]]
    sent_to = [e["recipient"] for e in digests]
    assert sent_to == [ADA["email"]], (
        f"the digest went to {sent_to}, not once to each subscriber ({ADA['email']})"
    )


def test_job_status_goes_from_running_to_done(live_server, mail_gate):
    """GET /jobs/{id} says running while the digest is sent, then done."""
    mail_gate.hold()  # nobody yet: let the welcome email through
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_until(lambda: live_server.emails_to(ADA["email"], "sent"), "welcome sent")

    mail_gate.hold(ADA["email"])
    response = live_server.post("/digests")
    assert response.status_code == 202, (
        f"POST /digests answered {response.status_code}, not 202 Accepted"
    )
    assert not mail_gate.sent_before_response, "the digest is sent in a task"
    location = response.headers["location"]
    wait_for(
        live_server,
        lambda: job_status(live_server, location) == "running",
        lambda: not_running(job_status(live_server, location)),
    )
    mail_gate.open()
    wait_until(lambda: job_status(live_server, location) == "done", "the job is done")


def test_failed_digest_is_reported(client):
    """A digest that could not be delivered ends as failed, with a detail."""
    assert client.post("/subscribers", json=BOUNCE).status_code == 201
    job = start_digest(client)
    followed = client.get(f"/jobs/{job['id']}").json()
    assert followed["status"] == "failed", (
        f"a digest whose email was refused ends {followed['status']!r}: catch"
        " MailError for each email in send_digest and mark the job 'failed' when"
        " one was refused"
    )
    assert followed["detail"], (
        "a failed job says why: give it a detail, such as 'sent to 0 of 1 subscribers'"
    )


def test_crashed_digest_is_reported_as_failed(settings, monkeypatch):
    """A digest that crashes (not only a refused email) ends failed, not running."""
    from fastapi.testclient import TestClient

    from app import mailer
    from app.main import app

    def crash(recipient: str, *args, **kwargs):
        raise RuntimeError("the mail server crashed")

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/subscribers", json=ADA).status_code == 201
        monkeypatch.setattr(mailer, "deliver", crash)
        job = start_digest(client)
        followed = client.get(f"/jobs/{job['id']}").json()
    assert followed["status"] != "running", (
        "the job stays 'running' for good after the digest crashed: in send_digest,"
        " catch any error (except Exception) and mark the job failed"
    )
    assert followed["status"] == "failed", followed
    assert followed["detail"], (
        "a failed job says why: give it a detail, such as 'sent to 0 of 1 subscribers'"
    )


def test_unknown_job_is_not_found(client):
    """GET /jobs/{id} answers 404 for a job that does not exist, 422 for a non-id."""
    job = start_digest(client)
    assert client.get(f"/jobs/{job['id']}").status_code == 200
    unknown = client.get(f"/jobs/{uuid.uuid4()}").status_code
    assert unknown == 404, (
        f"GET /jobs/{{id}} for a job that does not exist answered {unknown}:"
        " raise HTTPException(status_code=404) when no row has that id"
    )
    assert client.get("/jobs/not-a-job-id").status_code in (404, 422), (
        "GET /jobs/not-a-job-id: type the id (job_id: uuid.UUID) for a 422"
    )


def test_graceful_shutdown_lets_the_running_job_finish(
    live_server, mail_gate, caplog, client_factory
):
    """Stopping the server (Ctrl+C) waits for the running digest to finish."""
    mail_gate.hold()
    assert live_server.post("/subscribers", json=ADA).status_code == 201
    wait_until(lambda: live_server.emails_to(ADA["email"], "sent"), "welcome sent")
    mail_gate.hold(ADA["email"])
    location = live_server.post("/digests").headers["location"]
    wait_until(lambda: job_status(live_server, location) == "running", "job running")

    stopping = threading.Thread(target=live_server.stop)
    stopping.start()
    # a job run by the server's own tasks keeps it waiting; one run by a task
    # queue's worker (step 8) lets it stop at once, and goes on in the worker
    wait_until(
        lambda: WAITING.search(caplog.text) or not live_server.thread.is_alive(),
        "uvicorn says it waits for the running work",
    )
    mail_gate.open()
    stopping.join(10)
    assert not live_server.thread.is_alive(), "the server stopped after the job"

    with client_factory() as client:  # the same database, a new app instance
        wait_until(lambda: job_status(client, location) == "done", "the job is done")


# An upload: two new subscribers, a line that is not one, a duplicate of Ada.
SUBSCRIBERS_CSV = (
    "email,name\n"
    "grace@example.com,Grace\n"
    "not an email,Nobody\n"
    "ada@example.com,Ada again\n"
    "alan@example.com,Alan\n"
)


def job_after(server, location: str, status: str) -> dict | None:
    """The job at `location` once its status is no longer `status`, else None."""
    job = server.get(location).json()
    return job if job["status"] != status else None


def upload(text: str) -> dict:
    """The `files=` of a request that uploads `text` as subscribers.csv."""
    return {"file": ("subscribers.csv", text.encode(), "text/csv")}


def test_import_is_accepted_as_a_job(client):
    """POST /subscribers/import takes a CSV upload and answers 202 with a job;
    the job imports its rows and says which it refused."""
    assert client.post("/subscribers", json=ADA).status_code == 201
    response = client.post("/subscribers/import", files=upload(SUBSCRIBERS_CSV))
    assert response.status_code == 202, (
        f"POST /subscribers/import answered {response.status_code}, not 202: add"
        " it with status_code=202 and a parameter `file: UploadFile`"
        f" ({response.text[:200]})"
    )
    job = response.json()
    assert job["status"] == "pending", "the import has not started when we answer"
    assert response.headers.get("location", "").endswith(f"/jobs/{job['id']}"), (
        'no Location header: set response.headers["Location"] = f"/jobs/{job_id}"'
    )

    followed = client.get(f"/jobs/{job['id']}").json()
    assert followed["status"] == "done", (
        f"the import ended {followed['status']}: {followed['detail']}"
    )
    empty = followed["detail"].startswith("imported 0 of 0")
    assert followed["detail"].startswith("imported 2 of 4 rows"), (
        f"the job's detail is {followed['detail']!r}: it should start with"
        ' "imported 2 of 4 rows" and name the refused lines'
        + (
            " (the task found the file empty: did the path operation read it"
            " first? the task reads it from where the endpoint left off)"
            if empty
            else ""
        )
    )
    assert "line 3" in followed["detail"] and "line 4" in followed["detail"]
    emails = {s["email"] for s in client.get("/subscribers").json()}
    assert emails == {ADA["email"], "grace@example.com", "alan@example.com"}


def test_import_reads_the_upload_after_the_response(live_server, mail_gate):
    """On a real server, the upload is answered 202 first; the task then reads
    the file (still open) and welcomes each imported subscriber."""
    mail_gate.hold("grace@example.com")
    response = live_server.post(
        "/subscribers/import", files=upload("email,name\ngrace@example.com,Grace\n")
    )
    assert response.status_code == 202, response.text
    assert not mail_gate.sent_before_response, (
        "the import ran inside the request: add it with background_tasks.add_task"
    )
    location = response.headers["location"]
    job = wait_for(
        live_server,
        lambda: job_after(live_server, location, "pending"),
        "the import job never started: add_task(import_subscribers, job_id, file.file)",
    )
    assert job["status"] == "running", (
        f"the import ended {job['status']} before Grace's welcome email was sent:"
        f" {job['detail']}"
    )
    mail_gate.open()
    job = wait_for(
        live_server,
        lambda: job_after(live_server, location, "running"),
        "the import job stays running",
    )
    assert (job["status"], job["detail"]) == ("done", "imported 1 of 1 rows"), (
        f"the import ended {job['status']}: {job['detail']}"
    )
    assert live_server.emails_to("grace@example.com", "sent"), "Grace is welcomed"
