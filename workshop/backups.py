"""Work saved by `goto` and `restore`: commits on refs/workshop/backup/<UTC time>.

A backup is a commit whose tree is HEAD's tree with app/ as it was on disk and
whose parent is HEAD. It is made with plumbing (a temporary index,
`commit-tree`, `update-ref`), so the learner's branch and index never move.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError

PREFIX = "refs/workshop/backup/"
# Used only when the learner has no git identity configured.
FALLBACK_IDENTITY = {
    "GIT_AUTHOR_NAME": "Workshop",
    "GIT_AUTHOR_EMAIL": "workshop@workshop.invalid",
    "GIT_COMMITTER_NAME": "Workshop",
    "GIT_COMMITTER_EMAIL": "workshop@workshop.invalid",
}


@dataclass(frozen=True)
class Backup:
    name: str
    commit: str
    when: str  # local time, e.g. 2026-05-12 12:15
    reason: str  # e.g. "before goto 2"
    files: list[str]  # e.g. ["M app/main.py", "A app/notes.py"]

    @property
    def ref(self) -> str:
        return PREFIX + self.name

    def how_to_restore(self) -> list[str]:
        return [
            f"get them back:  workshop restore {self.name}",
            f"or with git:    git restore --source={self.ref} --worktree -- app",
        ]


def all_backups(root: Path) -> list[Backup]:
    """Every saved piece of work, newest first."""
    fields = "%(refname)%00%(objectname)%00%(committerdate:format:%Y-%m-%d %H:%M)"
    out = git.run(
        root,
        "for-each-ref",
        "--sort=-refname",
        f"--format={fields}%00%(contents:subject)%00%(contents:body)%1e",
        PREFIX,
    )
    found = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        ref, commit, when, subject, body = record.split("\0")
        reason = subject.removeprefix("workshop: app/ saved ")
        files = [line.replace("\t", " ") for line in body.splitlines() if line]
        found.append(Backup(ref.removeprefix(PREFIX), commit, when, reason, files))
    return found


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
    message = f"workshop: app/ saved {reason}\n\n" + "".join(f"{f}\n" for f in files)
    commit = git.run(
        root, "commit-tree", "--no-gpg-sign", tree, "-p", head, "-F", "-",
        input=message, env=env,
    ).strip()  # fmt: skip
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    name = stamp
    attempt = 1
    while git.run(root, "rev-parse", "--verify", "--quiet", PREFIX + name, check=False):
        attempt += 1
        name = f"{stamp}-{attempt}"
    # An empty old value makes update-ref refuse to overwrite an existing ref.
    git.run(root, "update-ref", PREFIX + name, commit, "")
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    return Backup(name, commit, when, reason, files)


def drop(root: Path, name: str, commit: str) -> None:
    """Delete a backup ref (only if it still points where we left it)."""
    git.run(root, "update-ref", "-d", PREFIX + name, commit, check=False)
