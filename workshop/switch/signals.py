"""Ctrl-C, a kill or a closed terminal while app/ is being switched.

Python's default reaction would stop a switch anywhere, leaving app/ half
switched. So while a goto or restore runs, every catchable signal only takes a
note (`Guard.received`). The switch looks at it before its first rename (and
stops, app/ untouched) and after its last (and says app/ was switched): the
renames in between take well under a second, and are never cut in two.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from workshop.errors import WorkshopError

NAMES = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")  # those that exist here
CATCHABLE = tuple(getattr(signal, n) for n in NAMES if hasattr(signal, n))
_NICE = {signal.SIGINT: "Ctrl-C", getattr(signal, "SIGBREAK", -1): "Ctrl-Break"}


class Interrupted(WorkshopError):
    """Stopped by a signal: one line that says what state app/ is in."""

    def __init__(self, message: str, number: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + number  # 130 for Ctrl-C, as shells report it


class Guard:
    """The first signal received while guarded, if any."""

    def __init__(self) -> None:
        self.received: int | None = None

    def note(self, number: int, _frame: FrameType | None = None) -> None:
        if self.received is None:
            self.received = number

    def check(self, state: str, when: str = "") -> None:
        """If a signal came, raise Interrupted saying which, and `state`."""
        if self.received is not None:
            number = self.received
            name = _NICE.get(number) or signal.Signals(number).name
            when = f" {when}" if when else ""
            raise Interrupted(f"interrupted by {name}{when}: {state}", number)


@contextmanager
def deferred() -> Iterator[Guard]:
    """Note signals instead of acting on them until the block ends.

    A signal the user set to be ignored (`nohup` ignores SIGHUP) stays
    ignored. Outside the main thread Python cannot catch signals, so there
    they act as usual.
    """
    guard = Guard()
    previous = {}
    try:
        for number in CATCHABLE:
            if signal.getsignal(number) is not signal.SIG_IGN:
                previous[number] = signal.signal(number, guard.note)
    except ValueError:
        pass  # not the main thread
    try:
        yield guard
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
