"""`workshop restore [NAME | --latest]`: list or bring back work saved by goto.

Restoring saves the current app/ first, so it never loses work either.
"""

from __future__ import annotations

from pathlib import Path

from workshop import backups, git
from workshop.errors import WorkshopError
from workshop.journal import Goal
from workshop.project import APP, require_git
from workshop.switch import Session, session, switch
from workshop.ui import plural, style


def restore(root: Path, name: str | None = None, *, latest: bool = False) -> int:
    require_git(root, "restore")
    if name and latest:
        raise WorkshopError("give a NAME or --latest, not both")
    # Even the list waits for the lock: it first finishes an interrupted switch.
    with session(root, "restore") as current:
        if name is None and not latest:
            return list_saved(root)
        return bring_back(current, backups.find(root, name))


def bring_back(current: Session, backup: backups.Backup) -> int:
    """Make app/ the backup's app/, saving the current one first."""
    root = current.root
    head = git.head_commit(root)
    snap = git.snapshot(root, [APP], base=head)
    target = git.subtrees(root, backup.commit, [APP]).get(APP)
    if snap.folders.get(APP) == target:
        print(f"app/ already equals the work saved as {backup.name}: nothing to do.")
        return 0
    command = f"restore {backup.name}"
    after = f"app/ is back to the work saved as {backup.name}"
    switch(current, head, snap, target, Goal(command, f"before {command}", after))
    print(f"app/ is back to the work saved as {style(backup.name, 'bold')}.")
    return 0


def list_saved(root: Path) -> int:
    saved = backups.all_backups(root)
    if not saved:
        print("No saved work yet: goto saves app/ here before it changes it.")
        return 0
    print("Saved work, newest first:")
    for backup in saved:
        files = ", ".join(f.split(" ", 1)[-1] for f in backup.files[:3])
        more = f" and {len(backup.files) - 3} more" if len(backup.files) > 3 else ""
        print(f"  {style(backup.name, 'bold')}  {backup.when}  {backup.reason}")
        print(f"      {plural(len(backup.files), 'file')}: {files}{more}")
    print("Bring one back with: workshop restore NAME (or --latest)")
    return 0
