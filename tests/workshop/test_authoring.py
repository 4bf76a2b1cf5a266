"""`make test` on a learner's checkout: one line, and nothing touched."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEARNER_MAIN = "import asyncio\n\nSTEP = 0\n"  # an import they just added


def test_make_test_stops_in_one_line_on_a_learner_app(
    workshop_repo: Path,
) -> None:
    """`make test` is the authors' proof: on a learner's app/ it says so, and
    touches nothing (the guard runs before any hook)."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert (
        recipe.splitlines()[1].strip() == "@$(BIN)/python -m workshop.course.authoring"
    )

    guard = [sys.executable, "-m", "workshop.course.authoring"]
    done = subprocess.run(guard, cwd=workshop_repo, capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (0, "")
    main = workshop_repo / "app" / "main.py"
    main.write_text(LEARNER_MAIN, encoding="utf-8")
    done = subprocess.run(guard, cwd=workshop_repo, capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "workshop: make test is the authors' proof, and app/ holds your work: "
        "check it with 'workshop check' (or .venv/bin/workshop check)\n"
    )
    assert main.read_text(encoding="utf-8") == LEARNER_MAIN
