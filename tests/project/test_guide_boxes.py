"""The "Do this first" box at the top of every guide stays true.

Each guide opens, right under its title, with a quoted box: the goal in one
sentence, the files to change (step 0: what to do instead), the command that
checks the step. Kept true here: the box has at most 100 words; its files are
exactly the files step N changes (checkpoint N-1 to checkpoint N, as
`workshop diff N` shows them) and exist in checkpoint N; its command is
`workshop check N`. Step 0 changes nothing: its box says what to do, and the
files it names exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from project_files import ROOT

MAX_WORDS = 100
CHECKPOINTS = ROOT / "checkpoints"
STEPS = sorted(
    int(path.name.removeprefix("step-")) for path in CHECKPOINTS.glob("step-*")
)
FILE = re.compile(r"`(app/[\w/.]+)`")


def box(guide: str) -> dict[str, str]:
    """The box's items ("Goal", "Change", "Do", "Check") and its whole text."""
    lines = guide.splitlines()
    quoted = []
    for line in lines[1:]:  # after the title
        if line.startswith("## "):
            break
        if line.startswith(">"):
            quoted.append(line.removeprefix(">").strip())
    items = dict(re.findall(r"^- \*\*(\w+):\*\* (.*)$", "\n".join(quoted), re.M))
    return items | {"text": " ".join(quoted)}


def words(text: str) -> int:
    return len([word for word in text.split() if any(c.isalnum() for c in word)])


def app_files(app: Path) -> dict[str, bytes]:
    return {
        "app/" + path.relative_to(app).as_posix(): path.read_bytes()
        for path in app.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def changed_files(step: int) -> set[str]:
    """The files step `step` changes: added, removed or edited in its app/."""
    if step == STEPS[0]:
        return set()
    before = app_files(CHECKPOINTS / f"step-{step - 1}" / "app")
    after = app_files(CHECKPOINTS / f"step-{step}" / "app")
    return {name for name in before | after if before.get(name) != after.get(name)}


def box_problems(step: int, guide: str) -> list[str]:
    """What is wrong with the box of `guide`, the guide of `step` (empty: fine)."""
    found = box(guide)
    problems = []
    if not found["text"]:
        return ["no '> **Do this first**' box under the title"]
    if words(found["text"]) > MAX_WORDS:
        problems.append(f"the box has {words(found['text'])} words (> {MAX_WORDS})")
    if found.get("Check", "").split("`")[1:2] != [f"workshop check {step}"]:
        problems.append(f"its check is not `workshop check {step}`")
    if "Goal" not in found:
        problems.append("no **Goal:** item")
    changes = set(FILE.findall(found.get("Change", "")))
    if changes != changed_files(step):
        problems.append(
            f"it names {sorted(changes)}, the step changes "
            f"{sorted(changed_files(step))}"
        )
    app = CHECKPOINTS / f"step-{step}"
    named = FILE.findall(found.get("Change", "") + found.get("Do", ""))
    problems += [
        f"{name} is not in checkpoint {step}"
        for name in named
        if not (app / name).is_file()
    ]
    if step == STEPS[0] and "nothing to change" not in found.get("Do", ""):
        problems.append("step 0's box must say there is nothing to change")
    return problems


@pytest.mark.parametrize("step", STEPS)
def test_the_box_is_true(step: int) -> None:
    guide = (CHECKPOINTS / f"step-{step}" / "README.md").read_text(encoding="utf-8")
    assert box_problems(step, guide) == []


def test_every_step_but_the_first_changes_files() -> None:
    """Not vacuous: the file lists compared above are not all empty."""
    assert all(changed_files(step) for step in STEPS[1:])
    assert changed_files(1) == {"app/main.py"}


def test_a_wrong_box_is_caught() -> None:
    """A box naming a file the step does not change, another step's command, or
    too many words is reported."""
    guide = (CHECKPOINTS / "step-1" / "README.md").read_text(encoding="utf-8")
    wrong = guide.replace("- **Change:** `app/main.py`", "- **Change:** `app/tasks.py`")
    wrong = wrong.replace("`workshop check 1`", "`workshop check 2`", 1)
    wrong = wrong.replace("> The sections", "> " + "word " * 100 + "The sections")

    problems = box_problems(1, wrong)

    assert len(problems) == 3, problems
    assert box_problems(1, "# Step 1\n\n## Goal\n") == [
        "no '> **Do this first**' box under the title"
    ]
