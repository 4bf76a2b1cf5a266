"""e) queue: step 8 against step 1, side by side in one run.

Real processes throughout (uvicorn servers, a Celery worker, Redis). Each
part runs the two checkpoints at the same time, so whatever else loads the
machine loads both alike, and claims only ratios between them:

- response: POST /subscribers, unpaced, on two servers at once: checkpoint 1
  (the welcome email in a `def` background task: the web process's 40
  threads send it) and checkpoint 8 on Redis (the signup's job goes to a
  Celery worker, threads pool, 40 slots, running beside it). Unpaced at 10
  in flight, more signups arrive than 40 threads can mail, so step 1's
  endpoint queues behind its own tasks for a thread; step 8's does not.
  Claim: step 8's median <= half of step 1's. The p95 ratio is printed, not
  claimed: on a shared 2-core machine it moved from 0.2x to 2x between runs
  minutes apart, with or without the worker beside step 8 (docs/BENCHMARKS.md).
- emails/s: one worker (`--slots` threads, 80 by default) works through a
  queue of step-8 signups filled beforehand, and meanwhile step 1's web
  process mails a flood of signups with its `def` tasks (the web ceiling:
  40 threads / MAIL_DELAY). Each is timed from the first email seen in its
  outbox to the last one sent (polled every 50 ms). Claims: the web process
  stays under its ceiling; the worker delivers at least 0.75 x slots / 40
  times what the web process did (a slot sends 1 / MAIL_DELAY emails a
  second, as a thread does).

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
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from workshop.bench.load import drive, warm_up
from workshop.bench.scenarios import (
    CEILING_SLACK,
    DEFAULT_THREADS,
    DELIVERY_SLACK,
    Fact,
    Options,
    Result,
    checkpoint_server,
    serving,
    subscriber,
)
from workshop.bench.server import Server, stop_process
from workshop.bench.stats import Claim, Summary, at_least, at_most, ratio
from workshop.errors import WorkshopError

STEP8_VS_STEP1_P50 = 0.5  # the same flood: step 8's p50 <= half of step 1's
WORKER_VS_WEB = 0.75  # a worker: emails/s >= 0.75 x slots / 40 x the web process's
LATENCY_SLOTS = 40  # the worker beside step 8 while its responses are timed
EMAILS_PER_SLOT = 6  # emails per worker slot, and per web thread: 6 x MAIL_DELAY
WORKER_READY = 60.0  # seconds for a worker to start on a busy machine
POLL = 0.05  # seconds between looks at an outbox


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


def outbox_or_zero(server: Server) -> tuple[int, int]:
    """outbox(server), or (0, 0) while the file is busy or not there yet."""
    try:
        return outbox(server)
    except sqlite3.OperationalError:
        return 0, 0


@dataclass(frozen=True)
class Delivery:
    """Emails one process sent: from the first seen in its outbox to the last."""

    expected: int
    sent: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds > 0 else 0.0


async def delivered(
    server: Server, expected: Callable[[], int | None], budget: float
) -> Delivery:
    """Poll `server`'s outbox until `expected()` emails are sent (None: not
    known yet), or `budget` seconds have passed."""
    deadline = time.monotonic() + budget
    sent, first, last = 0, None, None
    while time.monotonic() < deadline:
        started, now_sent = await asyncio.to_thread(outbox_or_zero, server)
        now = time.monotonic()
        if started and first is None:
            first = now  # the first email is on its way
        if now_sent > sent:
            sent, last = now_sent, now  # the latest email sent
        wanted = expected()
        if wanted is not None and sent >= wanted:
            break
        await asyncio.sleep(POLL)
    seconds = (last - first) if first is not None and last is not None else 0.0
    return Delivery(expected() or 0, sent, seconds)


async def first_email(worker: Worker, limit: float) -> None:
    """Return once the worker's first email is on its way, or raise."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started, _ = await asyncio.to_thread(outbox_or_zero, worker.server)
        if started:
            return
        if worker.process.poll() is not None:
            break
        await asyncio.sleep(POLL)
    tail = worker.log.read_text(errors="replace").strip().splitlines()[-1:]
    raise WorkshopError(
        f"the step-8 worker sent no email within {limit:g} s"
        + (f": {tail[0]}" if tail else "")
    )


async def responses(
    options: Options, step1: Path, step8: Path, broker: dict[str, str]
) -> list[Summary]:
    """POST /subscribers, unpaced, on step 1 and step 8 at the same time."""
    d = options.delay
    queued = step8_server(step8, d, broker)
    servers = {
        f"step 1, background task, {d:g} s": checkpoint_server(step1, d),
        f"step 8, Redis, a worker beside it, {d:g} s": queued,
    }
    async with serving(*servers.values(), concurrency=options.concurrency) as clients:
        worker = Worker(queued, LATENCY_SLOTS, d)
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
            worker.stop()
    return [s.summary(label) for label, s in zip(servers, samples, strict=True)]


async def worker_run(
    options: Options, step8: Path, broker: dict[str, str], slots: int
) -> Delivery:
    """One worker with `slots` threads through a queue filled beforehand."""
    server = step8_server(step8, options.delay, broker)
    async with (
        serving(server, concurrency=options.concurrency) as (http,),
        working(options, server, http, slots) as following,
    ):
        return await following


@contextlib.asynccontextmanager
async def working(
    options: Options, server: Server, http: httpx.AsyncClient, slots: int
) -> AsyncIterator[asyncio.Task[Delivery]]:
    """Fill a step-8 server's queue (EMAILS_PER_SLOT emails a slot, a job sends
    two), start a worker with `slots` threads, wait for its first email, and
    yield the task that times its deliveries; the worker stops on the way out."""
    posted = await drive(
        http,
        subscriber,
        requests=EMAILS_PER_SLOT * slots // 2,
        concurrency=options.concurrency,
        time_limit=600,
    )
    emails = 2 * len(posted.latencies)
    worker = Worker(server, slots, options.delay)
    budget = WORKER_READY + 4 * EMAILS_PER_SLOT * options.delay + DELIVERY_SLACK
    following = asyncio.create_task(delivered(server, lambda: emails, budget))
    try:
        await first_email(worker, WORKER_READY)
        yield following
    finally:
        following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await following
        worker.stop()


async def deliveries(
    options: Options, step1: Path, step8: Path, broker: dict[str, str]
) -> tuple[Delivery, Delivery]:
    """(step 1's web process, one step-8 worker), timed over the same seconds:
    both servers start, the worker starts, and once it sends, step 1 is
    flooded."""
    d = options.delay
    queued, web = step8_server(step8, d, broker), checkpoint_server(step1, d)
    async with (
        serving(queued, web, concurrency=options.concurrency) as (queued_http, http),
        working(options, queued, queued_http, options.slots) as following,
    ):
        posted: int | None = None
        budget = 4 * EMAILS_PER_SLOT * d + DELIVERY_SLACK
        mailing = asyncio.create_task(delivered(web, lambda: posted, budget))
        try:
            flood = await drive(
                http,
                subscriber,
                requests=EMAILS_PER_SLOT * DEFAULT_THREADS,
                concurrency=options.concurrency,
                time_limit=600,
            )
            posted = len(flood.latencies)
            return await mailing, await following
        finally:
            mailing.cancel()


async def queue(options: Options, step1: Path, step8: Path) -> Result:
    d, slots = options.delay, options.slots
    result = Result(
        "queue",
        "Step 8 against step 1: the web process no longer waits",
        f"Response: POST /subscribers, unpaced, {options.requests} requests, at "
        f"most {options.concurrency} in flight, MAIL_DELAY={d:g} s, on two servers "
        f"at once: checkpoint step-1 (the email in a def background task, the web "
        f"process's {DEFAULT_THREADS} threads) and step-8 on Redis (a Celery "
        f"worker, threads pool, {LATENCY_SLOTS} slots, runs beside it). Emails/s, "
        f"at the same time: one step-8 worker with {slots} slots through "
        f"{EMAILS_PER_SLOT * slots // 2} signups queued first (2 emails each), and "
        f"step 1's web process mailing {EMAILS_PER_SLOT * DEFAULT_THREADS} "
        f"signups sent once the worker is at work; each from the first email "
        f"seen in its outbox to the last sent.",
    )
    with redis_namespace() as broker:
        step1_run, step8_run = await responses(options, step1, step8, broker)
    with redis_namespace() as broker:
        web, worker = await deliveries(options, step1, step8, broker)
    result.runs += [step1_run, step8_run]
    in_flight = step1_run.throughput * d
    result.facts += [
        Fact("step 8 p95 / step 1 p95", ratio(step8_run.p95, step1_run.p95), "x"),
        Fact(
            f"step 1: emails in flight on average (req/s x {d:g} s), "
            f"against {DEFAULT_THREADS} threads",
            round(in_flight, 1),
            "",
        ),
        Fact(
            f"step 1's web process, {DEFAULT_THREADS} threads: "
            f"{web.sent}/{web.expected} emails in {web.seconds:.2f} s",
            web.per_second,
            "emails/s",
        ),
        Fact(
            f"one worker, {slots} slots: "
            f"{worker.sent}/{worker.expected} emails in {worker.seconds:.2f} s",
            worker.per_second,
            "emails/s",
        ),
        Fact(
            f"the web ceiling: {DEFAULT_THREADS} threads / {d:g} s",
            DEFAULT_THREADS / d,
            "emails/s",
        ),
    ]
    if in_flight < DEFAULT_THREADS:
        result.notes.append(
            f"step 1 kept {in_flight:.0f} emails in flight on average, fewer than "
            f"its {DEFAULT_THREADS} threads: too few requests a second for this "
            f"delay to fill them, so step 1 had little to wait for"
        )
    for name, run in (("step 1's web process", web), ("the worker", worker)):
        if run.sent < run.expected:
            result.notes.append(
                f"{name} sent {run.sent} of {run.expected} emails in time: its "
                f"emails/s counts those only"
            )
    result.claims += queue_claims(step1_run, step8_run, web, worker, d, slots)
    return result


def queue_claims(
    step1: Summary,
    step8: Summary,
    web: Delivery,
    worker: Delivery,
    delay: float,
    slots: int,
) -> list[Claim]:
    return [
        at_most(
            "the web process no longer waits: step 8 p50 / step 1 p50",
            ratio(step8.p50, step1.p50),
            STEP8_VS_STEP1_P50,
        ),
        at_most(
            f"step 1's web process: emails/s / ({DEFAULT_THREADS} threads / delay)",
            ratio(web.per_second, DEFAULT_THREADS / delay),
            CEILING_SLACK,
        ),
        at_least(
            f"one worker, {slots} slots: emails/s / the web process's emails/s",
            ratio(worker.per_second, web.per_second),
            WORKER_VS_WEB * slots / DEFAULT_THREADS,
        ),
    ]
