"""A time limit for each step test when it runs outside `workshop check`.

`workshop check` runs the suites under its supervisor (workshop/checks/suites.py),
which stops a test that runs too long and says where app/ was stuck; it sets
WORKSHOP_SUPERVISED, and then nothing here is armed. The editor's Testing
panel (and a plain `pytest tests/steps`) has no supervisor, so an endless
background task would hang the panel until it is restarted. Here each test
gets the same limit as under `workshop check` (WORKSHOP_TEST_LIMIT, default
`Limits.test` of workshop/checks/suites.py), spread over its
setup, call and teardown. A test that needs longer by design (a job that
comes back only after a broker's timeout) says so with
`@pytest.mark.time_limit(SECONDS)`: it gets the larger of the two, here and
under `workshop check` (workshop/checks/plugin.py reads the same marker):

- POSIX: SIGALRM interrupts the test in the main thread and fails it with a
  traceback that ends where it was stuck;
- everywhere (and alone on Windows, which has no SIGALRM): faulthandler
  writes every thread's stack and ends the process a few seconds later, for
  code that never returns to the interpreter;
- after a test ran out of time, the process may hold a thread that never
  ends (the test client's event loop, stuck in the task): the process then
  ends by the same means a few seconds after the session, instead of hanging.

Not pytest-timeout: that would be one more locked package on every learner's
machine and in the room's kit for these few lines, which use the same two
mechanisms (its "signal" and "thread" methods).
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from workshop.checks.plugin import TIME_LIMIT_MARKER
from workshop.checks.suites import Limits

# seconds: one default for both sides, so a test that passes in the editor's
# Testing panel has the time it gets under `workshop check`
DEFAULT_LIMIT = Limits.test
GRACE = 5.0  # seconds after the limit before faulthandler ends the process
FLOOR = 0.5  # seconds any phase gets, so that teardown can still clean up
# The alarm repeats every second until disarmed: code that catches the first
# one (a test client's `with` block waiting for its stuck task on the way out)
# is interrupted again, so the test still ends.
REPEAT = 1.0


class TimeLimit(Exception):
    """A step test ran out of time (outside `workshop check`)."""


def armed() -> bool:
    """No supervisor runs this pytest: the limits are ours to keep."""
    return not os.environ.get("WORKSHOP_SUPERVISED")


MARKER = TIME_LIMIT_MARKER  # @pytest.mark.time_limit(30): this test may take 30 s


def limit(asked: float | None = None) -> float:
    """WORKSHOP_TEST_LIMIT (or the default), or what the test `asked` if longer."""
    text = os.environ.get("WORKSHOP_TEST_LIMIT") or str(DEFAULT_LIMIT)
    try:
        configured = max(float(text), FLOOR)
    except ValueError:
        configured = DEFAULT_LIMIT
    return max(configured, asked or 0.0)


def asked(item: object) -> float | None:
    """The seconds a test asks for with @pytest.mark.time_limit(N), if it does."""
    marker = item.get_closest_marker(MARKER)  # type: ignore[attr-defined]
    if marker is None:
        return None
    seconds = marker.args[0] if marker.args else marker.kwargs.get("seconds")
    return float(seconds)


class Budget:
    """What is left of one test's time, phase after phase."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.ran_out = False

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), FLOOR)


@contextmanager
def time_limit(budget: Budget) -> Iterator[None]:
    """Arm the alarm (where there is one) and the faulthandler backstop."""
    seconds = budget.left()
    faulthandler.dump_traceback_later(seconds + GRACE, exit=True)
    alarm = hasattr(signal, "setitimer") and (
        threading.current_thread() is threading.main_thread()
    )
    previous: Callable | int | None = None
    if alarm:

        def ran_out(signum: int, frame: object) -> None:
            budget.ran_out = True
            raise TimeLimit(
                f"did not finish in {budget.seconds:g} s: does a background task "
                "or a path operation never end? (see where it was stuck above)"
            )

        previous = signal.signal(signal.SIGALRM, ran_out)
        signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


def end_soon_if_stuck(budgets: list[Budget]) -> None:
    """After the session: a test that ran out of time may have left a thread
    that never ends; make sure the process still exits."""
    if any(b.ran_out for b in budgets):
        sys.stderr.flush()
        faulthandler.dump_traceback_later(GRACE, exit=True)
