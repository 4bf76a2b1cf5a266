"""The load generator: concurrent HTTP requests from one async httpx client.

A semaphore caps the requests in flight; a run stops starting new requests
after `time_limit` seconds, so a slow server bounds the run's time, not its
count (the summary says how many requests completed).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from workshop.bench.stats import Summary

# Request i -> (method, path, json body or None).
RequestFactory = Callable[[int], tuple[str, str, Any]]


@dataclass
class Samples:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    started: float = 0.0
    finished: float = 0.0

    @property
    def elapsed(self) -> float:
        return self.finished - self.started

    def summary(self, label: str, note: str = "") -> Summary:
        if not self.latencies:
            detail = f": {self.first_error}" if self.first_error else ""
            raise RuntimeError(f"{label}: no request succeeded{detail}")
        return Summary.of(label, self.latencies, self.elapsed, self.errors, note)


def client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4
    )
    return httpx.AsyncClient(
        base_url=base_url,
        limits=limits,
        timeout=httpx.Timeout(60.0),
        trust_env=False,  # never a proxy: loopback only
    )


async def timed(
    http: httpx.AsyncClient, method: str, path: str, body: Any, samples: Samples
) -> None:
    start = time.perf_counter()
    try:
        response = await http.request(method, path, json=body)
    except httpx.HTTPError as error:
        samples.errors += 1
        samples.first_error = samples.first_error or f"{type(error).__name__}: {error}"
        return
    latency = time.perf_counter() - start
    if response.is_success:
        samples.latencies.append(latency)
    else:
        samples.errors += 1
        samples.first_error = samples.first_error or (
            f"{method} {path} -> {response.status_code}"
        )


async def drive(
    http: httpx.AsyncClient,
    make_request: RequestFactory,
    *,
    requests: int,
    concurrency: int,
    time_limit: float,
    rate: float | None = None,
) -> Samples:
    """Send up to `requests` requests, at most `concurrency` at a time.

    With `rate`, request i starts no earlier than i / rate seconds after the
    first (paced); without, each starts as soon as one in flight finishes.
    """
    samples = Samples()
    gate = asyncio.Semaphore(concurrency)
    samples.started = time.perf_counter()
    deadline = samples.started + time_limit

    async def one(i: int) -> None:
        try:
            method, path, body = make_request(i)
            await timed(http, method, path, body, samples)
        finally:
            gate.release()

    tasks = []
    for i in range(requests):
        if rate:
            await asyncio.sleep(
                max(0.0, samples.started + i / rate - time.perf_counter())
            )
        await gate.acquire()
        if time.perf_counter() >= deadline:
            gate.release()
            break
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    samples.finished = time.perf_counter()
    return samples


async def warm_up(http: httpx.AsyncClient, path: str, count: int = 5) -> None:
    """A few requests first, so the first measured ones pay no start-up costs."""
    for _ in range(count):
        await http.get(path)
