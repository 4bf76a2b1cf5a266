"""Named moments where a test makes a kill, a signal or a race happen on cue.

`WORKSHOP_FAULT=POINT:ACTION[,POINT:ACTION...]` (unset for every real user):
POINT is a name the switch passes to `point()` (`after-snapshot`, `switched`,
`moved@3`: after the third rename); ACTION is `pause` (write the file named by
WORKSHOP_FAULT_PAUSE, then wait until the test deletes it) or a signal's name,
`sigint`, `sigterm`, `sighup`, `sigkill`, sent to this very process.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PAUSE_LIMIT = 60.0  # seconds: a forgotten pause file never hangs a test run


def point(name: str) -> None:
    """Act as WORKSHOP_FAULT says when the switch reaches the moment `name`."""
    spec = os.environ.get("WORKSHOP_FAULT")
    if not spec:
        return
    plan = dict(item.rpartition(":")[::2] for item in spec.split(","))
    action = plan.get(name, "")
    pause = os.environ.get("WORKSHOP_FAULT_PAUSE")
    if action == "pause" and pause:
        Path(pause).write_text(f"{os.getpid()} {name}\n", encoding="utf-8")
        deadline = time.monotonic() + PAUSE_LIMIT
        while Path(pause).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    elif action.startswith("sig"):
        os.kill(os.getpid(), getattr(signal, action.upper()))
        time.sleep(0.02)  # let the signal arrive before the next step
