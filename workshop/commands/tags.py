"""`workshop tags`: build the step-N git tags from the checkpoints in HEAD.

Standard library only: the job that publishes tags runs it with `python3 -S`
and nothing installed (see workshop/course/tagging.py for how the tags are made).
Every tag it moves or deletes is printed with its old id and the command that
puts it back, here and on the remote. `--release NAME` builds NAME-step-N: the
same commits, under names that are created once and never moved.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from workshop import git
from workshop.course import tagging
from workshop.errors import WorkshopError
from workshop.project import require_git
from workshop.ui import bad, ok, style

STATES = ("created", "moved", "deleted", "unchanged", "left alone")
LEFT_ALONE = "is not a generated tag: left alone"


def tags(
    root: Path,
    *,
    push: str | None = None,
    dry_run: bool = False,
    release: str | None = None,
) -> int:
    require_git(root, "tags")
    if release is not None:
        return release_tags(root, release, push=push, dry_run=dry_run)
    built = tagging.build(root)
    if not dry_run:
        tagging.write(root, built)
    report(built, dry_run)
    if push:
        publish(root, push, built, dry_run)
    return 0


def release_tags(root: Path, name: str, *, push: str | None, dry_run: bool) -> int:
    """Create the NAME-step-N tags that are missing; refuse to move any.

    Everything is checked (here, then on the remote) before anything is
    written, so a refusal leaves both sides as they were.
    """
    built = tagging.release(root, name)
    there = tagging.remote_release(root, push, built) if push else []
    if not dry_run:
        tagging.write(root, built)
    report(built, dry_run)
    if push:
        missing = [t for t in there if t.state == "created"]
        if not missing:
            print(f"{push}: every {name}-step-N tag is there already.")
        elif dry_run:
            print(f"would push to {push}: {', '.join(t.name for t in missing)}")
        else:
            tagging.push(root, push, missing)  # each leased on "does not exist"
            print(f"pushed to {push}: {', '.join(t.name for t in missing)}")
    return 0


def report(built: list[tagging.Tag], dry_run: bool) -> None:
    colours = {"created": ok, "moved": ok, "deleted": bad}
    width = max([8, *(len(t.name) for t in built)])
    for tag in built:
        state = tag.state
        name = style(f"{tag.name:<{width}}", "bold")
        if state == "left alone":
            print(f"  {name} {LEFT_ALONE}")
            continue
        word = f"would be {state}" if dry_run and state != "unchanged" else state
        word = colours.get(state, str)(f"{word:<{18 if dry_run else 9}}")
        restore = None if dry_run else _restore_here(tag)
        print(f"  {name} {word} {_change(tag, restore)}")
    counts = [(sum(t.state == s for t in built), s) for s in STATES]
    summary = ", ".join(f"{n} {s}" for n, s in counts if n)
    print(f"{'dry run, no tag written: ' if dry_run else ''}{summary}.")


def publish(root: Path, remote: str, built: list[tagging.Tag], dry_run: bool) -> None:
    """Push only the step tags whose target on `remote` differs.

    A user's tag kept there is reported unless the local report said so already.
    """
    said = {t.number for t in built if t.state == "left alone"}
    plan = [
        t
        for t in tagging.remote_plan(root, remote, built)
        if t.state != "unchanged" and not (t.state == "left alone" and t.number in said)
    ]
    if not any(t.state != "left alone" for t in plan):
        print(f"{remote}: every step tag is up to date.")
    elif dry_run:
        print(f"would push to {remote}:")
    else:
        _push(root, remote, plan)
        print(f"pushed to {remote}:")
    for tag in plan:
        print(f"  {tag.name:<8} {_remote_line(tag, remote, dry_run)}")


def _push(root: Path, remote: str, plan: list[tagging.Tag]) -> None:
    """Push, and when git refuses because the clone is shallow, say what to do."""
    try:
        tagging.push(root, remote, plan)
    except WorkshopError as error:
        shallow = git.run(root, "rev-parse", "--is-shallow-repository", check=False)
        if shallow.strip() != "true":
            raise
        raise WorkshopError(
            f"{error} (this clone is shallow: run git fetch --unshallow, then again)"
        ) from None


def _change(tag: tagging.Tag, restore: str | None) -> str:
    """The new id, or the old one and where it went, and how to put it back."""
    old, new = (tag.old or "")[:12], (tag.new or "")[:12]
    detail = {
        "moved": f"{old} -> {new}",
        "deleted": f"{old} (its checkpoint no longer exists)",
    }.get(tag.state, new)
    return f"{detail}; restore: {restore}" if restore else detail


def _restore_here(tag: tagging.Tag) -> str | None:
    if tag.state == "moved":
        return f"git tag -f {tag.name} {tag.old}"
    if tag.state == "deleted":
        return f"git tag {tag.name} {tag.old}"
    return None


def _remote_line(tag: tagging.Tag, remote: str, dry_run: bool) -> str:
    if tag.state == "left alone":
        return LEFT_ALONE
    if tag.state == "created":
        return "new"
    restore = None
    if not dry_run:
        force = "+" if tag.state == "moved" else ""
        restore = f"git push {shlex.quote(remote)} {force}{tag.old}:{tag.ref}"
    word = "moved (forced)" if tag.state == "moved" else "deleted"
    return f"{word} {_change(tag, restore)}"
