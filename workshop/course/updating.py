"""Bring a learner's copy up to the course's latest: a plan, then one commit.

The course (SOURCE: a git URL or path) is fetched into refs/workshop/course.
Every file the course owns, in the last version merged (the base) or in the
new one, is merged file by file, 3-way: the base, the learner's HEAD and the
course. `app/` and the files the learner added are never part of it. Where
only one side changed a file, that side wins; where both did, `git merge-file`
merges the lines, and only overlapping changes are a conflict.

The base is, most trusted first: the course commit recorded in
`.workshop-course` by the last update (or a newer shared ancestor, after a
`git pull`), the shared ancestor of a plain clone, or, for a "Use this
template" copy (unrelated history), the course commit whose files equal the
copy's first commit. Without any, every file that differs is a conflict.

Applying makes one commit on the learner's branch with plumbing (a temporary
index, `commit-tree`), then moves the working tree and branch to it with
`read-tree -m -u` and `update-ref`: only the course's files change, and
staged or unsaved work elsewhere (app/) stays as it is. The commit before is
kept under refs/workshop/update/<UTC time>, so every replaced file can be
brought back (`git reset --keep <it>`). Standard library only.

As safe as `goto`: one update (or goto, restore) at a time (workshop/lock.py,
taken by the command); SIGINT, SIGTERM and SIGHUP wait until the working tree
and the branch agree again; a kill in between (SIGKILL, a power cut) is
recognised by the next update from a note in .git, and finished. The record
is read from HEAD, never from the working tree. A course file that would
land on a file or folder of the learner's that git does not track (ignored
data, their own .vscode/settings.json), or where a committed file of theirs
is in the way, is listed in the plan as kept, and left as it is.
"""

from __future__ import annotations

import os
import signal
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from workshop import git
from workshop.course.source_record import (
    RECORD,
    Record,
    declared_source,
    record_text,
)
from workshop.errors import WorkshopError
from workshop.project import APP
from workshop.switch.backups import FALLBACK_IDENTITY

COURSE_REF = "refs/workshop/course"
UNDO_PREFIX = "refs/workshop/update/"
LABELS = ("yours", "before", "course")
FILE_MODE = "100644"
Entry = tuple[str, str]  # (mode, object id)


@dataclass(frozen=True)
class Change:
    """A course file whose content changes in the learner's copy."""

    path: str
    kind: str  # "course": the course's version; "merged": both; "conflict";
    # "kept": the learner's untracked file or folder (or a file of theirs in
    # the way) stays, and the course's version of the path is not written
    new: Entry | None  # what the path becomes (None: deleted)
    why: str = ""  # a conflict: what overlaps
    text: bytes = b""  # a conflict: the file with <<<<<<< markers


@dataclass(frozen=True)
class Plan:
    source: str
    course: str  # the course commit merged in
    base: str | None  # the course commit last merged, when known
    base_how: str  # how the base was found, in words
    head: str
    changes: list[Change]
    course_paths: list[str] = field(default_factory=list)  # changed by the course
    app_changed: bool = False  # the course's app/ changed (never applied)
    recorded: str | None = None  # the commit in .workshop-course now
    contained: bool = False  # the course commit is in HEAD's history already

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "conflict"]

    @property
    def up_to_date(self) -> bool:
        """Nothing to change, and the base is known without a new record (so
        the course's own checkout never gets a .workshop-course)."""
        return not self.changes and (self.recorded == self.course or self.contained)


def resolve_source(root: Path, given: str | None) -> str:
    """SOURCE as given, else pyproject's [tool.workshop], else the last used."""
    if given:
        local = Path(given).expanduser()
        return str(local.resolve()) if local.exists() else given
    recorded = record_at(root, "HEAD")
    source = declared_source(root) or (recorded.source if recorded else None)
    if source is None:
        raise WorkshopError(
            "no course source known: pass it (workshop update URL-or-path), or "
            "set [tool.workshop] source in pyproject.toml"
        )
    return source


def fetch(root: Path, source: str) -> str:
    """Fetch the course's default branch (no tags: the copy's own step-N stay)."""
    git.run(root, "fetch", "--quiet", "--no-tags", source, f"+HEAD:{COURSE_REF}")
    return git.run(root, "rev-parse", f"{COURSE_REF}^{{commit}}").strip()


def find_base(root: Path, head: str, course: str) -> tuple[str | None, str]:
    """The course commit the copy last had, and how it was found."""
    record = record_at(root, head)
    shared = git.merge_base(root, head, course)
    if record and git.is_ancestor(root, record.commit, course):
        if (
            shared
            and shared != record.commit
            and git.is_ancestor(root, record.commit, shared)
        ):
            return shared, "shared history (newer than the last update)"
        return record.commit, f"recorded in {RECORD} by the last update"
    if shared:
        return shared, "shared history"
    roots = git.run(root, "rev-list", "--max-parents=0", head).split()
    trees = set(git.run(root, "log", "--no-walk", "--format=%T", *roots).split())
    for line in git.run(root, "log", "--format=%H %T", course).splitlines():
        commit, tree = line.split()
        if tree in trees:
            return commit, "the course commit this copy was made from"
    return None, "none found: every file that differs from the course is a conflict"


def owned(path: str) -> bool:
    """Whether the course owns `path`: everything but app/ and the record."""
    return path != RECORD and path != APP and not path.startswith(f"{APP}/")


def make_plan(root: Path, source: str) -> Plan:
    head = git.head_commit(root)
    course = fetch(root, source)
    base, how = find_base(root, head, course)
    base_files = git.files(root, base) if base else {}
    ours, theirs = git.files(root, head), git.files(root, course)
    paths = sorted(p for p in set(base_files) | set(theirs) if owned(p))
    changes = []
    for path in paths:
        change = merge_one(root, path, base_files.get(path), ours.get(path),
                           theirs.get(path))  # fmt: skip
        if change is not None:
            changes.append(_unless_in_the_way(root, change, ours))
    moved = {p for p in set(base_files) | set(theirs)
             if base_files.get(p) != theirs.get(p)}  # fmt: skip
    recorded = record_at(root, head)
    return Plan(
        source=source,
        course=course,
        base=base,
        base_how=how,
        head=head,
        changes=changes,
        course_paths=sorted(p for p in moved if owned(p)),
        app_changed=base is not None and any(not owned(p) for p in moved - {RECORD}),
        recorded=recorded.commit if recorded else None,
        contained=git.is_ancestor(root, course, head),
    )


def record_at(root: Path, commit: str) -> Record | None:
    """The record as committed in `commit`: an interrupted update may have
    written the working tree's copy without committing it."""
    text = git.run(root, "show", f"{commit}:{RECORD}", check=False)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    source, course = data.get("source"), data.get("commit")
    if isinstance(source, str) and isinstance(course, str) and source and course:
        return Record(source, course)
    return None


def _unless_in_the_way(root: Path, change: Change, ours: dict[str, Entry]) -> Change:
    """`change`, or a "kept" one when writing it would overwrite or delete
    what the learner has there and git does not keep (or their own file)."""
    if change.new is None or change.kind == "conflict":
        return change
    why = _in_the_way(root, change.path, ours)
    return Change(change.path, "kept", None, why) if why else change


def _in_the_way(root: Path, path: str, ours: dict[str, Entry]) -> str | None:
    target = root / path
    if target.is_dir() and not target.is_symlink():
        return "a folder of yours is there (kept; the course's file is not added)"
    if path not in ours and (target.exists() or target.is_symlink()):
        return "your file there is not committed, or ignored (kept as it is)"
    for parent in Path(path).parents:
        name = parent.as_posix()
        if name != "." and (name in ours or (root / name).is_file()):
            return f"your file {name} is where the course has a folder (kept)"
    return None


def merge_one(
    root: Path, path: str, base: Entry | None, ours: Entry | None, theirs: Entry | None
) -> Change | None:
    """What one course file becomes; None when the learner's copy stays."""
    if ours == theirs or theirs == base:
        return None  # the same already, or only the learner changed it
    if ours == base:
        return Change(path, "course", theirs)
    if ours is None or theirs is None:
        who = "you deleted it and the course changed it"
        if theirs is None:
            who = "the course deleted it and you changed it"
        return Change(path, "conflict", ours, who)
    regular = {ours[0], theirs[0]} <= {FILE_MODE, "100755"}
    if not regular:
        return Change(path, "conflict", ours, "both changed it (not a text file)")
    texts = [git.blob(root, e[1]) if e else b"" for e in (ours, base, theirs)]
    merged, conflicts = git.merge_file(root, *texts, labels=LABELS)
    mode = theirs[0] if base and ours[0] == base[0] else ours[0]
    if conflicts == 0:
        return Change(path, "merged", (mode, git.write_blob(root, merged)))
    if conflicts < 0:
        why = "both changed it (not a text file)"
    elif base is None:
        why = "you and the course both added it, differently"
    else:
        why = "you and the course changed the same lines"
    return Change(path, "conflict", ours, why, merged if conflicts > 0 else b"")


@dataclass(frozen=True)
class Applied:
    commit: str | None  # the update commit (None: nothing to commit)
    undo: str | None  # the ref that keeps the commit before


def apply(root: Path, plan: Plan, *, markers: bool = False) -> Applied:
    """Commit the plan and bring the working tree to it; conflicts stay
    uncommitted, with markers, when `markers` (else they stop everything)."""
    if plan.conflicts and not markers:
        raise WorkshopError("the update has conflicts: nothing was written")
    written = [c.path for c in plan.changes if c.kind != "kept"]
    _refuse_unsaved(root, [*written, RECORD])
    if plan.up_to_date:
        return Applied(None, None)
    record = Record(plan.source, plan.course)
    tree = _new_tree(root, plan, record)
    commit = _commit(root, plan, tree)
    undo = _keep(root, plan.head)
    with deferred_signals():
        _move(root, plan.head, commit, undo)
    for change in plan.conflicts:
        if change.text:
            (root / change.path).write_bytes(change.text)
    return Applied(commit, undo)


def _move(root: Path, head: str, commit: str, undo: str) -> None:
    """The working tree and index, then the branch, to `commit`; a note in
    .git says what is under way until both agree (see `finish_interrupted`)."""
    note = _note(root)
    note.write_text(f"{head} {commit}\n", encoding="utf-8")
    try:
        git.run(root, "update-index", "-q", "--refresh", check=False)
        git.run(root, "read-tree", "-m", "-u", head, commit)
    except WorkshopError:
        git.run(root, "update-ref", "-d", undo, head, check=False)
        note.unlink(missing_ok=True)
        raise
    try:
        git.run(root, "update-ref", "-m", "workshop update", "HEAD", commit, head)
    except WorkshopError:
        git.run(root, "read-tree", "-m", "-u", commit, head, check=False)
        raise
    finally:
        note.unlink(missing_ok=True)


def _note(root: Path) -> Path:
    return root / git.run(root, "rev-parse", "--git-path", "workshop-update").strip()


def finish_interrupted(root: Path) -> str | None:
    """An update killed between the working tree and the branch: finished
    when the index holds its commit's tree (what read-tree wrote), said so."""
    note = _note(root)
    try:
        head, commit = note.read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    current = git.head_commit(root)
    index = git.run(root, "write-tree", check=False).strip()
    tree = git.run(root, "rev-parse", f"{commit}^{{tree}}", check=False).strip()
    note.unlink(missing_ok=True)
    if current == head and index and index == tree:
        git.run(root, "update-ref", "-m", "workshop update (finished)", "HEAD",
                commit, head)  # fmt: skip
        return commit
    return None


@contextmanager
def deferred_signals() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait for the block; then they act as sent."""
    names = [n for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)]
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    old = {n: signal.signal(getattr(signal, n), lambda s, _f: caught.append(s))
           for n in names}  # fmt: skip
    try:
        yield
    finally:
        for name, handler in old.items():
            signal.signal(getattr(signal, name), handler)
        for number in caught[:1]:
            signal.raise_signal(number)


def _refuse_unsaved(root: Path, paths: list[str]) -> None:
    """Files the update writes must be as committed: their old content is
    then in the commit before, and nothing unsaved is overwritten."""
    if not paths:
        return
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_LITERAL_PATHSPECS": "1"}
    out = git.run(root, "status", "--porcelain", "-z", "--untracked-files=all",
                  "--", *paths, env=env)  # fmt: skip
    records, found = iter(out.split("\0")), set()
    for record in records:
        if len(record) > 3:
            found.add(record[3:])
            if record[0] in "RC":
                next(records, None)  # a rename's old path follows
    dirty = sorted(found)
    if dirty:
        listed = ", ".join(dirty[:5]) + (", …" if len(dirty) > 5 else "")
        raise WorkshopError(
            f"the update changes files you have not committed: {listed}; commit "
            "them (or git stash), then run it again"
        )


def _new_tree(root: Path, plan: Plan, record: Record) -> str:
    lines = []
    for change in plan.changes:
        if change.kind in ("conflict", "kept"):
            continue  # stays as it is; a conflict's markers go to the tree
        if change.new is None:
            lines.append(f"0 {'0' * 40}\t{change.path}")
        else:
            lines.append(f"{change.new[0]} {change.new[1]}\t{change.path}")
    note = git.write_blob(root, record_text(record).encode())
    lines.append(f"{FILE_MODE} {note}\t{RECORD}")
    with git.temp_index() as env:
        git.run(root, "read-tree", plan.head, env=env)
        git.run(root, "update-index", "--index-info", input="\n".join(lines) + "\n",
                env=env)  # fmt: skip
        return git.run(root, "write-tree", env=env).strip()


def commit_message(plan: Plan) -> str:
    applied = [c for c in plan.changes if c.kind not in ("conflict", "kept")]
    lines = [f"{'D' if c.new is None else 'M'} {c.path}" for c in applied]
    return (
        f"workshop update: the course at {plan.course[:12]}\n\n"
        f"Source: {plan.source}\nCourse commit: {plan.course}\n"
        f"Merged from: {plan.base or 'no common version'}\n\n"
        + "".join(f"{line}\n" for line in lines)
    )


def _commit(root: Path, plan: Plan, tree: str) -> str:
    env = None
    if not git.run(root, "var", "GIT_COMMITTER_IDENT", check=False).strip():
        env = {**os.environ, **FALLBACK_IDENTITY}
    return git.run(
        root, "commit-tree", "--no-gpg-sign", tree, "-p", plan.head, "-F", "-",
        input=commit_message(plan), env=env,
    ).strip()  # fmt: skip


def _keep(root: Path, head: str) -> str:
    """A ref on the commit before the update: every replaced file is in it."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    name, attempt = UNDO_PREFIX + stamp, 1
    while git.run(root, "rev-parse", "--verify", "--quiet", name, check=False):
        attempt += 1
        name = f"{UNDO_PREFIX}{stamp}-{attempt}"
    git.run(root, "update-ref", name, head, "")
    return name
