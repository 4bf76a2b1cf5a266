"""Git plumbing shared by goto, restore, diff and tags.

Everything here works through temporary indexes (GIT_INDEX_FILE), so the
learner's own index, branch and working tree are never touched: folders are
turned into tree objects, and tree objects are written out into fresh folders.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workshop.project import git
from workshop.ui import WorkshopError

TREE_MODE = "040000"
GITLINK_MODE = "160000"


@contextmanager
def temp_index() -> Iterator[dict[str, str]]:
    """An environment whose GIT_INDEX_FILE is a fresh, empty, throw-away index."""
    with tempfile.TemporaryDirectory(prefix="workshop-index-") as folder:
        yield {**os.environ, "GIT_INDEX_FILE": str(Path(folder) / "index")}


def head_commit(root: Path) -> str:
    """The commit HEAD points at, or a clear error in a repository without one."""
    out = git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    if not out.strip():
        raise WorkshopError("this repository has no commit yet: commit something first")
    return out.strip()


def empty_tree(root: Path) -> str:
    return git(root, "hash-object", "-t", "tree", "--stdin", input="").strip()


def subtrees(root: Path, treeish: str, paths: Iterable[str]) -> dict[str, str]:
    """path -> tree id, for each of `paths` that is a folder in `treeish`."""
    paths = list(paths)
    if not paths:
        return {}
    out = git(root, "ls-tree", "-d", "-z", treeish, "--", *paths)
    found = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            _mode, kind, oid = meta.split()
            if kind == "tree":
                found[path] = oid
    return found


@dataclass(frozen=True)
class Snapshot:
    tree: str  # the whole tree: the base with the folders as they are on disk
    folders: dict[str, str]  # folder -> its tree id, for folders that hold files


def snapshot(root: Path, folders: list[str], base: str | None = None) -> Snapshot:
    """The folders as they are on disk (git-ignored files left out), as trees.

    Starts from `base` (a tree-ish) when given, so `Snapshot.tree` is the
    base's tree with those folders replaced by their on-disk content. A file
    git cannot read makes this fail before anything has changed.
    """
    with temp_index() as env:
        in_base: dict[str, str] = {}
        if base:
            git(root, "read-tree", base, env=env)
            in_base = subtrees(root, base, folders)
        present = [f for f in folders if (root / f).exists() or f in in_base]
        if present:
            git(root, "add", "--all", "--", *present, env=env)
        tree = git(root, "write-tree", env=env).strip()
    return Snapshot(tree, subtrees(root, tree, folders))


def write_tree_to(root: Path, tree: str, dest: Path) -> None:
    """Write every file of `tree` into the existing folder `dest`."""
    with temp_index() as env:
        git(root, "read-tree", tree, env=env)
        git(root, "checkout-index", "--all", "--force", f"--prefix={dest}/", env=env)


@dataclass(frozen=True)
class Change:
    status: str  # A added, M modified, D deleted, T type changed
    path: str  # relative to the compared trees
    new_mode: str
    old_mode: str = ""


def changes(root: Path, old: str, new: str) -> list[Change]:
    """Every file that differs between two trees (no rename detection)."""
    out = git(root, "diff-tree", "-r", "-z", "--no-renames", old, new)
    fields = out.split("\0")
    found = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if meta.startswith(":"):
            old_mode, new_mode, _old, _new, status = meta[1:].split()
            found.append(Change(status[0], path, new_mode, old_mode))
    return found


def wrap(root: Path, trees: list[str | None], name: str) -> list[str]:
    """For each tree, a tree that holds it as the folder `name` (None: empty tree)."""
    present = [t for t in trees if t]
    text = "\n".join(f"{TREE_MODE} tree {t}\t{name}\n" for t in present)
    made = iter(git(root, "mktree", "--batch", input=text).split() if present else [])
    empty = "" if all(trees) else empty_tree(root)
    return [next(made) if t else empty for t in trees]
