"""Overlapping requests: every email and job is on the row of the request whose
code wrote it, never on a neighbour's because it happened meanwhile.

Each test starts its requests one after another, the next only once the
previous one's work is under way (an email to its address, or its job, is
in the timeline's JSON: an event, not a sleep), so the three requests'
background tasks overlap on every run. The emails are then told apart by
address: a row holds its own subscriber's emails and one admin notice.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from timeline_support import (
    POLL,
    WAIT,
    Step8,
    call,
    finished,
    kind,
    signup,
    steps,
)


def fresh(local: str, domain: str = "example.com") -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@{domain}"


def all_events(base: str) -> list[dict[str, Any]]:
    data = call(f"{base}/_workshop/timeline.json")
    rows = data["requests"] + ([data["apart"]] if data.get("apart") else [])
    return [e for r in rows for e in r["events"]]


def under_way(base: str, wanted: str) -> None:
    """Wait until an email or job named `wanted` is seen, on whichever row."""
    deadline = time.monotonic() + WAIT
    while not any(e["name"] == wanted for e in all_events(base)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{wanted!r} never appeared")
        time.sleep(POLL)


def signups(base: str) -> list[dict[str, Any]]:
    done = finished(base, 3)
    rows = [r for r in done if r["path"] == "/subscribers"]
    assert len(rows) == 3, done
    return rows


def own_emails(row: dict[str, Any], address: str) -> tuple[list[str], list[str]]:
    """(this row's emails to `address`, its other emails)."""
    names = [e["name"] for e in kind(row, "email")]
    mine = [n for n in names if n == f"email to {address}"]
    return mine, [n for n in names if n != f"email to {address}"]


def overlapping_signups(base: str, addresses: list[str]) -> list[dict[str, Any]]:
    for address in addresses:
        signup(base, address)
        under_way(base, f"email to {address}")
    return signups(base)


@pytest.mark.parametrize("step", [s for s in (2, 5) if s in steps()])
def test_three_overlapping_signups_keep_their_own_emails(step: int, checkpoint) -> None:
    url = checkpoint(step)
    if step == 5:  # refused for ever, refused once, accepted: 3, 2 and 1 tries
        addresses = [
            fresh("bounce", "bounce.example.com"),
            fresh("grey", "greylist.example.com"),
            fresh("plain"),
        ]
        tries = [3, 2, 1]
    else:
        addresses = [fresh("ada"), fresh("bob"), fresh("cy")]
        tries = [1, 1, 1]
    rows = overlapping_signups(url, addresses)
    admin = set()
    for row, address, count in zip(rows, addresses, tries, strict=True):
        mine, others = own_emails(row, address)
        assert len(mine) == count, row
        assert len(others) == 1, f"one admin notice on each row: {row}"
        admin.update(others)
    assert len(admin) == 1, admin  # the three notices go to the same admin
    assert call(f"{url}/_workshop/timeline.json")["apart"] is None


def test_two_overlapping_digests_keep_their_own_job(checkpoint) -> None:
    if 7 not in steps():
        pytest.skip("no checkpoint 7")
    url = checkpoint(7)
    signup(url, fresh("ada"))
    finished(url)
    call(f"{url}/_workshop/timeline/reset", "POST")
    first = call(f"{url}/digests", "POST")
    under_way(url, f"job {first['id'][:8]}")
    second = call(f"{url}/digests", "POST")
    done = finished(url, 2)
    rows = [r for r in done if r["path"] == "/digests"]
    assert [[j["name"] for j in kind(r, "job")] for r in rows] == [
        [f"job {first['id'][:8]}"],
        [f"job {second['id'][:8]}"],
    ], rows
    # each digest emails the one subscriber once, on its own row
    assert [len(kind(r, "email")) for r in rows] == [1, 1], rows


def test_two_signups_on_step_8_keep_the_emails_the_worker_sent(step8: Step8) -> None:
    """The worker's inserts name their Celery task, and so their request."""
    url = step8.url
    step8.start_worker()
    addresses = [fresh("ada"), fresh("bob")]
    for address in addresses:
        signup(url, address)
        under_way(url, f"email to {address}")
    deadline = time.monotonic() + WAIT * 3
    while True:
        requests = call(f"{url}/_workshop/timeline.json")["requests"]
        rows = [r for r in requests if r["path"] == "/subscribers"]
        bars = [b for r in rows for b in kind(r, "worker")]
        if len(bars) == 2 and all(b["status"] == "done" for b in bars):
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{requests}\n{step8.worker_log()}")
        time.sleep(POLL)
    for row, address in zip(rows, addresses, strict=True):
        mine, others = own_emails(row, address)
        assert len(mine) == 1, row
        assert len(others) == 1, f"one admin notice on each row: {row}"
