"""A message a guide says the check fails with is one the check really gives.

The check's real first lines are the generated table of docs/MISTAKES.md
(tests/workshop/test_mistakes.py keeps it current by running each mistake):
a guide's quote must be found there, so a reworded message cannot leave a
guide quoting the old one.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEPT = "<!-- the table ends here; what follows is kept as written -->"
QUOTE = re.compile(r"check fails with\s+`([^`]+)`")


def quotes() -> list[tuple[str, str]]:
    found = []
    for guide in sorted((ROOT / "checkpoints").glob("step-*/README.md")):
        text = guide.read_text(encoding="utf-8")
        for match in QUOTE.finditer(text):
            quoted = match[1].removesuffix("...").rstrip(" :")
            found.append((guide.parent.name, quoted))
    return found


def test_every_quoted_check_message_is_real() -> None:
    table = (ROOT / "docs" / "MISTAKES.md").read_text(encoding="utf-8")
    real = table.partition(KEPT)[0]
    found = quotes()
    assert found, "no guide quotes the check: the pattern is out of date"
    wrong = [(step, quoted) for step, quoted in found if quoted not in real]
    assert not wrong, f"quoted, but not what the check says: {wrong}"


SENTENCE = re.compile(r"[^.!?]*(?:[.!?](?=\s)|$)", re.S)
STEP = re.compile(r"\bstep[- ](\d+)\b", re.I)
LINK_TARGET = re.compile(r"\]\([^)]*\)")


def queue_step() -> int:
    """The step whose guide's title is the task queue."""
    for guide in sorted((ROOT / "checkpoints").glob("step-*/README.md")):
        title = guide.read_text(encoding="utf-8").splitlines()[0]
        if "task queue" in title.lower():
            return int(guide.parent.name.removeprefix("step-"))
    raise AssertionError("no guide's title names the task queue")


def test_the_guides_send_the_task_queue_to_its_step() -> None:
    """A sentence that points to "a task queue" at step N names the step that
    teaches it (issue 22: steps 2 and 5 said step 7; it is step 8)."""
    queue = queue_step()
    wrong = []
    guides = [ROOT / "README.md", *sorted((ROOT / "checkpoints").glob("*/README.md"))]
    for guide in guides:
        text = " ".join(guide.read_text(encoding="utf-8").split())
        text = LINK_TARGET.sub("]", text)  # "../step-7/README.md" is no sentence end
        for sentence in SENTENCE.findall(text):
            if "task queue" not in sentence.lower():
                continue
            steps = {int(n) for n in STEP.findall(sentence)}
            if len(steps) == 1 and steps != {queue}:
                wrong.append((guide.relative_to(ROOT).as_posix(), sentence.strip()))
    assert not wrong, f"the task queue is step {queue}: {wrong}"
