"""Named moments where a test makes a race or a signal happen on cue.

`WORKSHOP_FAULT=POINT:ACTION[,POINT:ACTION...]` (unset for every real user)
makes the command act at that moment instead of hoping a timing falls right:

- POINT is a name the code passes to `point()`, e.g. `after-snapshot`,
  `switched`, or `moved@3` (after the third rename);
- ACTION is `pause` (write the file named by WORKSHOP_FAULT_PAUSE, then wait
  until the test deletes it), or `sigint`, `sigterm`, `sighup`, `sigkill`
  (send that signal to this very process).

Tests of goto and restore use it to prove what happens on a kill, a closed
terminal, a second command or an editor saving, at the one moment that matters.
"""

from __future__ import annotations

import os
import signal
import time
from functools import cache
from pathlib import Path

ENV = "WORKSHOP_FAULT"
PAUSE_ENV = "WORKSHOP_FAULT_PAUSE"
PAUSE_LIMIT = 60.0  # seconds: a forgotten pause file never hangs a test run


@cache
def _plan(spec: str) -> dict[str, str]:
    """'a:pause,moved@3:sigterm' -> {'a': 'pause', 'moved@3': 'sigterm'}."""
    pairs = (item.rpartition(":") for item in spec.split(",") if item)
    return {name: action for name, _, action in pairs}


def point(name: str) -> None:
    """Act as WORKSHOP_FAULT says when the code reaches the moment `name`."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    action = _plan(spec).get(name)
    if action == "pause":
        _pause(name)
    elif action:
        number = getattr(signal, action.upper(), None)
        if number is not None:
            os.kill(os.getpid(), number)
            time.sleep(0.02)  # let the signal arrive before the next step


def _pause(name: str) -> None:
    """Write the pause file, then wait until the test removes it."""
    if not os.environ.get(PAUSE_ENV):
        return
    path = Path(os.environ[PAUSE_ENV])
    path.write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
    deadline = time.monotonic() + PAUSE_LIMIT
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
