"""`workshop room REPO... | --file F`: who is on which step, for an instructor.

Every learner's repository goes through this checkout's checks (see
workshop/room/review.py for the cache, the isolation and the limits), and one
table comes out: learner, current step, first failing check, last commit.
`--json` for scripts, `--watch` to look again every few seconds; only the
repositories whose app/ changed are checked again. Without a sandbox
(bubblewrap) it says how to get one, in one line, and shows last commits.
SIGTERM and SIGHUP end the room as Ctrl-C does: every jail it started ends.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from workshop.errors import WorkshopError
from workshop.room import review, sandbox
from workshop.ui import bad, ok, plural, style

CHECK_WIDTH = 52


def room(
    root: Path,
    sources: list[str],
    *,
    file: Path | None = None,
    as_json: bool = False,
    watch: bool = False,
    interval: float = 30.0,
    jobs: int | None = None,
    cache: Path | None = None,
    rounds: int | None = None,  # tests: stop watching after this many looks
) -> int:
    people = review.learners([*sources, *(review.read_list(file) if file else [])])
    if not people:
        raise WorkshopError("no learner repositories: name them, or --file FILE")
    if interval <= 0:
        raise WorkshopError(f"--interval must be more than 0 seconds, not {interval}")
    workers = jobs or review.default_jobs()
    the_room = review.Room(root, cache or root / review.CACHE, workers)
    if the_room.bwrap is None:
        print(f"no sandbox here: {sandbox.HOW}; showing last commits only",
              file=sys.stderr)  # fmt: skip
    previous = _end_on_hangup()
    try:
        return _look(the_room, people, as_json, watch, interval, rounds)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _look(
    the_room: review.Room, people: list[review.Learner], as_json: bool, watch: bool,
    interval: float, rounds: int | None,
) -> int:  # fmt: skip
    """Look at the room once, or again every `interval` seconds."""
    looks = 0
    while True:
        started = time.monotonic()
        rows = the_room.check(people, progress=None if as_json else _progress)
        seconds = time.monotonic() - started
        if watch and not as_json and sys.stdout.isatty():
            print("\033[H\033[2J", end="")  # a fresh screen each look
        if as_json:
            print(json.dumps(as_data(rows, seconds), indent=2))
        else:
            print_table(rows, seconds)
        looks += 1
        if not watch or (rounds is not None and looks >= rounds):
            return 0
        if not as_json:
            print(style(f"again in {interval:g} s (Ctrl-C stops)", "dim"))
        time.sleep(interval)


def _end_on_hangup() -> dict[int, Any]:
    """SIGTERM and SIGHUP as Ctrl-C: the room's cleanup (every child killed,
    every temporary folder removed) runs, instead of a death that skips it.
    The handlers before, to put back (none off the main thread)."""

    def interrupt(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        return {}
    numbers = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    return {number: signal.signal(number, interrupt) for number in numbers}


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\rchecked {done}/{total}", end=end, file=sys.stderr, flush=True)


def print_table(rows: list[review.Row], seconds: float) -> None:
    width = max([7, *(len(review.clean(r.name)) for r in rows)])
    print(f"{'learner':<{width}}  step  {'first failing check':<{CHECK_WIDTH}}  "
          "last commit")  # fmt: skip
    for row in rows:
        step = "done" if row.finished else ("?" if row.step is None else str(row.step))
        name = review.clean(row.name)
        print(f"{name:<{width}}  {step:<4}  {_check(row):<{CHECK_WIDTH}}  "
              f"{_when(row.committed)}")  # fmt: skip
        if row.error:
            print(style(f"{'':<{width}}  {bad('!')} {review.clean(row.error)}", "dim"))
    print()
    print(summary(rows, seconds))


def _check(row: review.Row) -> str:
    text = review.clean(row.check or "")
    if row.hangs:
        text = f"(hangs) {text}"
    if len(text) > CHECK_WIDTH:
        text = text[: CHECK_WIDTH - 1] + "…"
    return text


def _when(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M")


def summary(rows: list[review.Row], seconds: float) -> str:
    """'3 learners: step 0: 1, step 4: 1, done: 1 · 2 checked, 1 unchanged'."""
    keys = ["done" if r.finished else r.step for r in rows]
    counts = Counter(k for k in keys if k is not None)
    parts = [f"step {k}: {counts[k]}" for k in sorted(k for k in counts if k != "done")]
    if counts["done"]:
        parts.append(ok(f"done: {counts['done']}"))
    if None in keys:
        parts.append(bad(f"unknown: {keys.count(None)}"))
    ran = sum(r.ran for r in rows)
    not_run = sum(r.error == review.NOT_RUN for r in rows)
    checked = (
        f"{ran} checked, {len(rows) - ran - not_run} unchanged"
        + (f", {not_run} not run (no sandbox)" if not_run else "")
        + f", in {seconds:.1f} s"
    )
    return f"{plural(len(rows), 'learner')}: {', '.join(parts)} · {checked}"


def as_data(rows: list[review.Row], seconds: float) -> dict:
    learners = []
    for row in rows:
        data = asdict(row)
        data["last_commit"] = (
            datetime.fromtimestamp(row.committed).astimezone().isoformat()
            if row.committed
            else None
        )
        learners.append(data)
    return {"learners": learners, "seconds": round(seconds, 2)}
