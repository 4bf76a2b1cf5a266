"""The three questions the learner's bench answers, each against real uvicorn servers.

- response: does POST /subscribers wait for the welcome email? (step 0 vs 1)
- trap: a blocking call in an `async def` task stalls every other request.
- ceiling: `def` tasks share the 40-thread pool; where respond-first stops.

(What the tool itself costs, the timeline's overhead, is an author's measure:
workshop/course/overhead_bench.py, on the same servers and load.)

Every run gets a fresh server (its own process and database), so no run
inherits another's pending tasks. Runs that are compared with each other as
"within N x" run at the same time on separate servers, so machine noise from
elsewhere hits both alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from workshop.bench.load import Samples, client, drive, timed, warm_up
from workshop.bench.server import Server
from workshop.bench.stats import Claim, Summary, at_least, at_most, ratio

DEMO_APP = "workshop.bench.demo_app:app"
CHECKPOINT_APP = "app.main:app"

# How close "within" means, as the issue states the claims.
RESPONSE_VS_BASELINE = 1.2  # step 1 p50 <= 1.2 x the no-email baseline
FAR_BELOW_DELAY = 0.1  # step 1 p50 <= 10 % of the mail delay
DEF_TASK_VS_IDLE = 1.5  # a def task leaves other requests within 1.5 x idle
STALL_NEAR_DELAY = 0.8  # a blocking async task: other requests' p50 >= 0.8 delay
CEILING_SLACK = 1.1  # def tasks deliver at most threads / delay (+10 %)
ASYNC_BEYOND_POOL = 1.5  # async tasks: more than 1.5 x threads emails in flight
ENDPOINT_AT_CEILING = 1.5  # past it, a def endpoint serves <= 1.5 x threads / delay
DEFAULT_THREADS = 40  # anyio's default threadpool size (what Starlette uses)
DELIVERY_SLACK = 10.0  # seconds beyond the threadpool's pace to wait for emails
DELIVERY_POLL = 0.05  # seconds between polls of the outbox during a flood
PAGE_POLL = 0.25  # seconds between the timeline page's fetches (page.html)


@dataclass(frozen=True)
class Options:
    requests: int = 200
    concurrency: int = 10
    delay: float = 1.0
    time_limit: float = 5.0  # per run: no new requests after this many seconds
    rate: float | None = None  # response: requests/s; None: half the ceiling
    slots: int = 80  # queue: one worker's threads, against the web's 40

    @property
    def response_rate(self) -> float:
        """The pace of the response runs: by default half of what 40 threads
        can deliver, so that scenario stays below the ceiling (see ceiling)."""
        return self.rate if self.rate is not None else DEFAULT_THREADS / 2 / self.delay


@dataclass(frozen=True)
class Fact:
    """A measured number that is not a latency summary (e.g. emails per second)."""

    label: str
    value: float
    unit: str


@dataclass
class Result:
    key: str
    title: str
    measures: str  # what exactly is measured, in plain words
    runs: list[Summary] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_ids = itertools.count()


def subscriber(i: int) -> tuple[str, str, Any]:
    """A new subscriber per request (emails are unique across the whole bench)."""
    n = next(_ids)
    body = {"email": f"bench-{n}-{i}@example.com", "name": f"Reader {n}"}
    return ("POST", "/subscribers", body)


def checkpoint_server(
    checkpoint: Path, delay: float, app: str = CHECKPOINT_APP
) -> Server:
    """A server for `app` with `checkpoint` first on the import path, its own
    database in a temporary folder and MAIL_DELAY=`delay`."""
    server = Server(app, checkpoint)
    server.extra_env.update(
        NEWSLETTER_DB=str(server.tmp / "newsletter.db"), MAIL_DELAY=f"{delay:g}"
    )
    return server


def demo_server(step2: Path, delay: float) -> Server:
    return checkpoint_server(step2, delay, DEMO_APP)


@contextlib.asynccontextmanager
async def serving(
    *servers: Server, concurrency: int
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Start `servers` together (in worker threads: starting blocks) and yield a
    client for each; every server is stopped on the way out."""
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:
            stack.push_async_callback(asyncio.to_thread, server.stop)
        started = await asyncio.gather(
            *(asyncio.to_thread(s.start) for s in servers), return_exceptions=True
        )
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        clients = [
            await stack.enter_async_context(client(s.url, concurrency)) for s in servers
        ]
        yield clients


# --- a) response ------------------------------------------------------------


async def post_subscribers(
    options: Options, servers: dict[str, Server], watched: str | None = None
) -> list[Summary]:
    """POST /subscribers to every server at the same time, each at the same
    pace, so they share whatever else the machine is doing meanwhile. The
    server labelled `watched` has its timeline page open meanwhile."""
    concurrency = options.concurrency + (watched is not None)  # the page's too
    async with serving(*servers.values(), concurrency=concurrency) as clients:
        for http in clients:
            await warm_up(http, "/openapi.json")
        stop = asyncio.Event()
        pages = [
            asyncio.create_task(_watch_timeline(http, stop))
            for label, http in zip(servers, clients, strict=True)
            if label == watched
        ]
        runs = [
            drive(
                http,
                subscriber,
                requests=options.requests,
                concurrency=options.concurrency,
                time_limit=options.time_limit,
                rate=options.response_rate or None,
            )
            for http in clients
        ]
        try:
            samples = await asyncio.gather(*runs)
        finally:
            stop.set()
            await asyncio.gather(*pages)
    return [s.summary(label) for label, s in zip(servers, samples, strict=True)]


async def _watch_timeline(http: httpx.AsyncClient, stop: asyncio.Event) -> None:
    """What the open timeline page does: fetch timeline.json every 250 ms."""
    while not stop.is_set():
        await http.get("/_workshop/timeline.json")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PAGE_POLL)


async def response(options: Options, step0: Path, step1: Path) -> Result:
    d = options.delay
    pace = (
        f"paced at {options.response_rate:g} requests/s"
        if options.response_rate
        else "unpaced"
    )
    result = Result(
        "response",
        "Does the response wait for the welcome email?",
        f"POST /subscribers on checkpoints step-0 (email sent inside the request) "
        f"and step-1 (email in a background task), MAIL_DELAY={d:g} s, {pace}, at "
        f"most {options.concurrency} in flight. Baseline: step-1 with MAIL_DELAY=0 "
        f"(the same request, database writes and task; only the email's wait is "
        f"gone). The three run at the same time, on three servers.",
    )
    inline, background, baseline = await post_subscribers(
        options,
        {
            f"step 0, email inline, {d:g} s": checkpoint_server(step0, d),
            f"step 1, background task, {d:g} s": checkpoint_server(step1, d),
            "baseline: step 1, delay 0": checkpoint_server(step1, 0),
        },
    )
    result.runs += [inline, background, baseline]
    result.claims += response_claims(inline, background, baseline, d)
    return result


def response_claims(
    inline: Summary, background: Summary, baseline: Summary, delay: float
) -> list[Claim]:
    return [
        at_least("step 0 waits: its p50 / delay", ratio(inline.p50, delay), 1.0),
        at_most(
            "step 1 does not: its p50 / baseline p50",
            ratio(background.p50, baseline.p50),
            RESPONSE_VS_BASELINE,
        ),
        at_most(
            "step 1 p50 / delay (far below it)",
            ratio(background.p50, delay),
            FAR_BELOW_DELAY,
        ),
    ]


# --- b) trap --------------------------------------------------------------

PING = "/subscribers"  # "another request": the checkpoint's own list endpoint


async def _keep_one_task_running(
    http: httpx.AsyncClient, kind: str, delay: float, stop: asyncio.Event
) -> None:
    """Start one `kind` task every `delay` seconds: one task is always running."""
    scratch = Samples()
    while not stop.is_set():
        started = time.perf_counter()
        await timed(http, "POST", f"/bench/send/{kind}", None, scratch)
        with contextlib.suppress(TimeoutError):
            left = delay - (time.perf_counter() - started)
            await asyncio.wait_for(stop.wait(), max(left, 0))


async def _pings_while(
    options: Options, step2: Path, kinds: dict[str, str | None]
) -> list[Summary]:
    """GET PING on one server per kind of task kept running (None: no task), all
    at the same time, so they share whatever else the machine does meanwhile."""
    servers = [demo_server(step2, options.delay) for _ in kinds]
    async with serving(*servers, concurrency=options.concurrency + 1) as clients:
        for http in clients:
            await warm_up(http, PING)
        stop = asyncio.Event()
        triggers = [
            asyncio.create_task(_keep_one_task_running(http, kind, options.delay, stop))
            for http, kind in zip(clients, kinds.values(), strict=True)
            if kind is not None
        ]
        await asyncio.sleep(0.05)  # let the first tasks start
        try:
            samples = await asyncio.gather(
                *(
                    drive(
                        http,
                        lambda i: ("GET", PING, None),
                        requests=options.requests,
                        concurrency=options.concurrency,
                        time_limit=options.time_limit,
                    )
                    for http in clients
                )
            )
        finally:
            stop.set()
            await asyncio.gather(*triggers)
    return [s.summary(label) for label, s in zip(kinds, samples, strict=True)]


async def trap(options: Options, step2: Path) -> Result:
    d = options.delay
    result = Result(
        "trap",
        "A blocking call inside an async def task stalls every other request",
        f"GET {PING} on three servers of checkpoint step-2 (with the bench's "
        f"routes, workshop/bench/demo_app.py), measured at the same time: one "
        f"idle, one where step 2's def task send_welcome_email ({d:g} s, in the "
        f"threadpool) is kept running, one where the same work declared async def "
        f"is: the pitfall the checkpoints never contain (its blocking mailer runs "
        f"on the event loop).",
    )
    idle, in_thread, blocking = await _pings_while(
        options,
        step2,
        {
            "idle: no task running": None,
            "def task running": "def",
            "async def task blocking the loop": "async-blocking",
        },
    )
    result.runs += [idle, in_thread, blocking]
    result.claims += trap_claims(idle, in_thread, blocking, d)
    return result


def trap_claims(
    idle: Summary, in_thread: Summary, blocking: Summary, delay: float
) -> list[Claim]:
    return [
        at_most(
            "def task: other requests' p50 / idle p50",
            ratio(in_thread.p50, idle.p50),
            DEF_TASK_VS_IDLE,
        ),
        at_least(
            "blocking async task: other requests' p50 / delay",
            ratio(blocking.p50, delay),
            STALL_NEAR_DELAY,
        ),
    ]


# --- c) ceiling -------------------------------------------------------------


@dataclass(frozen=True)
class Flood:
    kind: str
    sent: int
    delivered: int
    peak_in_flight: int  # most emails being delivered at one moment
    threads: int
    seconds: float  # from the first request to the last delivery
    posts: Summary  # the requests (to a def endpoint) that queued the tasks

    @property
    def per_second(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Outbox:
    """What the server's outbox showed, polled while a flood runs."""

    before: int = 0
    delivered: int = 0
    peak_in_flight: int = 0
    finished: float | None = None  # when every expected email was in


async def _outbox(http: httpx.AsyncClient) -> dict[str, int]:
    return (await http.get("/bench/outbox")).json()


async def _follow(
    http: httpx.AsyncClient, outbox: Outbox, expected: Callable[[], int | None]
) -> None:
    """Poll the outbox until every expected email is delivered."""
    while True:
        data = await _outbox(http)
        outbox.delivered = data["sent"] - outbox.before
        outbox.peak_in_flight = max(outbox.peak_in_flight, data["sending"])
        wanted = expected()
        if wanted is not None and outbox.delivered >= wanted:
            outbox.finished = time.perf_counter()
            return
        await asyncio.sleep(DELIVERY_POLL)


async def flood(options: Options, step2: Path, kind: str) -> Flood:
    """Queue up to `requests` tasks of `kind`; time until all are delivered."""
    server = demo_server(step2, options.delay)
    async with serving(server, concurrency=options.concurrency + 2) as (http,):
        await warm_up(http, PING)
        first = await _outbox(http)
        outbox = Outbox(before=first["sent"])
        sent: int | None = None
        follower = asyncio.create_task(_follow(http, outbox, lambda: sent))
        posts = await drive(
            http,
            lambda i: ("POST", f"/bench/send/{kind}", None),
            requests=options.requests,
            concurrency=options.concurrency,
            time_limit=options.time_limit,
        )
        sent = len(posts.latencies)
        # Bounded: time for every task at the threadpool's pace, plus slack for
        # the mailer's own work (database writes); it ends once all are in.
        budget = (sent / max(first["threads"], 1) + 2) * options.delay
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(follower, budget + DELIVERY_SLACK)
        end = outbox.finished or time.perf_counter()
    return Flood(
        kind=kind,
        sent=sent,
        delivered=outbox.delivered,
        peak_in_flight=outbox.peak_in_flight,
        threads=first["threads"],
        seconds=end - posts.started,
        posts=posts.summary(f"{kind} tasks: POST /bench/send/{kind}"),
    )


async def ceiling(options: Options, step2: Path) -> Result:
    d = options.delay
    result = Result(
        "ceiling",
        "Where respond-first stops: the threadpool",
        f"Up to {options.requests} POSTs (at most {options.concurrency} in flight, "
        f"unpaced) to a def endpoint added to checkpoint step-2, each queueing one "
        f"{d:g} s email: step 2's def task send_welcome_email (threadpool) or its "
        f"async def task notify_admin (awaits the mailer). Emails/s = emails "
        f"delivered / time from the first request to the last delivery; in flight "
        f"= emails the outbox shows as 'sending', polled every "
        f"{DELIVERY_POLL * 1000:g} ms.",
    )
    in_threads = await flood(options, step2, "def")
    on_loop = await flood(options, step2, "async")
    result.runs += [in_threads.posts, on_loop.posts]
    for f in (in_threads, on_loop):
        result.facts += [
            Fact(
                f"{f.kind} tasks: {f.delivered}/{f.sent} emails in {f.seconds:.2f} s",
                f.per_second,
                "emails/s",
            ),
            Fact(f"{f.kind} tasks: most emails in flight", f.peak_in_flight, ""),
        ]
    result.facts.append(
        Fact(
            f"the ceiling: {in_threads.threads} threads / {d:g} s",
            in_threads.threads / d,
            "emails/s",
        )
    )
    if in_threads.sent <= in_threads.threads:
        result.notes.append(
            f"only {in_threads.sent} requests for {in_threads.threads} threads: the "
            f"pool never fills, so the ceiling is not reached (use --requests 200)"
        )
    result.claims += ceiling_claims(in_threads, on_loop, d)
    return result


def ceiling_claims(in_threads: Flood, on_loop: Flood, delay: float) -> list[Claim]:
    limit = in_threads.threads / delay
    return [
        at_most(
            "def tasks: emails/s / (threads / delay)",
            ratio(in_threads.per_second, limit),
            CEILING_SLACK,
        ),
        at_most(
            "def tasks: most in flight / threads",
            ratio(in_threads.peak_in_flight, in_threads.threads),
            1.0,
        ),
        at_least(
            "async def tasks: most in flight / threads (not held to the pool)",
            ratio(on_loop.peak_in_flight, on_loop.threads),
            ASYNC_BEYOND_POOL,
        ),
        at_most(
            "the def endpoint, held to the tasks' pace: req/s / (threads / delay)",
            ratio(in_threads.posts.throughput, limit),
            ENDPOINT_AT_CEILING,
        ),
    ]
