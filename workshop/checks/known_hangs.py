"""A hang already seen in this run is named within a second, not waited out.

When a test of one step hangs in app/ (a task that never ends), the
supervisor stops it at its time limit and says where app/ was stuck
(workshop/checks/suites.py). The steps after it in the same run go on in a
fresh child; the same mistake would make each of their tests wait out the
limit again. This child is told the places already seen stuck: a thread
looks at every thread's frames 20 times a second, and a test whose code sits
at one of those lines for `SURE` seconds is stopped at once, as a hang at
the place already named.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

LOOK = 0.05  # seconds between looks
SURE = 0.5  # seconds at a known place before it counts as the same hang


def at_known_place(known: set[tuple[str, int]]) -> tuple[str, int] | None:
    """(file, line) of a known place where some thread is now, if any."""
    for frame in list(sys._current_frames().values()):
        while frame is not None:
            place = (str(Path(frame.f_code.co_filename).resolve()), frame.f_lineno)
            if place in known:
                return place
            frame = frame.f_back
    return None


def watch(
    known: set[tuple[str, int]],
    current_test: Callable[[], str | None],
    stuck: Callable[[tuple[str, int]], None],
) -> threading.Thread:
    """A daemon thread calling `stuck(place)` once when the running test (by
    `current_test()`) has been at a known place for SURE seconds."""

    def look() -> None:
        since: dict[tuple[str | None, tuple[str, int]], float] = {}
        while True:
            time.sleep(LOOK)
            test, place = current_test(), at_known_place(known)
            if test is None or place is None:
                since.clear()
                continue
            first = since.setdefault((test, place), time.monotonic())
            if time.monotonic() - first >= SURE:
                stuck(place)
                return

    thread = threading.Thread(target=look, name="workshop-known-hangs", daemon=True)
    thread.start()
    return thread
