"""`workshop goto N`: make app/ equal to checkpoint N, saving the learner's work
first (see workshop/switch/ for how nothing is ever lost)."""

from __future__ import annotations

from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError
from workshop.project import APP, Step, get_step, require_git
from workshop.switch import Goal, Session, session, switch
from workshop.ui import style


def goto(root: Path, step_name: str) -> int:
    require_git(root, "goto")
    step = get_step(root, step_name)
    checkpoint = step.app.relative_to(root).as_posix()
    if not step.app.is_dir():
        raise WorkshopError(f"{checkpoint}/ is missing: step {step.number} has no app")
    with session(root, f"goto {step.number}") as current:
        return go(current, step, checkpoint)


def go(current: Session, step: Step, checkpoint: str) -> int:
    """Make app/ the checkpoint's app/ (saving it first) and record the step done."""
    root, command = current.root, f"goto {step.number}"
    head = git.head_commit(root)
    snap = git.snapshot(root, [APP, checkpoint], base=head)
    target = snap.folders.get(checkpoint)
    if target is None:
        raise WorkshopError(f"{checkpoint}/ holds no files")
    goal = Goal(command, f"before {command}", f"app/ is now step {step.number}",
                step.number, sets_progress=True)  # fmt: skip
    if not switch(current, head, snap, target, goal):
        print(f"app/ already equals step {step.number}: nothing to do.")
        return 0
    print(f"app/ is now {style(step.title, 'bold')} ({checkpoint}).")
    return 0
