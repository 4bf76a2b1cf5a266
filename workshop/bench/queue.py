"""e) queue: what moving the work to a Celery worker (step 8) buys and costs.

Two parts, real processes throughout (uvicorn servers, Celery workers, Redis):

- latency: POST /subscribers, unpaced, on five servers at the same time:
  checkpoint 1 (the email in a background task) and checkpoint 8 on Redis
  (the email sent to a worker), each with the mail delay and with
  MAIL_DELAY=0 (its baseline), and checkpoint 8 on the no-server default
  (the SQLite broker), measured with no goal. Each step-8 server has a worker
  (threads pool, 40 slots) taking its jobs meanwhile, as in real use.
- slots: emails delivered per second by one worker with the threads pool at
  40, 80 and 160 slots on Redis, and 40 on SQLite. The queue is filled first
  (3 signups per slot, through the web server, while no worker runs), then
  the worker starts; emails/s = emails sent / time from the first email
  seen in the outbox table to the last one sent (polled every 50 ms). A signup's job
  sends two emails one after the other (welcome, admin notice), so a slot
  can deliver 1 / MAIL_DELAY emails a second.

Redis: REDIS_URL, or 127.0.0.1:6379. Each run's processes start through
workshop/queueboot.py, which puts every key their Celery writes under a
prefix of the run's own; only those keys are deleted afterwards, as the
step suites do, so whatever else lives in that database is left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from workshop.bench.load import drive, warm_up
from workshop.bench.scenarios import (
    Fact,
    Options,
    Result,
    checkpoint_server,
    serving,
    subscriber,
)
from workshop.bench.server import Server, stop_process
from workshop.bench.stats import Summary, at_least, at_most, ratio
from workshop.errors import WorkshopError

QUEUED_VS_BASELINE_P50 = 1.2  # step 8 p50 <= 1.2 x its MAIL_DELAY=0 baseline
QUEUED_VS_BASELINE_P95 = 2.0  # and p95 <= 2 x
SLOT_EFFICIENCY = 0.9  # a threads worker delivers >= 0.9 x slots / delay emails/s
LATENCY_SLOTS = 40
SLOTS = (40, 80, 160)
SIGNUPS_PER_SLOT = 3
WORKER_READY = 60.0  # seconds for a worker to start on a busy machine
POLL = 0.05  # seconds between looks at the outbox


@contextlib.contextmanager
def redis_namespace() -> Iterator[dict[str, str]]:
    """The environment of a run's processes on Redis: its URL and a key prefix
    of its own; the keys under that prefix are deleted afterwards."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    prefix = f"workshop-bench-{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        raise WorkshopError(
            f"the queue bench needs Redis at {url} (REDIS_URL): {error}"
        ) from None
    try:
        yield {"CELERY_BROKER_URL": url, "WORKSHOP_KEY_PREFIX": prefix}
    finally:
        with contextlib.suppress(redis.RedisError):
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            if keys:
                client.delete(*keys)
        client.close()


class QueueServer(Server):
    """A step-8 server started through workshop.queueboot (its key prefix)."""

    def command(self) -> list[str]:
        python, _, _uvicorn, *args = super().command()
        return [python, "-m", "workshop.queueboot", "web", *args]


class Worker:
    """A Celery worker of a checkpoint, beside its server (same database)."""

    def __init__(self, server: Server, slots: int, delay: float) -> None:
        self.server = server
        self.log = server.tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
        env = {
            **os.environ,
            **server.extra_env,
            "MAIL_DELAY": f"{delay:g}",
            "PYTHONPATH": str(server.app_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        command = [sys.executable, "-m", "workshop.queueboot", "worker"]
        command += ["--pool", "threads", "--concurrency", str(slots)]
        command += ["--loglevel", "WARNING", "--without-gossip", "--without-mingle"]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=server.tmp,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        stop_process(self.process)


def step8_server(step8: Path, delay: float, broker: dict[str, str]) -> Server:
    """A step-8 server on `broker` (redis_namespace()'s), or on the SQLite
    broker when it is empty."""
    server = checkpoint_server(step8, delay)
    if broker:
        queued = QueueServer(server.app, server.app_dir, server.extra_env)
        queued.extra_env.update(broker, PYTHONPATH=str(server.app_dir))
        queued.extra_env["NEWSLETTER_DB"] = str(queued.tmp / "newsletter.db")
        return queued
    return server


def outbox(server: Server) -> tuple[int, int]:
    """(emails in the outbox, emails sent), read from the database file."""
    path = server.extra_env["NEWSLETTER_DB"]
    with contextlib.closing(sqlite3.connect(path, timeout=5)) as db:
        return db.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'sent') FROM outbox"
        ).fetchone()


async def latency(options: Options, step1: Path, step8: Path) -> Result:
    d = options.delay
    result = Result(
        "queue",
        "A task queue: the response, and emails per second against worker slots",
        f"POST /subscribers, unpaced, {options.requests} requests, at most "
        f"{options.concurrency} in flight, MAIL_DELAY={d:g} s, on five servers at "
        f"once: checkpoint step-1 (background task) and step-8 on Redis (a Celery "
        f"worker, threads pool, {LATENCY_SLOTS} slots, runs beside it), each with "
        f"MAIL_DELAY=0 as its baseline, and step-8 on the SQLite broker. Then "
        f"emails/s of one worker at {', '.join(map(str, SLOTS))} slots on Redis "
        f"and {SLOTS[0]} on SQLite: {SIGNUPS_PER_SLOT} signups per slot queued "
        f"first (2 emails each), then the worker started; from the first email "
        f"started to the last sent.",
    )
    with redis_namespace() as slow_db, redis_namespace() as fast_db:
        servers = {
            f"step 1, background task, {d:g} s": checkpoint_server(step1, d),
            "step 1 baseline, delay 0": checkpoint_server(step1, 0),
            f"step 8, Redis, {d:g} s": step8_server(step8, d, slow_db),
            "step 8 baseline, Redis, delay 0": step8_server(step8, 0, fast_db),
            f"step 8, SQLite broker, {d:g} s": step8_server(step8, d, {}),
        }
        async with serving(*servers.values(), concurrency=options.concurrency) as (
            clients
        ):
            workers = [
                Worker(server, LATENCY_SLOTS, delay)
                for server, delay in zip(
                    list(servers.values())[2:], (d, 0, d), strict=True
                )
            ]
            try:
                for http in clients:
                    await warm_up(http, "/openapi.json")
                samples = await asyncio.gather(
                    *(
                        drive(
                            http,
                            subscriber,
                            requests=options.requests,
                            concurrency=options.concurrency,
                            time_limit=options.time_limit,
                        )
                        for http in clients
                    )
                )
            finally:
                for worker in workers:
                    worker.stop()
    runs = [s.summary(label) for label, s in zip(servers, samples, strict=True)]
    result.runs += runs
    result.claims += latency_claims(*runs[:4])
    return result


def latency_claims(
    step1: Summary, step1_base: Summary, step8: Summary, step8_base: Summary
) -> list:
    return [
        at_most(
            "step 8 on Redis: p50 / its baseline p50",
            ratio(step8.p50, step8_base.p50),
            QUEUED_VS_BASELINE_P50,
        ),
        at_most(
            "step 8 on Redis: p95 / its baseline p95",
            ratio(step8.p95, step8_base.p95),
            QUEUED_VS_BASELINE_P95,
        ),
    ]


async def slots_run(
    options: Options, step8: Path, broker: dict[str, str], slots: int
) -> tuple[int, int, float]:
    """(emails expected, sent, seconds) for one worker with `slots` threads."""
    server = step8_server(step8, options.delay, broker)
    signups = SIGNUPS_PER_SLOT * slots
    async with serving(server, concurrency=options.concurrency) as (http,):
        await drive(
            http,
            subscriber,
            requests=signups,
            concurrency=options.concurrency,
            time_limit=600,
        )
        worker = Worker(server, slots, options.delay)
        try:
            expected = 2 * signups
            budget = WORKER_READY + 4 * expected / slots * options.delay
            deadline = time.monotonic() + budget
            sent, first, last = 0, None, None
            while time.monotonic() < deadline:
                started, now_sent = outbox(server)
                now = time.monotonic()
                if started and first is None:
                    first = now  # the first email is on its way
                if now_sent > sent:
                    sent, last = now_sent, now  # the latest email sent
                if sent >= expected:
                    break
                await asyncio.sleep(POLL)
        finally:
            worker.stop()
    seconds = (last - first) if first is not None and last is not None else 0.0
    return expected, sent, seconds


async def queue(options: Options, step1: Path, step8: Path) -> Result:
    result = await latency(options, step1, step8)
    d = options.delay
    runs = [("Redis", slots) for slots in SLOTS] + [("SQLite", SLOTS[0])]
    for kind, slots in runs:
        if kind == "Redis":
            with redis_namespace() as broker:
                run = await slots_run(options, step8, broker, slots)
        else:
            run = await slots_run(options, step8, {}, slots)
        expected, sent, seconds = run
        per_second = sent / seconds if seconds > 0 else 0.0
        label = f"{kind}, {slots} slots: {sent}/{expected} emails in {seconds:.2f} s"
        result.facts.append(Fact(label, per_second, "emails/s"))
        if kind == "Redis":
            result.claims.append(
                at_least(
                    f"{kind}, {slots} slots: emails/s / (slots / delay)",
                    ratio(per_second, slots / d),
                    SLOT_EFFICIENCY,
                )
            )
    result.notes.append(
        "the web process's def tasks stop near 40 emails/s (its threadpool): "
        "see the ceiling scenario"
    )
    return result
