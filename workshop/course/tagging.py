"""The step-N tags: how they are built, and how a step commit is recognised.

Each step-N is a commit whose tree is HEAD's tree with app/ replaced by
checkpoints/step-N/app as committed in HEAD. The commits chain
HEAD -> step-0 -> step-1 -> ..., so `git diff step-2 step-3` is exactly step 3's
change to app/. Identity and dates are fixed (the dates are HEAD's committer
date), so the same HEAD always gives the same ids and rebuilding is a no-op.

The commit message is written by `message()` and read back by
`step_of_commit()`: the two live here together. Plumbing only (`mktree`,
`commit-tree`, one `update-ref --stdin` transaction): the branch, the index
and the working tree are never touched. Standard library only.

The tool owns a tag name only when it is exactly `step-N` (no leading zero:
step-03 is someone else's) and N has a checkpoint, or the tag is the step-N
commit the tool made. Any other step-N is a user's tag: it is left alone,
here and on a remote.

Release tags (`NAME-step-N`, from `workshop tags --release NAME`) are the same
commits under a name that is never moved: `release()` refuses when one exists
and points elsewhere. They are not `NAME/step-N`, because a GitHub release
makes the tag NAME itself, and git cannot hold refs/tags/NAME and
refs/tags/NAME/step-0 at once (a ref is a file, not also a folder).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workshop import git
from workshop.course.guide import Guide
from workshop.errors import WorkshopError
from workshop.project import APP, CHECKPOINTS
from workshop.ui import plural

IDENTITY_NAME = "Workshop Tags"
IDENTITY_EMAIL = "tags@workshop.invalid"
TAG_PREFIX = "refs/tags/"
_TAG = re.compile(r"^step-(0|[1-9][0-9]*)$")  # exactly: not step-03, ASCII digits
_CHECKPOINT_APP = re.compile(rf"^{CHECKPOINTS}/step-(\d+)/{APP}$")
_APP_IS = re.compile(rf"^app/ is {CHECKPOINTS}/step-(\d+)/{APP}/;", re.MULTILINE)
_RELEASE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def message(number: int, title: str | None) -> str:
    """The message of step N's commit: the guide's title, then what app/ is."""
    return (
        f"{title or f'step-{number}'}\n\n"
        f"app/ is {CHECKPOINTS}/step-{number}/{APP}/; built by `workshop tags`.\n"
    )


def step_of_commit(root: Path, commit: str = "HEAD") -> int | None:
    """N when `commit` is the step-N commit `workshop tags` made, else None."""
    email, text = git.author_and_message(root, commit)
    match = _APP_IS.search(text) if email == IDENTITY_EMAIL else None
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class Tag:
    number: int
    new: str | None  # commit id the tag should point at (None: delete the tag)
    old: str | None  # where it points now (None: it does not exist)
    ours: bool = True  # False: no checkpoint, and not made by the tool: keep it
    release: str = ""  # a release's NAME: the tag is NAME-step-N

    @property
    def name(self) -> str:
        return (
            f"{self.release}-step-{self.number}"
            if self.release
            else (f"step-{self.number}")
        )

    @property
    def ref(self) -> str:
        return TAG_PREFIX + self.name

    @property
    def state(self) -> str:
        if self.new is None:
            return "deleted" if self.ours else "left alone"
        if self.old is None:
            return "created"
        return "unchanged" if self.old == self.new else "moved"


def build(root: Path) -> list[Tag]:
    """Make the step commits (objects only) and compare them with the tags."""
    return compare(root, step_commits(root), _existing_tags(root))


def step_commits(root: Path) -> dict[int, str]:
    """step number -> the step commit made from HEAD (objects only, no ref)."""
    # No optional locks: status must not even refresh the learner's index.
    quiet = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    dirty = git.run(root, "status", "--porcelain", "--", CHECKPOINTS, env=quiet)
    if dirty:
        count = plural(len(dirty.splitlines()), "uncommitted change")
        raise WorkshopError(
            f"{CHECKPOINTS}/ has {count}: tags are built from HEAD, so commit "
            "(or undo) them first"
        )
    head = git.head_commit(root)
    info = git.run(root, "log", "-1", "--date=raw", "--format=%ae%x00%cd", head)
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
    wanted = {}
    parent = head
    for number, tree in zip(sorted(apps), trees, strict=True):
        parent = git.run(
            root,
            "-c", "i18n.commitEncoding=UTF-8",
            "commit-tree", "--no-gpg-sign", tree, "-p", parent, "-F", "-",
            input=message(number, titles.get(number)), env=env,
        ).strip()  # fmt: skip
        wanted[number] = parent
    return wanted


def compare(root: Path, wanted: dict[int, str], existing: dict[int, str]) -> list[Tag]:
    """What each step tag needs, here or on a remote: the same rules for both.

    A checkpoint's tag is the tool's by name, whatever it points at now (the
    old id is kept in the Tag, so it can be restored). Without a checkpoint,
    only the commit the tool made for that very step is deleted.
    """
    tags = [Tag(n, new, existing.get(n)) for n, new in sorted(wanted.items())]
    for number, old in sorted(existing.items()):
        if number not in wanted:
            tags.append(Tag(number, None, old, made_by_tool(root, number, old)))
    return tags


def made_by_tool(root: Path, number: int, oid: str) -> bool:
    """Whether `oid` is the step-`number` commit itself (an annotated tag never is)."""
    kind = git.run(root, "cat-file", "-t", oid, check=False).strip()
    return kind == "commit" and step_of_commit(root, oid) == number


def _checkpoint_apps(root: Path, head: str) -> dict[int, str]:
    """step number -> tree id of checkpoints/step-N/app in HEAD."""
    out = git.run(root, "ls-tree", "-r", "-d", "-z", head, "--", CHECKPOINTS)
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
    out = git.run(root, "ls-tree", "-z", head)
    entries = [e for e in out.split("\0") if e and e.split("\t", 1)[1] != APP]
    batches = [
        "".join(f"{e}\n" for e in [*entries, f"{git.TREE_MODE} tree {app}\t{APP}"])
        for app in apps
    ]
    return git.run(root, "mktree", "--batch", input="\n".join(batches)).split()


def _titles(root: Path, head: str, numbers: list[int]) -> dict[int, str]:
    """The H1 of each step's guide in HEAD, read in one `cat-file --batch`.

    Read as bytes: sizes are in bytes, and a guide that is not UTF-8 must not
    stop the tags (its title keeps a replacement character).
    """
    names = "".join(f"{head}:{CHECKPOINTS}/step-{n}/README.md\n" for n in numbers)
    out = git.run_bytes(root, "cat-file", "--batch", input=names.encode())
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
        if kind == b"blob":
            title = Guide.parse(body.decode(errors="replace")).title
            if title:
                titles[number] = title
    return titles


def _existing_tags(root: Path) -> dict[int, str]:
    """step number -> what refs/tags/step-N points at now."""
    out = git.run(
        root, "for-each-ref", "--format=%(refname:strip=2) %(objectname)", TAG_PREFIX
    )
    found = {}
    for line in out.splitlines():
        name, oid = line.split()
        match = _TAG.match(name)
        if match:
            found[int(match.group(1))] = oid
    return found


def check_release_name(name: str) -> None:
    """One line naming the rule when NAME cannot start a tag name."""
    if (
        not _RELEASE.match(name)
        or ".." in name
        or name.endswith((".", ".lock"))
        or not name.isascii()
    ):
        raise WorkshopError(
            f"invalid release name {name!r}: use letters, digits, '.', '_' and "
            "'-', starting with a letter or digit (e.g. v1.0 or 2025-05)"
        )


def release(root: Path, name: str) -> list[Tag]:
    """NAME-step-N for every step: created where missing, never moved.

    An existing NAME-step-N that is not the commit built now (a later HEAD, or
    a tag made by hand) stops everything: a recording that says
    `git checkout v1-step-3` must show the same code forever.
    """
    check_release_name(name)
    wanted = step_commits(root)
    refs = [f"{TAG_PREFIX}{name}-step-{n}" for n in sorted(wanted)]
    out = git.run(root, "for-each-ref", "--format=%(refname) %(objectname)", *refs)
    existing = dict(line.split() for line in out.splitlines())
    tags = [
        Tag(n, new, existing.get(f"{TAG_PREFIX}{name}-step-{n}"), release=name)
        for n, new in sorted(wanted.items())
    ]
    _refuse_moves(name, tags, "")
    return tags


def remote_release(root: Path, remote: str, built: list[Tag]) -> list[Tag]:
    """The release tags as `remote` has them: a different one there stops it."""
    refs = {t.ref: t for t in built}
    there = {}
    for line in git.run(root, "ls-remote", "--tags", remote, *refs).splitlines():
        oid, ref = line.split("\t", 1)
        if ref in refs:  # not the peeled lines (NAME-step-N^{})
            there[ref] = oid
    tags = [Tag(t.number, t.new, there.get(t.ref), release=t.release) for t in built]
    if tags:
        _refuse_moves(tags[0].release, tags, f" on {remote}")
    return tags


def _refuse_moves(name: str, tags: list[Tag], where: str) -> None:
    moved = [t for t in tags if t.state == "moved"]
    if moved:
        listed = ", ".join(
            f"{t.name} is {(t.old or '')[:12]}, not {(t.new or '')[:12]}" for t in moved
        )
        raise WorkshopError(
            f"release {name} exists{where}: {listed}; "
            "a release tag never moves: pick a new name"
        )


def write(root: Path, tags: list[Tag]) -> None:
    """Move every tag that changed in one all-or-nothing ref transaction."""
    commands = []
    for tag in tags:
        if tag.state == "deleted":
            commands.append(f"delete {tag.ref} {tag.old}")
        elif tag.state in ("created", "moved"):
            commands.append(f"update {tag.ref} {tag.new} {tag.old or ''}")
    if commands:
        git.run(root, "update-ref", "--stdin", input="\n".join(commands) + "\n")


def remote_plan(root: Path, remote: str, built: list[Tag]) -> list[Tag]:
    """`compare()` against the step tags on `remote` instead of the local ones.

    A remote tag without a checkpoint whose object is not here (a clone
    without tags) is fetched first, objects only, so it can be judged.
    """
    there = {}
    for line in git.run(root, "ls-remote", "--tags", remote).splitlines():
        oid, ref = line.split("\t", 1)
        match = _TAG.match(ref.removeprefix(TAG_PREFIX))
        if match:  # peeled lines (step-N^{}) do not match
            there[int(match.group(1))] = oid
    wanted = {tag.number: tag.new for tag in built if tag.new}
    unknown = [
        f"{TAG_PREFIX}step-{n}"
        for n, oid in there.items()
        if n not in wanted and not git.succeeds(root, "cat-file", "-e", oid)
    ]
    if unknown:
        git.run(root, "fetch", "-q", "--no-tags", "--no-write-fetch-head", remote,
                *unknown)  # fmt: skip
    return compare(root, wanted, there)


def push(root: Path, remote: str, tags: list[Tag]) -> None:
    """Push the tags that differ, each only if the remote still has its `old`.

    The lease makes the printed old id the one really replaced: a tag that
    changed on the remote meanwhile is rejected ("stale info"), not overwritten.
    """
    changed = [t for t in tags if t.state in ("created", "moved", "deleted")]
    leases = [f"--force-with-lease={t.ref}:{t.old or ''}" for t in changed]
    refspecs = [f"{t.new or ''}:{t.ref}" for t in changed]
    git.run(root, "push", "--quiet", *leases, remote, *refspecs)
