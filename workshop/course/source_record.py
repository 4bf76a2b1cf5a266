"""Which course this checkout is, and which course commit a copy was updated to.

Two small records, both committed files, because both must travel with a
"Use this template" copy (which keeps files, not refs, notes or history) and
with every clone, and be readable by the next `workshop update`:

- `pyproject.toml`, `[tool.workshop] source`: where the course lives, the
  default SOURCE of `workshop update` (the course's authors set it);
- `.workshop-course`: written by `workshop update` in a learner's copy: the
  source it used and the course commit it merged, the base of the next
  3-way merge. The course itself has none.

Standard library only (tomllib): `status --json` and `update` read them.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RECORD = ".workshop-course"
PROJECT = "pyproject.toml"
PLACEHOLDER = "OWNER/REPO"  # the template's stand-in for a repository name


@dataclass(frozen=True)
class Record:
    source: str
    commit: str


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def declared_source(root: Path) -> str | None:
    """`[tool.workshop] source`, unless missing or still the OWNER/REPO stand-in."""
    tool = _toml(root / PROJECT).get("tool")
    workshop = tool.get("workshop") if isinstance(tool, dict) else None
    source = _text(workshop.get("source")) if isinstance(workshop, dict) else None
    return None if source is None or PLACEHOLDER in source else source


def version(root: Path) -> str | None:
    """The course's `[project] version`."""
    project = _toml(root / PROJECT).get("project")
    return _text(project.get("version")) if isinstance(project, dict) else None


def read_record(root: Path) -> Record | None:
    """The course commit the last `workshop update` merged, or None."""
    data = _toml(root / RECORD)
    source, commit = _text(data.get("source")), _text(data.get("commit"))
    if source is None or commit is None:
        return None
    return Record(source, commit)


def record_text(record: Record) -> str:
    """The file's content; json.dumps writes a valid TOML basic string."""
    return (
        "# Written by `workshop update`: the course commit this copy was last\n"
        "# updated to, the base of the next update's 3-way merge. Keep it\n"
        "# committed; do not edit it.\n"
        f"source = {json.dumps(record.source)}\n"
        f"commit = {json.dumps(record.commit)}\n"
    )
