"""Send one report to the live room, then end: `python -I -S send.py`.

Started detached by reporting.py with the job on stdin: {"url", "body",
"down"}. The learner's command has already moved on; this process ends within
TIMEOUT whatever the room does. When the room does not take the report, it
writes `down` (the reason, and whether the learner was told) so the next
command says so once; when the room takes it, `down` is removed.

A script on its own, standard library only: it runs without site-packages.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT = 3.0  # seconds for the whole exchange, connect included
QUIET = {429}  # too many reports: the next one goes through, nothing to say


def send(url: str, body: dict) -> int:
    """POST the report; the HTTP status the room answered with."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def reason(status: int) -> str:
    if status in (403, 404):
        return "it no longer knows this checkout (restarted?): run workshop join again"
    return f"it answered {status}"


def note_down(path: Path, why: str) -> None:
    """Record the failure, keeping `told` so one outage is said only once."""
    try:
        told = bool(json.loads(path.read_text(encoding="utf-8")).get("told"))
    except (OSError, ValueError, AttributeError):
        told = False
    temporary = path.with_name(f"{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"reason": why, "told": told}), encoding="utf-8")
    os.replace(temporary, path)


def main() -> None:
    job = json.loads(sys.stdin.read(65536))
    down = Path(job["down"])
    try:
        status = send(job["url"], job["body"])
    except (OSError, ValueError) as error:
        note_down(down, f"it does not answer: {getattr(error, 'reason', error)}")
        return
    if status < 300:
        down.unlink(missing_ok=True)
    elif status not in QUIET:
        note_down(down, reason(status))


if __name__ == "__main__":
    # nobody reads this process's output: the learner has moved on
    with contextlib.suppress(OSError, ValueError, KeyError):
        main()
