"""The only door to git: every git command of the tool runs through `run()`.

A failure becomes one `WorkshopError` that names the git command and its real
cause. The plumbing below works through temporary indexes (GIT_INDEX_FILE), so
the learner's own index, branch and working tree are never touched: folders
are turned into tree objects, and tree objects are written out into folders.
Standard library only (`workshop tags` runs without the project's packages).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workshop.errors import WorkshopError

TREE_MODE = "040000"
GITLINK_MODE = "160000"
# Where a git error says why, most telling first (a push lists the rejected
# refs with their reason before its closing "error: failed to push some refs").
_CAUSE_MARKERS = ("fatal:", "[remote rejected]", "[rejected]", "error:")


def _command(root: Path | None, args: tuple[str, ...]) -> list[str]:
    if shutil.which("git") is None:
        raise WorkshopError("git is not installed or not on PATH")
    return ["git", *(["-C", str(root)] if root else []), *args]


def cause(output: str) -> str:
    """The line of git's error output that says why it failed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for marker in _CAUSE_MARKERS:
        found = [line for line in lines if marker in line]
        if found:
            return found[0]
    return lines[-1] if lines else "no message"


def run(
    root: Path | None,
    *args: str,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> str:
    """Run git and return its stdout; a failure becomes one clear WorkshopError.

    With `timeout` (a network step), git and every helper it started (a
    remote helper, ssh) are killed when it runs out."""
    if timeout is not None:
        return _run_timed(_command(root, args), args[0], check, env, timeout)
    result = subprocess.run(
        _command(root, args), capture_output=True, text=True, input=input, env=env
    )
    if check and result.returncode != 0:
        detail = cause(result.stderr or result.stdout)
        raise WorkshopError(f"git {args[0]} failed: {detail}")
    return result.stdout


def _run_timed(
    command: list[str], name: str, check: bool, env: dict[str, str] | None,
    timeout: float,
) -> str:  # fmt: skip
    group = {"start_new_session": True} if os.name == "posix" else {}
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, env=env, **group,
    )  # fmt: skip
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(child)
        raise WorkshopError(f"git {name} did not finish in {timeout:g} s") from None
    if check and child.returncode != 0:
        raise WorkshopError(f"git {name} failed: {cause(err or out)}")
    return out


def _kill_tree(child: subprocess.Popen) -> None:
    """The child and its helpers (the whole group on POSIX)."""
    if os.name == "posix":
        with contextlib.suppress(OSError):
            os.killpg(child.pid, signal.SIGKILL)
    child.kill()
    child.communicate()


def run_bytes(root: Path, *args: str, input: bytes) -> bytes:
    """`run()` for binary output, such as `cat-file --batch`."""
    result = subprocess.run(_command(root, args), input=input, capture_output=True)
    if result.returncode != 0:
        detail = cause(result.stderr.decode(errors="replace"))
        raise WorkshopError(f"git {args[0]} failed: {detail}")
    return result.stdout


def succeeds(root: Path, *args: str) -> bool:
    """Whether git exits 0: for commands that answer with their exit status."""
    return subprocess.run(_command(root, args), capture_output=True).returncode == 0


def toplevel(start: Path) -> Path | None:
    """The top folder of the git checkout holding `start`, or None outside one."""
    out = run(start, "rev-parse", "--show-toplevel", check=False).strip()
    return Path(out) if out else None


def head_commit(root: Path) -> str:
    """The commit HEAD points at, or a clear error in a repository without one."""
    out = run(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    if not out.strip():
        raise WorkshopError("this repository has no commit yet: commit something first")
    return out.strip()


def has_staged(root: Path, folder: str) -> bool:
    """Whether the index holds changes under `folder` compared with HEAD."""
    return not succeeds(root, "diff", "--cached", "--quiet", "HEAD", "--", folder)


def author_and_message(root: Path, commit: str) -> tuple[str, str]:
    """The author's email and the whole message of `commit` ('' if none)."""
    out = run(root, "log", "-1", "--format=%ae%n%B", commit, "--", check=False)
    email, _, message = out.partition("\n")
    return email, message


@contextmanager
def temp_index() -> Iterator[dict[str, str]]:
    """An environment whose GIT_INDEX_FILE is a fresh, empty, throw-away index."""
    with tempfile.TemporaryDirectory(prefix="workshop-index-") as folder:
        yield {**os.environ, "GIT_INDEX_FILE": str(Path(folder) / "index")}


def empty_tree(root: Path) -> str:
    return run(root, "hash-object", "-t", "tree", "--stdin", input="").strip()


def subtrees(root: Path, treeish: str, paths: Iterable[str]) -> dict[str, str]:
    """path -> tree id, for each of `paths` that is a folder in `treeish`."""
    paths = list(paths)
    if not paths:
        return {}
    out = run(root, "ls-tree", "-d", "-z", treeish, "--", *paths)
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
            run(root, "read-tree", base, env=env)
            in_base = subtrees(root, base, folders)
        present = [f for f in folders if (root / f).exists() or f in in_base]
        if present:
            run(root, "add", "--all", "--", *present, env=env)
        tree = run(root, "write-tree", env=env).strip()
    return Snapshot(tree, subtrees(root, tree, folders))


def write_tree_to(root: Path, tree: str, dest: Path) -> None:
    """Write every file of `tree` into the existing folder `dest`."""
    with temp_index() as env:
        run(root, "read-tree", tree, env=env)
        run(root, "checkout-index", "--all", "--force", f"--prefix={dest}/", env=env)


@dataclass(frozen=True)
class Change:
    status: str  # A added, M modified, D deleted, T type changed
    path: str  # relative to the compared trees
    new_mode: str
    old_mode: str = ""


def changes(root: Path, old: str, new: str) -> list[Change]:
    """Every file that differs between two trees (no rename detection)."""
    out = run(root, "diff-tree", "-r", "-z", "--no-renames", old, new)
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
    made = iter(run(root, "mktree", "--batch", input=text).split() if present else [])
    empty = "" if all(trees) else empty_tree(root)
    return [next(made) if t else empty for t in trees]


def files(root: Path, treeish: str) -> dict[str, tuple[str, str]]:
    """path -> (mode, object id) of every entry below `treeish` (blobs, links)."""
    out = run(root, "ls-tree", "-r", "-z", "--full-tree", treeish)
    found = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            mode, _kind, oid = meta.split()
            found[path] = (mode, oid)
    return found


def blob(root: Path, oid: str) -> bytes:
    return run_bytes(root, "cat-file", "blob", oid, input=b"")


def write_blob(root: Path, data: bytes) -> str:
    """Store `data` as a blob in the repository; its id."""
    return run_bytes(root, "hash-object", "-w", "--stdin", input=data).decode().strip()


def merge_file(
    root: Path, ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]
) -> tuple[bytes, int]:
    """`git merge-file` of three versions: (the result, its number of conflicts).

    The count is -1 when git cannot merge them (binary content). git 2.39 has
    no `--object-id`, so the versions go through a temporary folder.
    """
    with tempfile.TemporaryDirectory(prefix="workshop-merge-") as folder:
        paths = [Path(folder) / name for name in ("ours", "base", "theirs")]
        for path, data in zip(paths, (ours, base, theirs), strict=True):
            path.write_bytes(data)
        label_args = [arg for label in labels for arg in ("-L", label)]
        result = subprocess.run(
            _command(root, ("merge-file", "-p", *label_args, *map(str, paths))),
            capture_output=True,
        )
    conflicts = result.returncode if 0 <= result.returncode < 128 else -1
    return result.stdout, conflicts


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    return succeeds(root, "merge-base", "--is-ancestor", older, newer)


def merge_base(root: Path, one: str, other: str) -> str | None:
    """The best common ancestor, or None for unrelated histories."""
    return run(root, "merge-base", one, other, check=False).strip() or None
