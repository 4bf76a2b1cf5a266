"""Where things are: the git checkout we run in, its steps, checkpoints and guides.

Every command works on the checkout found from the current directory, never on
the place this package was installed from.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from workshop.ui import WorkshopError

CHECKPOINTS = "checkpoints"
APP = "app"
SUITES = Path("tests") / "steps"
STATE = ".workshop"  # git-ignored: local state such as hint progress


def git(
    root: Path | None,
    *args: str,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run git and return its stdout; a failure becomes one clear WorkshopError."""
    if shutil.which("git") is None:
        raise WorkshopError("git is not installed or not on PATH")
    cmd = ["git", *(["-C", str(root)] if root else []), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, input=input, env=env)
    if check and result.returncode != 0:
        detail = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise WorkshopError(
            f"git {args[0]} failed: {detail[-1] if detail else result.returncode}"
        )
    return result.stdout


def find_root(start: Path | None = None) -> Path:
    """The top of the workshop checkout that contains `start` (default: cwd)."""
    start = (start or Path.cwd()).resolve()
    if shutil.which("git") is None:
        raise WorkshopError("git is not installed or not on PATH")
    result = subprocess.run(
        ["git", "-C", str(start), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise WorkshopError(f"not inside a git checkout: {start}")
    root = Path(result.stdout.strip())
    if not (root / CHECKPOINTS).is_dir():
        raise WorkshopError(
            f"not a workshop checkout (no {CHECKPOINTS}/ folder): {root}"
        )
    return root


_STEP_DIR = re.compile(r"^step-(\d+)$")
_TITLE = re.compile(r"^#\s+(.*\S)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Step:
    number: int
    root: Path

    @property
    def name(self) -> str:
        return f"step-{self.number}"

    @property
    def checkpoint(self) -> Path:
        """The folder that holds this step's finished `app/` and its guide."""
        return self.root / CHECKPOINTS / self.name

    @property
    def app(self) -> Path:
        return self.checkpoint / APP

    @property
    def guide(self) -> Path:
        return self.checkpoint / "README.md"

    @property
    def suite(self) -> Path:
        return self.root / SUITES / f"test_step_{self.number}.py"

    @cached_property
    def title(self) -> str:
        """The guide's first heading, e.g. 'Step 1 — Respond first, work after'."""
        try:
            text = self.guide.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self.name
        return guide_title(text) or self.name


def guide_title(text: str) -> str | None:
    """The first `# ` heading of a guide's Markdown text."""
    match = _TITLE.search(text)
    return match.group(1) if match else None


def steps(root: Path) -> list[Step]:
    """Every step that has a checkpoint folder, in order."""
    found = []
    for path in (root / CHECKPOINTS).iterdir():
        match = _STEP_DIR.match(path.name)
        if match and path.is_dir():
            found.append(Step(int(match.group(1)), root))
    return sorted(found, key=lambda s: s.number)


def get_step(root: Path, value: str | int) -> Step:
    """The step named by `value` ('3', 3 or 'step-3'); else an error naming all."""
    all_steps = steps(root)
    text = str(value).removeprefix("step-")
    for step in all_steps:
        if text == str(step.number):
            return step
    valid = ", ".join(str(s.number) for s in all_steps) or "none"
    raise WorkshopError(f"unknown step {value!r}: valid steps are {valid}")
