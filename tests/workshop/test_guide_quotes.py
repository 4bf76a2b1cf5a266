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
