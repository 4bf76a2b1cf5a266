"""Reading and committing in the temporary git repositories of the tool tests.

Each takes the `git` fixture of tests/workshop/conftest.py (`git(root, *args)`
returns git's output).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

Git = Callable[..., str]


def commit_all(root: Path, git: Git, message: str) -> str:
    """Commit every change in `root`; the new commit's id."""
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def tag_ids(root: Path, git: Git) -> dict[str, str]:
    """Every tag of `root` and the object it names."""
    out = git(
        root, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", "refs/tags/"
    )
    return dict(line.split() for line in out.splitlines())


def backup_refs(root: Path, git: Git) -> list[str]:
    """The refs goto and restore keep saved work under (refs/workshop/)."""
    return git(root, "for-each-ref", "--format=%(refname)", "refs/workshop/").split()
