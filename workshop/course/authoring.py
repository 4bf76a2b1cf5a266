"""`python -m workshop.course.authoring`: stop `make test` in a learner's checkout.

`make test` is the authors' proof (lint, every checkpoint, the tags); on a
checkout whose app/ holds a learner's work it would only fail at "app/ equals
step 0". It says so in one line and names the learner's command instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workshop.commands.verify import compare_trees, starting_step
from workshop.errors import WorkshopError
from workshop.project import APP, all_steps, find_root
from workshop.ui import error_line


def learner_work(root: Path) -> bool:
    """Whether app/ differs from the checkpoint it starts from (step 0 on main)."""
    return bool(compare_trees(root / APP, starting_step(root, all_steps(root)).app))


def main() -> int:
    try:
        root = find_root()
        if learner_work(root):
            error_line(
                "make test is the authors' proof, and app/ holds your work: "
                "check it with 'workshop check' (or .venv/bin/workshop check)"
            )
            return 2
    except WorkshopError as error:
        error_line(str(error))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
