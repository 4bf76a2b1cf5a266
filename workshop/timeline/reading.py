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


def reading(
    events: Sequence[Event], *, done: bool, stalls: Sequence[Event] = ()
) -> str:
    """The sentence for one request; `events[0]` is the request's own bar.
    `stalls`: when the event loop was blocked while it waited, or just before
    the server could read it (start_ms, end_ms, by)."""
    waited = events[0]["end_ms"]
    if waited is None:
        return "no response was sent" if done else "the client is waiting..."
    others = events[1:]
    text = f"client waited {waited:.0f} ms" + _stalls(stalls)
    inside = [e for e in others if e["kind"] == "email" and e["start_ms"] < waited]
    if inside:
        text += ": " + _inside(inside)
    jobs = [e for e in others if e["kind"] == "job"]
    jobs_final = bool(jobs) and all(e["status"] in FINAL for e in jobs)
    clauses = [
        *_tasks([e for e in others if e["kind"] == "task"], waited),
        *_failed_emails([e for e in others if e["kind"] == "email"]),
        *(_job(e, waited) for e in others if e["kind"] == "job"),
        *(_worker(e, waited, jobs_final) for e in others if e["kind"] == "worker"),
    ]
    return "; ".join([text, *clauses])


def _stalls(stalls: Sequence[Event]) -> str:
    """How the blocked loop shows in the wait: inside it, or before it."""
    during = [s for s in stalls if s["end_ms"] > 0]
    before = [s for s in stalls if s["end_ms"] <= 0]
    text = ""
    if during:
        total = sum(s["end_ms"] - max(s["start_ms"], 0) for s in during)
        text += f", {span(total)} of it while {during[0]['by']} blocked the event loop"
    if before:
        stall = before[-1]
        text += (
            f" (from when the server could read the request: {stall['by']} had"
            f" blocked the event loop for {span(stall['end_ms'] - stall['start_ms'])}"
            " just before: a client that sent it meanwhile waited until then, up to"
            " that long more)"
        )
    return text


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
    for task in tasks:
        if task.get("blocked"):
            held = sum(b - a for a, b in task["blocked"])
            clauses.append(
                f"{task['name']} blocked the event loop for {span(held)}:"
                " no request could be answered meanwhile"
            )
    return clauses


def _failed_emails(emails: Sequence[Event]) -> list[str]:
    failed = [e for e in emails if e["status"] == "failed"]
    return [f"{plural(len(failed), 'email')} failed"] if failed else []


def _job(job: Event, waited: float) -> str:
    what = f"{job['name']} {job['status']}"
    if job["status"] in FINAL and job["end_ms"] is not None:
        return f"{what} {span(job['end_ms'] - waited)} after the response"
    return what


def _worker(job: Event, waited: float, unseen: bool) -> str:
    """A task sent to a Celery worker: when it ran there, against the response.
    `unseen`: the request's job row is final though no worker said it ran."""
    name = str(job["name"]).removeprefix("worker: ")
    phases = job.get("phases", [])
    started = [at for status, at in phases if status == "running"]
    lost = sum(1 for status, _ in phases if status == "lost")
    again = (
        f"{name} was delivered again ({plural(lost, 'run')} never finished:"
        " its worker stopped); "
        if lost
        else ""
    )
    if not started and unseen:
        return (
            f"{name} ran in a worker the timeline does not see"
            " (start the worker with `workshop worker` to see it)"
        )
    if not started:
        return f"{name} waits for a worker"
    status = job["status"]
    if status == "running":
        return f"{again}{name} running in the worker"
    if status not in FINAL:
        return f"{again}{name} {status} in the worker"
    begun = started[-1] - waited
    when = (
        f"{span(begun)} after the response"
        if begun >= 0
        else "starting before the response was sent"
    )
    verb = "failed" if status == "failed" else "ran"
    return f"{again}{name} {verb} in the worker, {when}"
