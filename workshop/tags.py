"""`workshop tags`: build the step-N tags from the checkpoints committed in HEAD.

Each step-N is a commit whose tree is HEAD's tree with app/ replaced by
checkpoints/step-N/app as committed in HEAD. The commits chain
HEAD -> step-0 -> step-1 -> ..., so `git diff step-2 step-3` is exactly step 3's
change to app/. Identity and dates are fixed (the dates are HEAD's committer
date), so the same HEAD always gives the same ids and rebuilding is a no-op.

Plumbing only (`mktree`, `commit-tree`, one `update-ref --stdin` transaction):
the branch, the index and the working tree are never touched.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from workshop import gitops
from workshop.project import APP, CHECKPOINTS, find_root, git, guide_title
from workshop.ui import WorkshopError, bad, ok, style

IDENTITY_NAME = "Workshop Tags"
IDENTITY_EMAIL = "tags@workshop.invalid"
TAG_PREFIX = "refs/tags/"
_TAG = re.compile(r"^step-(\d+)$")
_CHECKPOINT_APP = re.compile(rf"^{CHECKPOINTS}/step-(\d+)/{APP}$")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--push",
        metavar="REMOTE",
        help="then push the step tags whose target differs on REMOTE "
        "(forced where a tag moved; stale step tags are deleted there)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="only report what would change; no tag is written or pushed",
    )
    parser.epilog = (
        "Tags are built from HEAD's commit, never from the working tree: commit "
        "your checkpoint changes first. The branch, index and files are not touched."
    )


@dataclass(frozen=True)
class Tag:
    number: int
    new: str | None  # commit id the tag should point at (None: delete the tag)
    old: str | None  # where it points now (None: it does not exist)

    @property
    def name(self) -> str:
        return f"step-{self.number}"

    @property
    def ref(self) -> str:
        return TAG_PREFIX + self.name

    @property
    def state(self) -> str:
        if self.new is None:
            return "deleted"
        if self.old is None:
            return "created"
        return "unchanged" if self.old == self.new else "moved"


def run(args: argparse.Namespace) -> int:
    root = find_root()
    tags = build(root)
    if not args.dry_run:
        write(root, tags)
    report(tags, args.dry_run)
    if args.push:
        push(root, args.push, tags, args.dry_run)
    return 0


def build(root: Path) -> list[Tag]:
    """Make the step commits (objects only) and compare them with the tags."""
    # No optional locks: status must not even refresh the learner's index.
    quiet = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    dirty = git(root, "status", "--porcelain", "--", CHECKPOINTS, env=quiet)
    if dirty:
        count = len(dirty.splitlines())
        raise WorkshopError(
            f"{CHECKPOINTS}/ has {count} uncommitted change{'s' * (count != 1)}: "
            "tags are built from HEAD, so commit (or undo) them first"
        )
    head = gitops.head_commit(root)
    info = git(root, "log", "-1", "--date=raw", "--format=%ae%x00%cd", head)
    author_email, date = info.strip().split("\0")
    if author_email == IDENTITY_EMAIL:
        raise WorkshopError(
            "HEAD is a generated step tag: check out your branch before building tags"
        )
    apps = _checkpoint_apps(root, head)
    if not apps:
        raise WorkshopError(f"HEAD has no {CHECKPOINTS}/step-N/{APP}/ folders to tag")
    trees = _step_trees(root, head, [apps[n] for n in sorted(apps)])
    titles = _titles(root, head, sorted(apps))
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": IDENTITY_NAME,
        "GIT_AUTHOR_EMAIL": IDENTITY_EMAIL,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": IDENTITY_NAME,
        "GIT_COMMITTER_EMAIL": IDENTITY_EMAIL,
        "GIT_COMMITTER_DATE": date,
    }
    existing = _existing_tags(root)
    tags = []
    parent = head
    for number, tree in zip(sorted(apps), trees, strict=True):
        message = (
            f"{titles.get(number) or f'step-{number}'}\n\n"
            f"app/ is {CHECKPOINTS}/step-{number}/{APP}/; built by `workshop tags`.\n"
        )
        parent = git(
            root,
            "-c", "i18n.commitEncoding=UTF-8",
            "commit-tree", "--no-gpg-sign", tree, "-p", parent, "-F", "-",
            input=message, env=env,
        ).strip()  # fmt: skip
        tags.append(Tag(number, parent, existing.pop(number, None)))
    tags += [Tag(number, None, old) for number, old in sorted(existing.items())]
    return tags


def _checkpoint_apps(root: Path, head: str) -> dict[int, str]:
    """step number -> tree id of checkpoints/step-N/app in HEAD."""
    out = git(root, "ls-tree", "-r", "-d", "-z", head, "--", CHECKPOINTS)
    apps = {}
    for record in out.split("\0"):
        if record:
            meta, path = record.split("\t", 1)
            match = _CHECKPOINT_APP.match(path)
            if match:
                apps[int(match.group(1))] = meta.split()[2]
    return apps


def _step_trees(root: Path, head: str, apps: list[str]) -> list[str]:
    """HEAD's root tree with its app entry replaced by each of `apps`, in one call."""
    out = git(root, "ls-tree", "-z", head)
    entries = [e for e in out.split("\0") if e and e.split("\t", 1)[1] != APP]
    batches = [
        "".join(f"{e}\n" for e in [*entries, f"{gitops.TREE_MODE} tree {app}\t{APP}"])
        for app in apps
    ]
    return git(root, "mktree", "--batch", input="\n".join(batches)).split()


def _titles(root: Path, head: str, numbers: list[int]) -> dict[int, str]:
    """The H1 of each step's guide in HEAD, read in one `cat-file --batch`.

    Read as bytes: sizes are in bytes, and a guide that is not UTF-8 must not
    stop the tags (its title keeps a replacement character).
    """
    names = "".join(f"{head}:{CHECKPOINTS}/step-{n}/README.md\n" for n in numbers)
    result = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch"],
        input=names.encode(),
        capture_output=True,
    )
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise WorkshopError(f"git cat-file failed: {detail[-1] if detail else '?'}")
    out = result.stdout
    titles: dict[int, str] = {}
    position = 0
    for number in numbers:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        position = header_end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        body, kind = out[position : position + size], header[1]
        position += size + 1  # the content and its closing newline
        title = guide_title(body.decode(errors="replace")) if kind == b"blob" else None
        if title:
            titles[number] = title
    return titles


def _existing_tags(root: Path) -> dict[int, str]:
    """step number -> what refs/tags/step-N points at now."""
    out = git(
        root, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", TAG_PREFIX
    )
    found = {}
    for line in out.splitlines():
        name, oid = line.split()
        match = _TAG.match(name)
        if match:
            found[int(match.group(1))] = oid
    return found


def write(root: Path, tags: list[Tag]) -> None:
    """Move every tag that changed in one all-or-nothing ref transaction."""
    zero = ""
    commands = []
    for tag in tags:
        if tag.state == "deleted":
            commands.append(f"delete {tag.ref} {tag.old}")
        elif tag.state in ("created", "moved"):
            commands.append(f"update {tag.ref} {tag.new} {tag.old or zero}")
    if commands:
        git(root, "update-ref", "--stdin", input="\n".join(commands) + "\n")


def report(tags: list[Tag], dry_run: bool) -> None:
    colours = {"created": ok, "moved": ok, "deleted": bad}
    for tag in tags:
        state = tag.state
        word = f"would be {state}" if dry_run and state != "unchanged" else state
        word = colours.get(state, str)(f"{word:<{18 if dry_run else 9}}")
        detail = (tag.new or "")[:12]
        if state == "moved":
            detail += f" (was {tag.old[:12]})"
        elif state == "deleted":
            detail = "(its checkpoint no longer exists)"
        print(f"  {style(f'{tag.name:<8}', 'bold')} {word} {detail}")
    states = ("created", "moved", "deleted", "unchanged")
    counts = [(sum(t.state == s for t in tags), s) for s in states]
    summary = ", ".join(f"{n} {s}" for n, s in counts if n)
    print(f"{'dry run, no tag written: ' if dry_run else ''}{summary}.")


def push(root: Path, remote: str, tags: list[Tag], dry_run: bool) -> None:
    """Push only the step tags whose target on `remote` differs."""
    remote_tags = {}
    for line in git(root, "ls-remote", "--tags", remote).splitlines():
        oid, ref = line.split("\t", 1)
        match = _TAG.match(ref.removeprefix(TAG_PREFIX))
        if match:  # peeled lines (step-N^{}) do not match
            remote_tags[int(match.group(1))] = oid
    refspecs, lines = [], []
    wanted = {tag.number: tag for tag in tags if tag.new}
    for number, tag in sorted(wanted.items()):
        there = remote_tags.pop(number, None)
        if there == tag.new:
            continue
        force = "+" if there else ""
        refspecs.append(f"{force}{tag.new}:{tag.ref}")
        lines.append(f"  {tag.name:<8} {'moved (forced)' if there else 'new'}")
    for number in sorted(remote_tags):
        refspecs.append(f":{TAG_PREFIX}step-{number}")
        lines.append(
            f"  {f'step-{number}':<8} deleted (its checkpoint no longer exists)"
        )
    if not refspecs:
        print(f"{remote}: every step tag is up to date.")
        return
    if dry_run:
        print(f"would push to {remote}:")
    else:
        git(root, "push", "--quiet", remote, *refspecs)
        print(f"pushed to {remote}:")
    print("\n".join(lines))
