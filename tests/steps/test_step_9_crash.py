"""Step 9: jobs that survive a crash, and never email anyone twice.

Real processes and real SIGKILLs, no mocks. Each test names the process it
kills:

- a pool process of a `prefork` worker, mid-job: with late acknowledgement
  and `task_reject_on_worker_lost` the job comes back at once and is done,
  and each subscriber gets one digest (on Redis and on the SQLite default,
  whose worker waits `worker_lost_wait` first: 1 s here, 10 s by default);
- the worker's main process, mid-job, on Redis: the message stays in Redis's
  "unacknowledged" set, and a new worker gets it after the visibility
  timeout; on the SQLite broker it is lost: its row stays taken;
- no kill: a greylisted address makes the job run again after a backoff,
  and a bounced one makes it fail, saying why;
- no kill either: a job longer than the visibility timeout, and a backlog
  larger than the worker's threads, where a job would run twice; deliveries
  are counted at the mail server (`Stack.deliveries`), not in the outbox;
- a broker that does not answer: the request says so (503), and its job is
  not left pending for ever.
"""

from __future__ import annotations

import os
import signal
import sys

import httpx
import pytest
from queue_support import pool_children_linux, start_stacks
from support.live import wait_until

ADA = {"email": "ada@example.com", "name": "Ada"}
BOB = {"email": "bob@example.com", "name": "Bob"}
DIGEST = "Your newsletter digest"
# Started now, at import: they boot while the suites of earlier steps run.
# A digest email takes the worker 1 s: long enough to kill it mid-job.
PREFORK = start_stacks("redis", "sqlite", worker_delay=1.0, pool="prefork", lost_wait=1)
THREADS = start_stacks("redis", "sqlite", worker_delay=1.0)
RETRIES = start_stacks("redis", worker_delay=0.2)
# A visibility timeout of 2 s, shorter than a digest of 12 (12 x 0.25 s): the
# job is given out again while it runs. A welcome job (two emails, 0.5 s) is
# shorter, unless it waits its turn in the worker's buffer. One stack for
# both tests: the digest's test comes first, so it has only its readers.
NO_CRASH = start_stacks("redis", worker_delay=0.25, visibility=2)
DOWN = start_stacks("dead")  # a broker URL where nothing answers
SILENT = start_stacks("silent")  # a broker that takes connections, says nothing
# the worker's visibility timeout (10 s), a second for its restore sweep,
# a new worker's start and the job itself
REDELIVERY_LIMIT = 25.0


@pytest.fixture(scope="module", autouse=True)
def _stop_the_stacks():
    """Every process started above ends with this module's tests."""
    yield
    for stacks in (PREFORK, THREADS, RETRIES, NO_CRASH, DOWN, SILENT):
        for started in stacks.values():
            started.close()


def _stack(stacks: dict, kind: str):
    if kind not in stacks:
        pytest.fail("no app/worker.py: the jobs have no worker to run them")
    found = stacks[kind]
    found.broker.check()
    return found


def _digest_mid_job(stack) -> str:
    """Ada and Bob are subscribers; a digest starts. Returns once Ada's digest
    is sent and Bob's is being sent: the job is half done."""
    stack.worker()
    for person in (ADA, BOB):
        stack.add_subscriber(person["email"], person["name"])
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        response = client.post("/digests")
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]

    def half_done() -> bool:
        ada = [e["status"] for e in stack.outbox(ADA["email"], DIGEST)]
        bob = [e["status"] for e in stack.outbox(BOB["email"], DIGEST)]
        return "sent" in ada and bool(bob) and "sent" not in bob

    wait_until(half_done, "Ada's digest is sent, Bob's is on its way", timeout=8)
    return job_id


def _one_digest_each(stack, job_id: str) -> None:
    job = stack.job(job_id)
    assert job["detail"] == "sent to 2 of 2 subscribers", job
    for person in (ADA, BOB):
        emails = stack.outbox(person["email"], DIGEST)
        assert [e["status"] for e in emails] == ["sent"], (
            f"{person['email']} must get exactly one digest, got {emails}"
        )


@pytest.mark.skipif(sys.platform != "linux", reason="finds the pool through /proc")
@pytest.mark.time_limit(30)
@pytest.mark.parametrize("kind", ["redis", "sqlite"])
def test_a_job_whose_pool_process_is_killed_comes_back(kind):
    """A digest whose worker process is killed mid-job is done anyway, and each
    subscriber gets one digest (SIGKILL to the pool process of a prefork worker)."""
    stack = _stack(PREFORK, kind)
    worker = stack.worker()
    job_id = _digest_mid_job(stack)

    # the process killed here is the worker's pool process, running the job
    children = pool_children_linux(worker.process.pid)
    assert children, "the prefork worker has a pool process"
    for child in children:
        os.kill(child, signal.SIGKILL)

    # the worker's main process sees that its pool process died (on SQLite,
    # after worker_lost_wait) and (reject_on_worker_lost) hands the job back
    stack.wait_for_job(job_id, "done", "the job came back and is done", limit=10)
    _one_digest_each(stack, job_id)


@pytest.mark.time_limit(45)
def test_a_job_whose_worker_is_killed_comes_back_on_redis():
    """On Redis, a digest whose worker is killed mid-job is done by the next
    worker after the visibility timeout, one digest each (SIGKILL to the
    worker's main process, threads pool)."""
    stack = _stack(THREADS, "redis")
    worker = stack.worker()
    job_id = _digest_mid_job(stack)

    # the process killed here is the worker itself: its main process
    worker.kill()  # SIGKILL
    worker.process.wait(5)
    assert stack.job(job_id)["status"] == "running", "half done when it died"

    stack.start_worker()  # a new worker, as a supervisor would start one
    what = "a new worker got the job back after the visibility timeout"
    stack.wait_for_job(job_id, "done", what, limit=REDELIVERY_LIMIT)
    _one_digest_each(stack, job_id)


@pytest.mark.time_limit(20)
def test_a_job_whose_worker_is_killed_is_lost_on_the_sqlite_broker():
    """On the SQLite broker, a digest whose worker is killed mid-job is lost:
    its message stays marked as taken, where no other worker will look (SIGKILL
    to the worker's main process, threads pool)."""
    stack = _stack(THREADS, "sqlite")
    worker = stack.worker()
    job_id = _digest_mid_job(stack)
    worker.kill()  # SIGKILL
    worker.process.wait(5)
    assert stack.job(job_id)["status"] == "running", "half done when it died"
    messages = stack.broker_messages()
    assert messages, "the digest's message is in the broker's table"
    assert all(not m["visible"] for m in messages), (
        f"a message no worker holds any more is still taken: {messages}"
    )


@pytest.mark.time_limit(20)
def test_a_greylisted_address_is_retried_and_a_bounced_one_fails_the_job():
    """A digest refused once (greylisted) is sent again after a pause and gets
    through; a bounced address fails the job, which says who and why."""
    stack = _stack(RETRIES, "redis")
    worker = stack.worker()
    grey, bounce = "grey@greylist.example.com", "nobody@bounce.example.com"
    stack.add_subscriber(grey, "Grey")  # imported: no welcome email tried it
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        first = client.post("/digests").json()["id"]
        job = stack.wait_for_job(first, "done", "the greylisted digest got through")
        assert any("Retry in 1s" in line for line in worker.lines), (
            "the job ran again after a pause (autoretry_for, retry_backoff)"
        )
        assert [e["status"] for e in stack.outbox(grey, DIGEST)] == ["sent"]

        stack.add_subscriber(bounce, "Nobody")
        second = client.post("/digests").json()["id"]
        job = stack.wait_for_job(second, "failed", "the bounced digest fails")
    assert bounce in job["detail"] and "550" in job["detail"], job["detail"]


def _runs(worker, task: str) -> int:
    mark = f"Task app.worker.{task}["
    return sum(mark in line and line.endswith("] received") for line in worker.lines)


def _each_once(stack, emails: list[str], what: str, fix: str) -> None:
    delivered = stack.deliveries()
    twice = {e: delivered.count(e) for e in emails if delivered.count(e) != 1}
    assert not twice, f"{what}: {twice} emails (the mail server's count); {fix}"


@pytest.mark.time_limit(20)
def test_a_digest_longer_than_the_visibility_timeout_sends_each_email_once():
    """A digest that outlasts the visibility timeout is given to a second
    thread while the first still runs it (no crash); each subscriber still
    gets exactly one digest, counted at the mail server."""
    stack = _stack(NO_CRASH, "redis")
    worker = stack.worker()
    readers = [f"reader{n}@example.com" for n in range(12)]
    for email in readers:
        stack.add_subscriber(email, "Reader")
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        job_id = client.post("/digests").json()["id"]
    stack.wait_for_job(job_id, "done", "the digest is done", limit=15)
    wait_until(stack.quiet, "no run of the digest is left", timeout=10)
    assert _runs(worker, "send_digest") >= 2, (
        "the digest ran once: it should outlast the 2 s visibility timeout "
        "given to this test, and run a second time (unacked_restore_interval?)"
    )
    _each_once(
        stack,
        readers,
        "two runs of one digest both sent",
        "claim each email with one atomic statement before sending it "
        "(send_email_once: INSERT ... ON CONFLICT DO UPDATE ... WHERE ... "
        "RETURNING), and send only what you claimed",
    )


@pytest.mark.time_limit(20)
def test_a_backlog_sends_one_welcome_per_signup():
    """24 signups at once on a worker with four threads: each gets one
    welcome email, though jobs wait their turn (no crash)."""
    stack = _stack(NO_CRASH, "redis")
    stack.worker()
    signups = [f"signup{n}@example.com" for n in range(24)]
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        for email in signups:
            response = client.post("/subscribers", json={"email": email, "name": "S"})
            assert response.status_code == 201, response.text
    welcomed = lambda: set(signups) <= set(stack.deliveries())  # noqa: E731
    wait_until(welcomed, "every signup got a welcome", timeout=12)
    wait_until(stack.quiet, "no welcome job is left", timeout=10)
    _each_once(
        stack,
        signups,
        "welcome jobs ran twice",
        "a job that waits in the worker's buffer counts against the "
        "visibility timeout: set celery.conf.worker_prefetch_multiplier = 1",
    )


@pytest.mark.time_limit(20)
def test_a_broker_that_does_not_answer_fails_the_job_with_a_503():
    """With the broker down, POST /digests answers 503, and the job it wrote
    is failed, saying why, instead of pending for ever."""
    stack = _stack(DOWN, "dead")
    stack.web()
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        response = client.post("/digests")
    assert response.status_code == 503, (
        f"POST /digests with the broker down answered {response.status_code}: "
        "catch kombu's OperationalError around .delay() and raise "
        "HTTPException(503, ...)"
    )
    jobs = stack.jobs()
    assert jobs, "the job row is written before the message is sent"
    assert all(job["status"] == "failed" for job in jobs), (
        f"jobs left behind: {jobs}; mark the job failed when .delay() fails"
    )


@pytest.mark.time_limit(20)
def test_an_import_the_broker_never_got_is_failed_and_its_upload_deleted():
    """With the broker down, POST /subscribers/import answers 503 too; its job
    is failed and the upload it stored for the worker is deleted."""
    stack = _stack(DOWN, "dead")
    stack.web()
    before = {job["id"] for job in stack.jobs()}
    csv = {"file": ("subscribers.csv", b"email,name\nbob@example.com,Bob\n")}
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        response = client.post("/subscribers/import", files=csv)
    assert response.status_code == 503, (
        f"POST /subscribers/import with the broker down answered"
        f" {response.status_code}: catch OperationalError around .delay() as in"
        " start_digest"
    )
    [job] = [job for job in stack.jobs() if job["id"] not in before]
    assert job["status"] == "failed", f"mark the job failed when .delay() fails: {job}"
    stored = [p.name for p in stack.db.parent.rglob(f"*{job['id']}*")]
    assert not stored, f"no worker will delete {stored}: delete it before the 503"


@pytest.mark.time_limit(20)
def test_a_broker_that_never_answers_fails_the_job_with_a_503_in_seconds():
    """A Redis that takes the connection and never answers: POST /digests
    still answers, 503 within seconds (socket_timeout), and its job is failed
    with the reason, instead of a request that hangs for ever."""
    stack = _stack(SILENT, "silent")
    stack.web()
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        try:
            response = client.post("/digests")
        except httpx.TimeoutException:
            pytest.fail(
                "POST /digests got no answer in 10 s with a broker that never"
                " answers: set broker_transport_options socket_timeout on Redis"
            )
    assert response.status_code == 503, response.text
    [job] = stack.jobs()
    assert job["status"] == "failed" and job["detail"], job
