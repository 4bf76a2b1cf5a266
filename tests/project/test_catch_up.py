"""Catching up (or going back) never meets data the app cannot handle.

`workshop goto N`, `git checkout step-N` and `workshop serve --checkpoint N`
all use the same data/newsletter.db. Data another step wrote must not make a
step answer 500 where the app is served hardened (`make run`, the checks:
workshop/hardening.py sets such a file aside), and a table an earlier step
made must not lack a column a later step needs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("catch_up.py")


def checkpoints() -> list[Path]:
    """checkpoints/step-N for every N, found by folder (later steps too)."""
    found = [path.parent for path in ROOT.glob("checkpoints/step-*/app")]
    return sorted(found, key=lambda path: int(path.name.removeprefix("step-")))


def test_every_step_runs_on_data_every_other_step_wrote(tmp_path: Path) -> None:
    """For every ordered pair (a, b), b's app answers no 500 on a's database file."""
    steps = checkpoints()
    assert len(steps) >= 2, steps
    # SQLite syncs every commit to disk: in memory (/dev/shm) the 64 runs take
    # a third of the time
    in_memory = Path("/dev/shm")
    parent = in_memory if os.access(in_memory, os.W_OK) else tmp_path
    with tempfile.TemporaryDirectory(dir=parent) as work:
        result = subprocess.run(
            [sys.executable, str(DRIVER), work, *map(str, steps)],
            cwd=work,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-4000:]
    problems = json.loads(result.stdout)
    assert problems == [], "\n".join(problems)
