"""No hook or command we give learners rewrites or deletes their code unasked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from project_files import ROOT

BIN = Path(sys.executable).parent
LEARNER_MAIN = "import asyncio\n\nSTEP = 0\n"  # an import they just added, unused


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_pre_commit_hooks_keep_an_unused_import_in_app(tmp_path: Path) -> None:
    """`ruff check --fix` in the hooks must not delete what a learner typed."""
    for name in (".pre-commit-config.yaml", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "app").mkdir()
    main = tmp_path / "app" / "main.py"
    main.write_text(LEARNER_MAIN, encoding="utf-8")
    git(tmp_path, "init", "--quiet")
    git(tmp_path, "add", "--all")
    env = {**os.environ, "SKIP": "workshop-verify-fast"}
    for hook in ("ruff-check", "ruff-format"):
        subprocess.run(
            [BIN / "pre-commit", "run", hook, "--all-files"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            check=False,
        )
    assert main.read_text(encoding="utf-8") == LEARNER_MAIN
