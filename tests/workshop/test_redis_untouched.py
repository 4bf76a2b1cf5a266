"""The step suites and the bench never touch Redis data they did not write.

A key is put in every Redis database (0 to 15) before a real suite run on
Redis and a real bench run, and each must still be there afterwards, with
none of the run's own keys left behind. Redis is the machine's own (shared):
this test writes only its sentinels, and deletes only those.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
DATABASES = range(16)


@pytest.fixture
def sentinels():
    """A key of this test's in every database; yields their name."""
    redis = pytest.importorskip("redis")
    base = REDIS_URL.rsplit("/", 1)[0]
    name = f"workshop-sentinel-{uuid.uuid4().hex}"
    clients = [redis.Redis.from_url(f"{base}/{n}", socket_timeout=2) for n in DATABASES]
    try:
        for client in clients:
            client.set(name, "keep me", ex=600)
    except redis.RedisError as error:
        if os.environ.get("REDIS_URL"):
            pytest.fail(f"Redis at {REDIS_URL}: {error} (REDIS_URL is set)")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    yield name, clients
    for client in clients:
        client.delete(name)
        client.close()


def _still_there(name: str, clients: list) -> None:
    missing = [n for n, c in zip(DATABASES, clients, strict=True) if not c.get(name)]
    assert not missing, f"databases whose data was deleted: {missing}"


def test_a_step_suite_on_redis_leaves_other_data_alone(sentinels):
    """A crash-tier test on Redis: its web server and worker, started through
    queue_support's Stack as every crash test's are, write and delete keys.
    Step 8's tier, whose module starts two stacks (SQLite, Redis); step 9's
    starts eight at import, for any one of its tests: 10 s, not 4."""
    name, clients = sentinels
    test = "tests/steps/test_step_8_crash.py::" + (
        "test_jobs_survive_the_web_server_and_run_in_the_worker[redis]"
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=ROOT,
        env={**os.environ, "WORKSHOP_APP_DIR": str(ROOT / "checkpoints/step-8")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert "1 passed" in run.stdout, run.stdout[-3000:]  # ran on Redis, no skip
    _still_there(name, clients)


def test_the_queue_bench_leaves_other_data_alone(sentinels):
    from workshop.bench import queue
    from workshop.bench.scenarios import Options

    name, clients = sentinels

    prefixes = []

    async def one_run() -> queue.Delivery:
        with queue.redis_namespace() as broker:
            prefixes.append(broker["WORKSHOP_KEY_PREFIX"])
            step8 = ROOT / "checkpoints/step-8"
            return await queue.worker_run(Options(delay=0.01), step8, broker, 2)

    run = asyncio.run(one_run())
    assert run.sent == run.expected, "the bench's worker ran its jobs under its prefix"
    _still_there(name, clients)
    left = [k for c in clients for k in c.scan_iter(match=f"{prefixes[0]}*")]
    assert not left, f"keys the bench left behind: {left[:5]}"
