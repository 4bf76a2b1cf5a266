"""The course's checks, as committed: a learner's edit of a suite never counts.

When tests/steps/ or tests/support/ differ from the checkout's last commit
(an edit, a `pytest.skip()`, a new file), `workshop check` says so in one
line and runs the committed suites, written to a temporary folder with
`git archive`; the learner's files stay as they are.
"""

from __future__ import annotations

import contextlib
import io
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError

FOLDERS = ("tests/steps", "tests/support")


def changed_suites(root: Path) -> list[str]:
    """Files under FOLDERS that differ from HEAD (edited, added, deleted)."""
    if not git.succeeds(root, "rev-parse", "--verify", "--quiet", "HEAD"):
        return []
    out = git.run(
        root, "status", "--porcelain", "--untracked-files=all", "--", *FOLDERS,
        check=False,
    )  # fmt: skip
    paths = [line[3:].strip().strip('"') for line in out.splitlines() if line.strip()]
    return [p for p in paths if "__pycache__" not in p and not p.endswith(".pyc")]


@contextlib.contextmanager
def course_root(root: Path, learner: bool = True) -> Iterator[tuple[Path, str | None]]:
    """(the root whose tests/ to run, the line to print first or None);
    `learner=False` (checking a checkpoint, an author's task): the suites as
    they are on disk."""
    changed = changed_suites(root) if learner else []
    if not changed:
        yield root, None
        return
    more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
    note = (
        f"{changed[0]}{more} differs from the course's committed version: "
        "checking with the course's (your files are kept as they are)"
    )
    with tempfile.TemporaryDirectory(prefix="workshop-course-") as name:
        folder = Path(name)
        try:
            paths = [p for p in ("pyproject.toml", "tests") if _committed(root, p)]
            data = git.run_bytes(
                root, "archive", "--format=tar", "HEAD", *paths, input=b""
            )
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                archive.extractall(folder, filter="data")
        except (WorkshopError, tarfile.TarError, OSError):
            yield (
                root,
                f"{changed[0]}{more} differs from the course's committed version",
            )
            return
        yield folder, note


def _committed(root: Path, path: str) -> bool:
    return git.succeeds(root, "cat-file", "-e", f"HEAD:{path}")
