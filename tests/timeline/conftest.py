"""Fixtures for the timeline tests.

- `checkpoint(step)`: the URL of checkpoint N served as `workshop serve` serves
  it (see timeline_support.served), its timeline reset. Each server is started
  on first use and kept for the session (per xdist worker): tests in one
  worker run one after another, and each starts from a reset timeline and
  signs up a new address.
- `step8`: checkpoint 8 served with the timeline, its own database and broker
  file, and a worker the test starts (timeline_support.Step8); per test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from timeline_support import DELAY, Step8, call, served, warm_up

from workshop.bench.server import Server


@pytest.fixture(scope="session")
def _servers() -> Iterator[dict[int, Server]]:
    started: dict[int, Server] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture
def checkpoint(_servers: dict[int, Server]) -> Callable[[int], str]:
    def url(step: int) -> str:
        if step not in _servers:
            server = served(step, DELAY)
            server.start()
            _servers[step] = server
            warm_up(server.url)
        base = _servers[step].url
        call(f"{base}/_workshop/timeline/reset", "POST")
        return base

    return url


@pytest.fixture
def step8() -> Iterator[Step8]:
    started = Step8(DELAY)
    try:
        started.start()
        yield started
    finally:
        started.stop()
