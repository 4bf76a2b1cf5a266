"""Edits that reached app/ while a switch ran, found before a stage is deleted.

A switch saves app/ as it was when it read it (the snapshot). An editor's
autosave or format-on-save between that moment and the rename that moves the
file aside lands in a file that now sits in the stage; deleting the stage
would lose it. So before any stage is deleted, what it holds is compared
with the tree it came from, by git itself (same filters, same line endings):
anything that differs is returned as that tree with those files put in, ready
to be saved as one more backup.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from workshop import git
from workshop.project import APP

SKIP = "__pycache__"  # bytecode: rebuilt by Python, never anyone's work


@dataclass(frozen=True)
class Found:
    tree: str  # the base tree with the differing files put in
    files: list[str]  # e.g. ["M app/work.txt", "A app/new.py"]


def find(root: Path, base: str, folders: list[Path]) -> Found | None:
    """Files in `folders` (laid out as app/...) that `base` lacks or differs from."""
    listed = [(folder, paths) for folder in folders if (paths := _files(folder))]
    if not listed:
        return None  # nothing was moved aside (e.g. a switch that only adds)
    with git.temp_index() as env:
        git.run(root, "read-tree", base, env=env)
        for folder, paths in listed:
            git.run(
                root, "update-index", "--add", "--replace", "-z", "--stdin",
                input="".join(f"{p}\0" for p in paths),
                env={**env, "GIT_WORK_TREE": str(folder)},
            )  # fmt: skip
        out = git.run(
            root, "diff-index", "--cached", "-z", "--name-status", base, env=env
        )
        fields = out.split("\0")
        pairs = zip(fields[0::2], fields[1::2], strict=False)
        files = [f"{status} {path}" for status, path in pairs if path]
        if not files:
            return None
        return Found(git.run(root, "write-tree", env=env).strip(), files)


def _files(folder: Path) -> list[str]:
    """Every file and symbolic link below folder/app, as 'app/...' paths."""
    found = []
    for top, folders, names in os.walk(folder / APP):
        folders[:] = [f for f in folders if f != SKIP]
        for name in names + [f for f in folders if os.path.islink(Path(top, f))]:
            found.append(Path(top, name).relative_to(folder).as_posix())
    # A name that is not valid UTF-8 cannot be handed to git as text: such a
    # file was saved by the snapshot, and only an edit during the switch is lost.
    return sorted(p for p in found if _encodes(p))


def _encodes(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
