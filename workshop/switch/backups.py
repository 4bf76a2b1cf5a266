"""Work saved by `goto` and `restore`: commits on refs/workshop/backup/<UTC time>.

A backup is a commit whose tree is HEAD's tree with app/ as it was on disk and
whose parent is HEAD, made with plumbing (`commit-tree`, `update-ref`), so the
learner's branch and index never move. Its message lists the files for people
and ends with a trailer, `Workshop-Progress: N` (or `none`): the step recorded
as done when it was saved, which `restore` brings back. Nothing is parsed out
of the file list (a name may hold any character but NUL): listing reads git's
records NUL-separated and asks `diff-tree` for the files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from workshop import git
from workshop.checks import progress
from workshop.errors import WorkshopError

PREFIX = "refs/workshop/backup/"
TRAILER = "Workshop-Progress"
# Used only when the learner has no git identity configured.
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "Workshop",
    "GIT_AUTHOR_EMAIL": "workshop@workshop.invalid",
    "GIT_COMMITTER_NAME": "Workshop",
    "GIT_COMMITTER_EMAIL": "workshop@workshop.invalid",
}
_NAME = re.compile(r"^(\d{4}-\d\d-\d\dT\d{6}Z)(?:-(\d+))?$")
_PROGRESS = re.compile(rf"^{TRAILER}: (\d+|none)$", re.MULTILINE)
_FIELDS = "%(refname)%00%(objectname)%00%(committerdate:unix)%00%(contents)%00"


@dataclass(frozen=True)
class Backup:
    name: str
    commit: str
    when: str  # local time, e.g. 2026-05-12 12:15
    reason: str  # e.g. "before goto 2"
    done: int | None = None  # the step recorded as done when it was saved
    done_known: bool = False  # False: saved before backups recorded progress
    files: list[str] = field(default_factory=list)  # set by save() only
    order: tuple[str, int] = ("", 0)  # sorts by time, then by the -N suffix

    @property
    def ref(self) -> str:
        return PREFIX + self.name

    def how_to_restore(self) -> list[str]:
        return [
            f"get them back:  workshop restore {self.name}",
            f"or with git:    git restore --source={self.ref} --worktree -- app",
        ]


def all_backups(root: Path) -> list[Backup]:
    """Every saved piece of work, newest first (by time, then -2, -3, ...)."""
    out = git.run(root, "for-each-ref", f"--format={_FIELDS}", PREFIX)
    fields = out.split("\0")
    records = zip(*[iter(fields)] * 4, strict=False)  # the last "\n" drops out
    found = [_parse(ref.lstrip("\n"), *rest) for ref, *rest in records]
    return sorted(found, key=lambda b: b.order, reverse=True)


def _parse(ref: str, commit: str, stamp: str, message: str) -> Backup:
    name = ref.removeprefix(PREFIX)
    moment = datetime.fromtimestamp(int(stamp or 0), UTC)
    subject = message.split("\n", 1)[0]
    reason = subject.removeprefix("workshop: app/ saved ")
    trailers = _PROGRESS.findall(message)  # the last one is ours
    done = None if not trailers or trailers[-1] == "none" else int(trailers[-1])
    when = moment.astimezone().strftime("%Y-%m-%d %H:%M")
    order = _order(name, moment)
    return Backup(name, commit, when, reason, done, bool(trailers), order=order)


def _order(name: str, moment: datetime) -> tuple[str, int]:
    """(UTC time as in the name, suffix number): '...Z-10' comes after '...Z-9'."""
    match = _NAME.match(name)
    if match:
        return match.group(1), int(match.group(2) or 1)
    return moment.strftime("%Y-%m-%dT%H%M%SZ"), 0  # a name we did not make


def changed_files(root: Path, backup: Backup) -> list[str]:
    """The files of app/ the backup changes from its parent, e.g. ['M app/x.py']."""
    out = git.run(
        root, "diff-tree", "-r", "-z", "--no-renames", "--name-status",
        f"{backup.commit}^", backup.commit, "--", "app", check=False,
    )  # fmt: skip
    fields = out.split("\0")
    pairs = zip(fields[0::2], fields[1::2], strict=False)
    return [f"{status} {path}" for status, path in pairs if path]


def find(root: Path, name: str | None) -> Backup:
    """The backup called `name` (or the newest when None), or a clear error."""
    backups = all_backups(root)
    if not backups:
        raise WorkshopError(
            "there is no saved work (goto saves app/ before it changes)"
        )
    if name is None:
        return backups[0]
    name = name.removeprefix(PREFIX)
    for backup in backups:
        if backup.name == name:
            return backup
    names = ", ".join(b.name for b in backups[:5]) + (", …" if len(backups) > 5 else "")
    raise WorkshopError(f"no saved work named {name!r}: saved are {names}")


def save(root: Path, head: str, tree: str, reason: str, files: list[str]) -> Backup:
    """Commit `tree` (parent: HEAD) and point a new backup ref at it."""
    env = None
    if not git.run(root, "var", "GIT_COMMITTER_IDENT", check=False).strip():
        env = {**os.environ, **FALLBACK_IDENTITY}
    done = progress.done(root)
    commit = git.run(
        root, "commit-tree", "--no-gpg-sign", tree, "-p", head, "-F", "-",
        input=_message(reason, files, done), env=env,
    ).strip()  # fmt: skip
    name = _create_ref(root, commit)
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    return Backup(name, commit, when, reason, done, True, files)


def _message(reason: str, files: list[str], done: int | None) -> str:
    """Subject, the files (for people; control characters shown as ?), trailer."""
    listed = "".join(
        "".join(c if c.isprintable() else "?" for c in f) + "\n" for f in files
    )
    value = "none" if done is None else done
    return f"workshop: app/ saved {reason}\n\n{listed}\n{TRAILER}: {value}\n"


def _create_ref(root: Path, commit: str) -> str:
    """A new ref named by the UTC time (-2, -3, ... when taken), never overwriting."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    for attempt in count(1):
        name = stamp if attempt == 1 else f"{stamp}-{attempt}"
        # An empty old value makes update-ref refuse to overwrite an existing ref.
        if git.succeeds(root, "update-ref", PREFIX + name, commit, ""):
            return name
        if not git.succeeds(root, "rev-parse", "--verify", "--quiet", PREFIX + name):
            git.run(root, "update-ref", PREFIX + name, commit, "")  # git's reason
            return name
    raise AssertionError("unreachable")


def drop(root: Path, name: str, commit: str) -> None:
    """Delete a backup ref (only if it still points where we left it)."""
    git.run(root, "update-ref", "-d", PREFIX + name, commit, check=False)
