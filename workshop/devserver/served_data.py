"""Where a served checkpoint keeps its data: its own folder, not `make run`'s.

Every checkpoint's app reads NEWSLETTER_DB (default `data/newsletter.db`,
relative to the checkout, where `workshop serve` runs it), and steps 8 and 9
keep their SQLite broker beside it. So `workshop serve --checkpoint 5` next
to `make run` opened the learner's own database: when the schemas differed,
the checkpoint's start moved it aside (workshop/hardening.py) and the
learner's running app suddenly listed no subscribers.

A checkpoint served (and its worker: both must see the same file) gets
`.workshop/served/step-N/newsletter.db` instead, unless NEWSLETTER_DB is set
by the user. `workshop serve` and `workshop worker` apply it before they
start the app (`served_folder`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from workshop.project import STATE, get_step

VARIABLE = "NEWSLETTER_DB"


def served_env(
    root: Path, folder: Path, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables that give the app in `folder` its own database.

    `folder` is what is served: `root` itself (app/, the learner's: nothing
    changes) or a checkpoint's folder (its own file under .workshop/served/).
    A NEWSLETTER_DB the user set wins: they chose where their data goes.
    """
    environ = os.environ if environ is None else environ
    if folder.resolve() == root.resolve() or VARIABLE in environ:
        return {}
    own = root.resolve() / STATE / "served" / folder.name / "newsletter.db"
    return {VARIABLE: str(own)}


def served_folder(root: Path, checkpoint: str | None) -> Path:
    """The folder whose app/ is served (`root`, or checkpoint N's), its own
    database set in os.environ for the processes that serve it."""
    folder = get_step(root, checkpoint).checkpoint if checkpoint is not None else root
    os.environ.update(served_env(root, folder))
    return folder
