"""Step 9: jobs that survive a crash, and never email anyone twice.

The app's own Celery app and tasks, in seconds:

- the settings that bring a job back after a crash, read from the task
  objects and the Celery app as a worker would read them (late
  acknowledgement, reject on worker lost, prefetch of one, Redis's
  visibility timeout);
- two runs of one digest at the same time, as a redelivery beside a slow run
  makes them: the mail server counts each email once;
- a greylisted address retried by Celery after a pause, a bounced one failing
  the job (the in-process worker of queue_support.run_queued_jobs_here);
- a broker that refuses the connection: POST /digests answers 503 and its job
  is failed, not pending for ever.

Every row of the guide's crash table, with real processes and real SIGKILLs,
is test_step_9_crash.py (`workshop check 9 --crash`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import pytest
from queue_support import worker_conf_on
from step_support import uncommitted_or

ADA = {"email": "ada@example.com", "name": "Ada"}
DIGEST = "Your newsletter digest"
# a Redis job taken by a worker that died comes back within this many seconds
# (test_step_9_crash.py waits 25 s for it, a new worker's start included)
REDELIVERY_LIMIT = 20.0


def _tasks() -> list:
    """The app's own tasks, as its Celery app registered them."""
    from workshop.checks.worker_app import worker_app

    tasks = worker_app().tasks
    return [tasks[name] for name in sorted(tasks) if not name.startswith("celery.")]


def test_a_job_is_acknowledged_once_done_not_when_it_starts():
    """Every task is acknowledged late: a worker that dies mid-job leaves its
    message in the broker, and another worker runs the job again."""
    early = [task.name for task in _tasks() if not task.acks_late]
    assert not early, (
        "set celery.conf.task_acks_late = True: a job whose worker dies mid-job"
        f" is lost, acknowledged when it started ({', '.join(early)})"
    )


def test_a_job_whose_pool_process_dies_is_handed_back():
    """Every task is rejected (given back to the broker) when the pool process
    running it dies, instead of being marked failed."""
    kept = [task.name for task in _tasks() if not task.reject_on_worker_lost]
    assert not kept, (
        "set celery.conf.task_reject_on_worker_lost = True: a job whose pool"
        " process is killed is acknowledged as failed and never runs again"
        f" ({', '.join(kept)})"
    )


def test_the_worker_takes_one_job_per_free_thread():
    """No job waits in the worker's buffer, where its visibility clock runs."""
    from workshop.checks.worker_app import worker_app

    prefetch = worker_app().conf.worker_prefetch_multiplier
    assert prefetch == 1, (
        "set celery.conf.worker_prefetch_multiplier = 1: at"
        f" {prefetch}, a backlog waits in the worker's buffer, already taken from"
        " the broker, and a job that waits past the visibility timeout runs twice"
    )


def test_on_redis_a_job_taken_by_a_dead_worker_comes_back_in_seconds(
    settings, monkeypatch
):
    """With a Redis broker, a job taken and never acknowledged goes back to the
    queue after the visibility timeout, looked for every few seconds."""
    conf = worker_conf_on("redis://127.0.0.1:6379/0", settings, monkeypatch)
    options = conf.broker_transport_options or {}
    visibility = options.get("visibility_timeout", 3600)
    sweep = options.get("unacked_restore_interval", 10) * options.get(
        "unacked_restore_throttle", 10
    )
    assert visibility + sweep <= REDELIVERY_LIMIT, (
        f"on Redis, a job whose worker died comes back after {visibility:g} s"
        f" (visibility_timeout) plus up to {sweep:g} s (unacked_restore_interval"
        " x unacked_restore_throttle): set broker_transport_options ="
        ' {"visibility_timeout": 10, "unacked_restore_interval": 1,'
        ' "unacked_restore_throttle": 1} when the broker is Redis'
    )


def _insert(settings, sql: str, rows: list[tuple]) -> None:
    with contextlib.closing(sqlite3.connect(settings.newsletter_db)) as db, db:
        db.executemany(sql, rows)


@pytest.fixture
def deliveries(settings, monkeypatch) -> list[str]:
    """Every recipient the pretend mail server accepted an email for, counted
    by the server (not read from the outbox, which has one row per email)."""
    from app import mailer

    accepted: list[str] = []
    deliver = mailer.deliver

    def counted(recipient: str) -> None:
        deliver(recipient)  # raises when the server refuses: not counted
        accepted.append(recipient)

    monkeypatch.setattr(mailer, "deliver", counted)
    return accepted


def test_two_runs_of_one_digest_send_each_email_once(
    client, settings, monkeypatch, deliveries
):
    """Two runs of one digest at the same time (a job given out again while it
    runs: its visibility timeout ran out, no crash): each subscriber gets one
    digest, counted at the mail server."""
    from app.worker import send_digest

    readers = [f"reader{n}@example.com" for n in range(3)]
    _insert(
        settings,
        "INSERT INTO subscribers (email, name) VALUES (?, ?)",
        [(email, "Reader") for email in readers],
    )
    job_id = "00000000-0000-4000-8000-000000000009"
    _insert(
        settings, "INSERT INTO jobs (id, status) VALUES (?, 'pending')", [(job_id,)]
    )
    monkeypatch.setattr(settings, "mail_delay", 0.03)  # both runs mid-email at once
    # the task as the worker runs it, twice at once (here, without the broker)
    runs = [threading.Thread(target=send_digest, args=(job_id,)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(10)
    twice = [e for e in readers if deliveries.count(e) > 1]
    assert not twice, (
        "claim each email with one atomic statement before sending it"
        " (send_email_once: INSERT ... ON CONFLICT DO UPDATE ... WHERE ..."
        f" RETURNING) and send only what you claimed: two runs of one digest"
        f" both sent to {len(twice)} of {len(readers)} readers (the mail"
        f" server's count: {sorted(deliveries)})"
    )
    assert client.get(f"/jobs/{job_id}").json()["status"] == "done"


@pytest.fixture
def quick_backoff(monkeypatch) -> list[float]:
    """Celery's retry pauses, as the task's settings make them; the worker
    here waits a twentieth of each (the pause is a setting, not the lesson)."""
    from celery.app import autoretry

    asked: list[float] = []
    backoff = autoretry.get_exponential_backoff_interval

    def shortened(*args, **kwargs) -> float:
        asked.append(backoff(*args, **kwargs))
        return asked[-1] / 20

    monkeypatch.setattr(autoretry, "get_exponential_backoff_interval", shortened)
    return asked


@pytest.fixture
def catches():
    """The exceptions the app's tasks took in an `except` and kept, while this
    test's jobs ran (traced in the worker's thread, from each job's start)."""
    from celery.signals import task_postrun, task_prerun
    from except_trace import Catches

    import app

    seen = Catches(Path(app.__file__).parent)

    def start(**_) -> None:
        seen.start()

    def stop(**_) -> None:
        seen.stop()

    task_prerun.connect(start, weak=False)
    task_postrun.connect(stop, weak=False)
    try:
        yield seen
    finally:
        task_prerun.disconnect(start)
        task_postrun.disconnect(stop)


def test_a_greylisted_address_is_retried_after_a_pause(
    client, settings, worker_log, quick_backoff, catches
):
    """A digest refused for now (451, greylisted) runs again after a pause and
    gets through: Celery retries it (autoretry_for, retry_backoff)."""
    grey = "grey@greylist.example.com"
    _insert(
        settings, "INSERT INTO subscribers (email, name) VALUES (?, ?)", [(grey, "G")]
    )
    job_id = client.post("/digests").json()["id"]
    job = client.get(f"/jobs/{job_id}").json()
    sent = [e for e in client.get("/outbox").json() if e["recipient"] == grey]
    from app import mailer

    kind = getattr(mailer, "TryLater", None)
    kept = kind and catches.kept_where(kind)
    assert worker_log.retried, (
        (
            f"Celery never retried the digest: {kept} (autoretry_for=(TryLater,)"
            f" sees only what leaves the task); the job ended {job['status']}"
        )
        if kept
        else (
            "Celery never retried the digest: re-raise the TryLater (`raise`) so"
            " that autoretry_for=(TryLater,) runs the job again after a pause; the"
            f" job ended {job['status']}: {job['detail']}"
        )
    )
    # no backoff asked for: Celery's own pause (default_retry_delay, 180 s),
    # which the worker here holds rather than wait out
    held = [seconds for _, seconds in worker_log.held]
    pauses = quick_backoff or held
    source = "" if quick_backoff else " (the task has no retry_backoff)"
    assert quick_backoff and min(quick_backoff) >= 1, (
        f"retried after {pauses} s{source}: give it a pause, retry_backoff=1"
    )
    assert job["status"] == "done", job
    assert [e["status"] for e in sent] == ["sent"], sent


def test_a_bounced_address_fails_the_job_saying_who_and_why(client, settings):
    """A bounced address (550) is not retried: the job fails, and its detail
    names the address and the server's answer."""
    bounce = "nobody@bounce.example.com"
    _insert(
        settings, "INSERT INTO subscribers (email, name) VALUES (?, ?)", [(bounce, "N")]
    )
    job_id = client.post("/digests").json()["id"]
    job = client.get(f"/jobs/{job_id}").json()
    assert job["status"] == "failed", job
    assert bounce in job["detail"] and "550" in job["detail"], job["detail"]


@contextlib.contextmanager
def _publishing_to(url: str):
    """The app's messages go to `url` (the worker here keeps its own
    connection): kombu really connects there (and retries once: its own
    retries, about 1 s in all, are a setting, not the lesson; the crash tier
    keeps them, test_step_9_crash.py)."""
    from workshop.checks.worker_app import worker_app

    celery = worker_app()
    conf = celery.conf
    before = conf.broker_url, conf.broker_write_url, conf.task_publish_retry_policy
    conf.broker_url = conf.broker_write_url = url
    conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0}
    _reconnect(celery)
    try:
        yield
    finally:
        conf.broker_url, conf.broker_write_url, conf.task_publish_retry_policy = before
        _reconnect(celery)


def _reconnect(celery) -> None:
    """Forget the connections and the sender Celery made with the old settings
    (the sender keeps the retry policy it was made with)."""
    celery._pool, celery.amqp._producer_pool = None, None
    celery.amqp.__dict__.pop("send_task_message", None)


def test_a_broker_that_refuses_fails_the_job_with_a_503(client, settings, opened):
    """With the broker down, POST /digests answers 503, and the job it wrote
    is failed, saying why, instead of pending for ever."""
    fix = (
        "catch kombu's OperationalError around .delay(), mark the job failed and"
        " raise HTTPException(503, ...)"
    )
    # port 1: nothing listens there (binding it takes root), so the
    # connection is refused, and the message is the same in every run
    with _publishing_to("redis://127.0.0.1:1/0"):
        try:
            response = client.post("/digests")
        except Exception as error:
            name = type(error).__name__
            message = f"POST /digests with the broker down: {name}; {fix}"
            raise AssertionError(message) from None
    assert response.status_code == 503, (
        f"POST /digests with the broker down answered {response.status_code}: {fix}"
    )
    with contextlib.closing(sqlite3.connect(settings.newsletter_db)) as db:
        jobs = db.execute("SELECT status, detail FROM jobs").fetchall()
    fix = "mark the job failed when .delay() fails"
    assert jobs and all(status == "failed" for status, _ in jobs), (
        f"jobs left behind: {jobs}; {uncommitted_or(opened, 'UPDATE jobs', fix)}"
    )


def test_an_import_the_broker_never_got_is_failed_and_its_upload_deleted(
    client, settings, opened
):
    """With the broker down, POST /subscribers/import answers 503 too; its job
    is failed and the upload it stored for the worker is deleted."""
    fix = "catch OperationalError around .delay() as in start_digest"
    csv = {"file": ("subscribers.csv", b"email,name\nbob@example.com,Bob\n")}
    with _publishing_to("redis://127.0.0.1:1/0"):
        try:
            response = client.post("/subscribers/import", files=csv)
        except Exception as error:
            name = type(error).__name__
            message = f"POST /subscribers/import with the broker down: {name}; {fix}"
            raise AssertionError(message) from None
    assert response.status_code == 503, (
        f"POST /subscribers/import with the broker down answered"
        f" {response.status_code}: {fix}"
    )
    with contextlib.closing(sqlite3.connect(settings.newsletter_db)) as db:
        [(job_id, status)] = db.execute("SELECT id, status FROM jobs").fetchall()
    fix = "mark the job failed when .delay() fails"
    assert status == "failed", (
        f"the job is {status}: {uncommitted_or(opened, 'UPDATE jobs', fix)}"
    )
    stored = [p.name for p in settings.newsletter_db.parent.rglob(f"*{job_id}*")]
    assert not stored, (
        "delete the stored upload before the 503: no worker will (left beside"
        f" the database: {len(stored)} file)"
    )
