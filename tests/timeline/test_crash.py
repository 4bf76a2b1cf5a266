"""Step 9's crash demo on the timeline: the killed run, then the redelivery.

Checkpoint 9 served with the timeline on Redis (its keys under a prefix of
its own, as tests/steps/queue_support.py does), its worker
started as `workshop worker` starts it. The worker is killed (SIGKILL to its
whole group) once the timeline shows the digest running, and a second one is
started: after the visibility timeout it runs the job again. The row of
POST /digests then shows both runs, and says so. Without Redis: skipped
(the SQLite broker loses the job, as the step's guide says).

The visibility timeout is 5 s here (WORKSHOP_VISIBILITY, which
workshop/queueboot.py applies to the worker), not the app's 10 s: what this
shows is the timeline's reading of a redelivery, not when it comes.
tests/steps/test_step_9.py proves the app's own value, and
tests/steps/test_step_9_crash.py a redelivery with it. 5 s stays above the
digest's own run (4 emails of 0.5 s), so the job comes back once, not twice.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from timeline_support import DELAY, POLL, WORKER_WAIT, Step8, call, kind, steps

from workshop.bench.queue import redis_namespace
from workshop.errors import WorkshopError

VISIBILITY = 5.0  # seconds: the redelivery's wait (the app's own is 10 s)


@pytest.fixture
def redis_broker() -> Iterator[dict[str, str]]:
    """Redis, with every key this test's processes write under a prefix of its
    own (the bench's namespace: workshop/queueboot.py applies it); only those
    keys are deleted afterwards."""
    pytest.importorskip("redis")
    try:
        with redis_namespace() as broker:
            yield broker
    except WorkshopError as error:  # no Redis answers
        if os.environ.get("REDIS_URL"):
            pytest.fail(f"{error} (REDIS_URL is set)")
        pytest.skip(str(error))


def digest_row(url: str, step9: Step8, wanted: str) -> dict:
    deadline = time.monotonic() + WORKER_WAIT
    while True:
        rows = call(f"{url}/_workshop/timeline.json")["requests"]
        rows = [r for r in rows if r["path"] == "/digests"]
        bars = [b for r in rows for b in kind(r, "worker")]
        if bars and bars[0]["status"] == wanted:
            return rows[0]
        if time.monotonic() > deadline:
            raise AssertionError(
                f"no {wanted!r} worker bar: {rows}\n{step9.worker_log()}"
            )
        time.sleep(POLL)


def crash_demo(step9: Step8) -> tuple[dict, dict, list[str]]:
    """Step 9's demo: 4 subscribers, a digest, its worker killed once the
    timeline shows it running, a second worker; the row once it is done."""
    step9.start()
    addresses = [f"s{n}-{uuid.uuid4().hex[:8]}@example.com" for n in range(4)]
    for address in addresses:
        step9.add_subscriber(address)
    step9.start_worker()
    job = call(f"{step9.url}/digests", "POST")
    digest_row(step9.url, step9, "running")
    step9.kill_worker()  # mid-job: 4 emails take at least 2 s
    step9.start_worker()
    return job, digest_row(step9.url, step9, "done"), addresses


def assert_both_runs(job: dict, row: dict, addresses: list[str]) -> None:
    (bar,) = kind(row, "worker")
    assert [p[0] for p in bar["phases"]] == ["queued", "lost", "running", "done"]
    assert "send_digest was delivered again (1 run never finished" in row["reading"]
    assert "waits for a worker" not in row["reading"]
    (job_bar,) = kind(row, "job")
    assert job_bar["name"] == f"job {job['id'][:8]}"
    assert job_bar["status"] == "done"
    sent = sorted(e["name"] for e in kind(row, "email") if e["status"] == "sent")
    assert sent == sorted(f"email to {a}" for a in addresses), row


@pytest.mark.skipif(9 not in steps(), reason="no checkpoint 9")
def test_a_killed_digest_shows_its_lost_run_and_its_redelivery(redis_broker) -> None:
    broker = {**redis_broker, "WORKSHOP_VISIBILITY": f"{VISIBILITY:g}"}
    step9 = Step8(max(DELAY, 0.5), step=9, broker=broker)
    try:
        assert_both_runs(*crash_demo(step9))
    finally:
        step9.stop()
