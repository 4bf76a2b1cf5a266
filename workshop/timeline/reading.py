"""The one line under each row of the timeline: what the bars mean.

"client waited 4 ms; 3 tasks ran for 1.0 s after the response", or on step 0
"client waited 1003 ms: the email was sent inside the request", or on step 8
"client waited 12 ms; send_digest ran in the worker, 0.9 s after the
response". It is built
from the same events the JSON gives (times in ms from the request's arrival),
so the page, the JSON and the tests read one sentence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Event = Mapping[str, Any]
FINAL = {"sent", "done", "failed"}


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"


def span(ms: float) -> str:
    """4 ms, 250 ms, 1.0 s, 12.3 s."""
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def reading(events: Sequence[Event], *, done: bool) -> str:
    """The sentence for one request; `events[0]` is the request's own bar."""
    waited = events[0]["end_ms"]
    if waited is None:
        return "no response was sent" if done else "the client is waiting..."
    others = events[1:]
    text = f"client waited {waited:.0f} ms"
    inside = [e for e in others if e["kind"] == "email" and e["start_ms"] < waited]
    if inside:
        text += ": " + _inside(inside)
    clauses = [
        *_tasks([e for e in others if e["kind"] == "task"], waited),
        *_failed_emails([e for e in others if e["kind"] == "email"]),
        *(_job(e, waited) for e in others if e["kind"] == "job"),
        *(_worker(e, waited) for e in others if e["kind"] == "worker"),
    ]
    return "; ".join([text, *clauses])


def _inside(emails: Sequence[Event]) -> str:
    what = "the email was" if len(emails) == 1 else f"{len(emails)} emails were"
    return f"{what} sent inside the request"


def _tasks(tasks: Sequence[Event], waited: float) -> list[str]:
    if not tasks:
        return []
    running = [t for t in tasks if t["end_ms"] is None]
    if running:
        clauses = [f"{plural(len(tasks), 'task')} after the response, still running"]
    else:
        after = max(t["end_ms"] for t in tasks) - waited
        ran = f"{plural(len(tasks), 'task')} ran for {span(after)}"
        clauses = [f"{ran} after the response"]
    failed = [t["name"] for t in tasks if t["status"] == "failed"]
    if failed:
        clauses.append(f"{', '.join(failed)} failed")
    return clauses


def _failed_emails(emails: Sequence[Event]) -> list[str]:
    failed = [e for e in emails if e["status"] == "failed"]
    return [f"{plural(len(failed), 'email')} failed"] if failed else []


def _job(job: Event, waited: float) -> str:
    what = f"{job['name']} {job['status']}"
    if job["status"] in FINAL and job["end_ms"] is not None:
        return f"{what} {span(job['end_ms'] - waited)} after the response"
    return what


def _worker(job: Event, waited: float) -> str:
    """A task sent to a Celery worker: when it ran there, against the response."""
    name = str(job["name"]).removeprefix("worker: ")
    started = [at for status, at in job.get("phases", []) if status == "running"]
    if not started:
        return f"{name} waits for a worker"
    status = job["status"]
    if status == "running":
        return f"{name} running in the worker"
    if status not in FINAL:
        return f"{name} {status} in the worker"
    begun = started[0] - waited
    when = (
        f"{span(begun)} after the response"
        if begun >= 0
        else "starting before the response was sent"
    )
    verb = "failed" if status == "failed" else "ran"
    return f"{name} {verb} in the worker, {when}"
