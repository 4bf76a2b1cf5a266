"""`workshop tags`: build the step-N git tags from the checkpoints in HEAD.

Standard library only: the job that publishes tags runs it with nothing
installed (see workshop/tagging.py for how the tags are made).
"""

from __future__ import annotations

from pathlib import Path

from workshop import tagging
from workshop.project import require_git
from workshop.ui import bad, ok, style


def tags(root: Path, *, push: str | None = None, dry_run: bool = False) -> int:
    require_git(root, "tags")
    built = tagging.build(root)
    if not dry_run:
        tagging.write(root, built)
    report(built, dry_run)
    if push:
        publish(root, push, built, dry_run)
    return 0


def report(built: list[tagging.Tag], dry_run: bool) -> None:
    colours = {"created": ok, "moved": ok, "deleted": bad}
    for tag in built:
        state = tag.state
        word = f"would be {state}" if dry_run and state != "unchanged" else state
        word = colours.get(state, str)(f"{word:<{18 if dry_run else 9}}")
        detail = (tag.new or "")[:12]
        if state == "moved":
            detail += f" (was {(tag.old or '')[:12]})"
        elif state == "deleted":
            detail = "(its checkpoint no longer exists)"
        print(f"  {style(f'{tag.name:<8}', 'bold')} {word} {detail}")
    states = ("created", "moved", "deleted", "unchanged")
    counts = [(sum(t.state == s for t in built), s) for s in states]
    summary = ", ".join(f"{n} {s}" for n, s in counts if n)
    print(f"{'dry run, no tag written: ' if dry_run else ''}{summary}.")


def publish(root: Path, remote: str, built: list[tagging.Tag], dry_run: bool) -> None:
    """Push only the step tags whose target on `remote` differs."""
    plan = tagging.push_plan(built, tagging.remote_tags(root, remote))
    if not plan:
        print(f"{remote}: every step tag is up to date.")
        return
    if dry_run:
        print(f"would push to {remote}:")
    else:
        tagging.push(root, remote, [refspec for refspec, _ in plan])
        print(f"pushed to {remote}:")
    print("\n".join(f"  {what}" for _, what in plan))
