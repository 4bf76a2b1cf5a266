"""A checkpoint served beside `make run` keeps its own database (issue 21).

The path is what the checkpoint's own app/config.py makes of the variables,
in a child started where `workshop serve` starts it (the checkout).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workshop.devserver.served_data import served_env

ROOT = Path(__file__).resolve().parents[2]
SHOW = "from app.config import settings; print(settings.newsletter_db.resolve())"


def database_of(folder: Path, env: dict[str, str]) -> Path:
    """The database file the app in `folder` opens, started from ROOT."""
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(folder)!r}); "
         + SHOW], cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(done.stdout.strip())


def test_a_served_checkpoint_does_not_open_the_learners_database() -> None:
    base = {k: v for k, v in os.environ.items() if k != "NEWSLETTER_DB"}
    learners = database_of(ROOT, {**base, **served_env(ROOT, ROOT, base)})
    step_5 = ROOT / "checkpoints" / "step-5"
    before = database_of(step_5, base)  # what serve --checkpoint 5 opened
    after = database_of(step_5, {**base, **served_env(ROOT, step_5, base)})

    assert learners == ROOT / "data" / "newsletter.db"
    assert before == learners  # the finding: one file for both apps
    assert after != learners
    assert after == ROOT / ".workshop" / "served" / "step-5" / "newsletter.db"


def test_a_database_the_user_chose_wins(tmp_path) -> None:
    chosen = {"NEWSLETTER_DB": str(tmp_path / "mine.db")}
    assert served_env(ROOT, ROOT / "checkpoints" / "step-5", chosen) == {}
