"""The lifeline of serve's and worker's processes (stop_with_parent, in
workshop/devserver/supervisor.py): stdin, held open by the supervisor, ends
the process when it closes, on every OS; the app itself reads an empty stdin."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import sys, time
from workshop.devserver.supervisor import stop_with_parent
stop_with_parent()
try:
    input()
except EOFError:
    print("input: EOF", flush=True)
time.sleep(60)
"""


def test_the_app_reads_an_empty_stdin_and_stops_when_the_lifeline_closes() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdin is not None
    # input() did not wait for the lifeline, which stays open
    assert child.stdout.readline() == "input: EOF\n"
    assert child.poll() is None, "it runs while the supervisor's end is open"
    child.stdin.close()  # what the OS does when the supervisor dies
    assert child.wait(timeout=10) != 0  # ended by SIGTERM, not after its sleep
