"""`workshop restore [NAME | --latest]`: list or bring back work saved by goto.

Restoring saves the current app/ first, so it never loses work either.
"""

from __future__ import annotations

from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError
from workshop.project import APP, require_git, steps
from workshop.switch import Goal, Session, backups, record, session, switch
from workshop.ui import plural, style


def restore(root: Path, name: str | None = None, *, latest: bool = False) -> int:
    require_git(root, "restore")
    if name and latest:
        raise WorkshopError("give a NAME or --latest, not both")
    listing = name is None and not latest
    if listing and record.read(root) is None:
        return list_saved(root)  # reads only: no lock, so a read-only checkout lists
    # An interrupted switch is finished first, so the list shows what is kept.
    with session(root, "restore") as current:
        if listing:
            return list_saved(root)
        return bring_back(current, backups.find(root, name))


def bring_back(current: Session, backup: backups.Backup) -> int:
    """Make app/ the backup's app/ (saving the current one first), and its progress."""
    root = current.root
    head = git.head_commit(root)
    snap = git.snapshot(root, [APP], base=head)
    target = git.subtrees(root, backup.commit, [APP]).get(APP)
    command = f"restore {backup.name}"
    after = f"app/ is back to the work saved as {backup.name}"
    goal = Goal(command, f"before {command}", after, backup.done, backup.done_known)
    if not switch(current, head, snap, target, goal):
        print(f"app/ already equals the work saved as {backup.name}: nothing to do.")
        return 0
    where = ", ".join(filter(None, [backup.when, backup.reason, _step(root, backup)]))
    print(f"app/ is back to the work saved as {style(backup.name, 'bold')} ({where}).")
    return 0


def list_saved(root: Path) -> int:
    """Every backup, newest first: its name, time, reason, step and files."""
    saved = backups.all_backups(root)
    if not saved:
        print("No saved work yet: goto saves app/ here before it changes it.")
        return 0
    print("Saved work, newest first:")
    for backup in saved:
        step = _step(root, backup)
        step = f"  ({step})" if step else ""
        print(f"  {style(backup.name, 'bold')}  {backup.when}  {backup.reason}{step}")
        print(f"      {_files(backups.changed_files(root, backup))}")
    print("Bring one back with: workshop restore NAME (or --latest, the newest)")
    return 0


def _step(root: Path, backup: backups.Backup) -> str:
    """'on step 3': where the learner was when it was saved ('' if unknown)."""
    if backup.done is None:
        return ""
    later = [s.number for s in steps(root) if s.number > backup.done]
    return f"on step {later[0]}" if later else "all steps done"


def _files(files: list[str]) -> str:
    """'3 files: app/a.py, app/b.py, app/c.py and 2 more' (names made printable)."""
    names = [f.split(" ", 1)[-1] for f in files]
    shown = ", ".join(
        "".join(c if c.isprintable() else "?" for c in n) for n in names[:3]
    )
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{plural(len(names), 'file')}: {shown}{more}"
