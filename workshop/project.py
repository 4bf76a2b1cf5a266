"""Where things are: the workshop checkout we run in, its steps and their folders.

Every command works on the checkout found from the current directory, never on
the place this package was installed from. Finding it needs no git, so a ZIP
download can run, check and hint; the commands that need git ask for it with
`require_git()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from workshop import git
from workshop.course.guide import Guide
from workshop.errors import WorkshopError

CHECKPOINTS = "checkpoints"
APP = "app"
SUITES = Path("tests") / "steps"
STATE = ".workshop"  # git-ignored: local state such as hint progress

_STEP_DIR = re.compile(r"^step-(\d+)$")


def find_root(start: Path | None = None) -> Path:
    """The top of the workshop checkout that contains `start` (default: cwd)."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / CHECKPOINTS).is_dir():
            return folder
    raise WorkshopError(
        f"not inside the workshop: no {CHECKPOINTS}/ folder in {start} or above"
    )


def require_git(root: Path, command: str) -> None:
    """Stop with one line when `root` is not the top of a git checkout."""
    top = git.toplevel(root)
    if top is None or top.resolve() != root.resolve():
        raise WorkshopError(
            f"'workshop {command}' needs git, and {root} is not a git checkout "
            "(a ZIP download?): clone the repository instead"
        )


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

    @cached_property
    def title(self) -> str:
        """The guide's first heading, e.g. 'Step 1 — Respond first, work after'."""
        try:
            text = self.guide.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return self.name
        return Guide.parse(text, self.guide).title or self.name

    @property
    def label(self) -> str:
        """'Step 1 — Respond first' from the guide, or 'Step 1' without one."""
        return self.title if self.title != self.name else f"Step {self.number}"


def steps(root: Path) -> list[Step]:
    """Every step that has a checkpoint folder, in order (may be none)."""
    found = []
    for path in (root / CHECKPOINTS).iterdir():
        match = _STEP_DIR.match(path.name)
        if match and path.is_dir():
            found.append(Step(int(match.group(1)), root))
    return sorted(found, key=lambda s: s.number)


def all_steps(root: Path) -> list[Step]:
    """Every step, or one clear error when there is none."""
    found = steps(root)
    if not found:
        raise WorkshopError(f"no steps found: {root / CHECKPOINTS} has no step-N")
    return found


def get_step(root: Path, value: str | int) -> Step:
    """The step named by `value` ('3', 3 or 'step-3'); else an error naming all."""
    found = steps(root)
    text = str(value).removeprefix("step-")
    for step in found:
        if text == str(step.number):
            return step
    valid = ", ".join(str(s.number) for s in found) or "none"
    raise WorkshopError(f"unknown step {value!r}: valid steps are {valid}")
