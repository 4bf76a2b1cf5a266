"""Switch app/ to another tree without ever losing work (goto and restore).

Three steps, under one lock (workshop/lock.py, so two switches never mix):

1. Save: when app/ holds work that exists nowhere else (it differs from HEAD,
   from every checkpoint and from every earlier backup), it is committed on
   refs/workshop/backup/<UTC time> (backups.py) before anything moves. That
   commit is what guarantees no work is lost, whatever happens next.
2. Write the target tree into app/ (tree.py), with a record of the switch
   (record.py) from the first rename to the last: while it exists, app/ is
   half-switched, and every command that reads app/ says so.
3. Keep late edits: a file saved by an editor while the switch ran (or an
   ignored file in the way of a new one) was moved aside, not overwritten,
   and is saved as one more backup.

Only app/ changes: the index and the branch are left alone, so what the
learner staged stays staged. Ctrl-C, SIGTERM and SIGHUP are held while files
move (signals.py); a SIGKILL or a file that will not move leaves the record,
and the next goto or restore finishes that switch first.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workshop import git, lock
from workshop.checks import progress
from workshop.errors import WorkshopError
from workshop.project import APP, STATE, steps
from workshop.switch import backups, faults, record, tree
from workshop.switch.record import Goal, Record
from workshop.switch.signals import Guard, Interrupted, deferred
from workshop.ui import bad, error_line, ok, plural

__all__ = ["Goal", "Session", "backups", "record", "session", "switch", "warn"]

LEFT_AS_IT_WAS = "app/ left as it was"


@dataclass
class Session:
    """A goto or restore holding the lock, with signals noted by `guard`."""

    root: Path
    guard: Guard
    state: str = LEFT_AS_IT_WAS  # what app/ is, for a message that stops us


def warn(root: Path) -> None:
    """For commands that read app/: one line on stderr if it is half-switched."""
    line = record.note(root)
    if line:
        error_line(bad(line))


@contextmanager
def session(root: Path, command: str) -> Iterator[Session]:
    """Lock, hold signals and finish an interrupted switch, before app/ is read."""
    with deferred() as guard, lock.held(_state_folder(root), command):
        current = Session(root, guard)
        try:
            _finish_interrupted(current)
            current.state = LEFT_AS_IT_WAS
            yield current
        except (WorkshopError, OSError) as error:
            if not isinstance(error, Interrupted):
                guard.check(current.state)  # e.g. git died of the same Ctrl-C
            if isinstance(error, OSError):
                raise WorkshopError(f"{_describe(error)}; {current.state}") from None
            raise
        guard.check(current.state)


def _state_folder(root: Path) -> Path:
    """.workshop/, created if needed; one clear line when it cannot be."""
    state = root / STATE
    try:
        state.mkdir(exist_ok=True)
    except FileExistsError:
        raise WorkshopError(
            f"{STATE} is a file, not a folder: the workshop keeps its state "
            "there; rename or remove it, then try again"
        ) from None
    except OSError as error:
        raise WorkshopError(
            f"cannot create {STATE}/ in {root}: {error.strerror} (goto and "
            "restore keep their lock and journal there)"
        ) from None
    return state


def switch(
    current: Session, head: str, snap: git.Snapshot, target: str | None, goal: Goal
) -> bool:
    """Make app/ hold `target` (None: no files), saving what it held first.

    False when app/ already holds it: then only the progress is recorded.
    """
    if snap.folders.get(APP) == target:
        record_progress(current.root, goal)
        return False
    _check_app_folder(current.root / APP)
    _plan(current.root, snap.folders.get(APP), target)  # refused before any work
    entry, saved, note = _prepare(current, head, snap, target, goal)
    current.state = f"app/ is half-switched: {goal.to_finish}"
    late = _complete(current.root, entry)
    name = f"; your work was saved as {saved.name}" if saved else ""
    current.state = goal.after + name
    _announce(current.root, saved, note)
    _announce_late(late, goal)
    current.guard.check(current.state, when="after the switch")
    return True


def _prepare(
    current: Session, head: str, snap: git.Snapshot, target: str | None, goal: Goal
) -> tuple[Record, backups.Backup | None, str]:
    """Stage the new files, save app/ and write the record; app/ is untouched.

    A signal until now stops the command with nothing to show for it: the
    stage is deleted and the backup dropped (app/ is as it was).
    """
    root, stage, saved = current.root, tree.new_stage(current.root), None
    try:
        tree.fill(root, stage, target)
        current.guard.check(LEFT_AS_IT_WAS)
        saved, note = _save_first(root, head, snap, goal)
        faults.point("after-snapshot")
        current.guard.check(LEFT_AS_IT_WAS)
        entry = Record(
            goal, os.getpid(), head, snap.tree, snap.folders.get(APP), target,
            stage.relative_to(root).as_posix(), saved.name if saved else None,
        )  # fmt: skip
        record.write(root, entry)
        return entry, saved, note
    except BaseException:
        if saved:
            backups.drop(root, saved.name, saved.commit)
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _complete(root: Path, entry: Record) -> backups.Backup | None:
    """Move every planned file, save late edits, record progress, clean up."""
    stage = root / entry.stage
    tree.apply(root, stage, _plan(root, entry.before, entry.target))
    faults.point("switched")
    late = tree.late_edits(root, stage, entry.before, entry.target)
    saved = _save_late(root, entry, late) if late else None
    record_progress(root, entry.goal)
    shutil.rmtree(stage, ignore_errors=True)
    record.remove(root)  # last: until now a kill leaves app/ half-switched
    return saved


def _finish_interrupted(current: Session) -> None:
    """Finish a switch whose process was killed, saying so in one line."""
    root = current.root
    entry = record.read(root)
    tree.remove_strays(root, keep=root / entry.stage if entry else None)
    if entry is None:
        return
    current.state = f"app/ is half-switched: {entry.goal.to_finish}"
    tree.fill(root, root / entry.stage, entry.target)
    late = _complete(root, entry)
    who = f"'workshop {entry.goal.command}' (pid {entry.pid})"
    saved = f"; your work was saved as {entry.backup}" if entry.backup else ""
    print(f"Finished {who}, which stopped halfway: {entry.goal.after}{saved}.")
    _announce_late(late, entry.goal)


def _check_app_folder(app: Path) -> None:
    if app.is_symlink() or (app.exists() and not app.is_dir()):
        kind = "a symbolic link" if app.is_symlink() else "a file"
        raise WorkshopError(
            f"{APP} is {kind}, not a folder: rename or move it, then try again"
        )


def _plan(root: Path, current: str | None, target: str | None) -> list[git.Change]:
    """The files that differ; refused if a nested repository would move."""
    empty = git.empty_tree(root)
    plan = git.changes(root, current or empty, target or empty)
    for change in plan:
        if change.new_mode == git.GITLINK_MODE:
            raise WorkshopError(
                f"cannot copy app/{change.path}: it is a nested git repository"
            )
        if change.old_mode == git.GITLINK_MODE:
            # A backup would hold only its commit id, not its files.
            raise WorkshopError(
                f"app/{change.path} is a nested git repository: move it out of "
                "app/ first (goto and restore cannot save it)"
            )
    return plan


def _save_first(
    root: Path, head: str, snap: git.Snapshot, goal: Goal
) -> tuple[backups.Backup | None, str]:
    """Save app/ as a backup, unless its tree is kept somewhere: then say where."""
    current = snap.folders.get(APP)
    if not current:
        return None, ""
    known = _known_states(root, head)
    if current in known:
        return None, known[current]
    base = git.subtrees(root, head, [APP]).get(APP) or git.empty_tree(root)
    files = [f"{c.status} app/{c.path}" for c in git.changes(root, base, current)]
    try:
        return backups.save(root, head, snap.tree, goal.reason, files), ""
    except WorkshopError as error:
        raise WorkshopError(
            f"{LEFT_AS_IT_WAS}: could not save it first: {error}"
        ) from None


def _save_late(
    root: Path, entry: Record, late: list[tuple[str, str, str]]
) -> backups.Backup:
    """The tree as it was read, with the late edits put in, as one more backup."""
    with git.temp_index() as env:
        git.run(root, "read-tree", entry.snapshot, env=env)
        lines = "".join(f"{mode} {blob}\t{APP}/{path}\0" for mode, blob, path in late)
        git.run(root, "update-index", "-z", "--index-info", input=lines, env=env)
        snapshot = git.run(root, "write-tree", env=env).strip()
    old = git.files(root, entry.before) if entry.before else {}
    files = [f"{'M' if path in old else 'A'} app/{path}" for *_, path in late]
    reason = f"while {entry.goal.command} ran"
    return backups.save(root, entry.head, snapshot, reason, files)


def _announce(root: Path, saved: backups.Backup | None, note: str) -> None:
    """What became of the work app/ held: saved (and how to get it back), or why not."""
    if note:
        print(note)
    if saved:
        count = plural(len(saved.files), "file")
        print(f"Saved your changes to app/ ({count}) as {ok(saved.name)}.")
        for line in saved.how_to_restore():
            print(f"  {line}")
    if git.has_staged(root, APP):
        print(
            f"{bad('note:')} you have staged changes under app/; they stay staged "
            "(git restore --staged app unstages them)."
        )


def _announce_late(late: backups.Backup | None, goal: Goal) -> None:
    if late:
        count = plural(len(late.files), "file")
        print(
            f"Saved what else left app/ while {goal.command} ran ({count}: "
            f"edited meanwhile, or git-ignored) as {ok(late.name)}."
        )
        for line in late.how_to_restore():
            print(f"  {line}")


def record_progress(root: Path, goal: Goal) -> None:
    """goto N: step N is done (the learner is on N+1); restore: as it was saved."""
    if goal.sets_progress:
        progress.record_done(root, goal.progress)


def _known_states(root: Path, head: str) -> dict[str, str]:
    """app/ trees kept elsewhere -> what to say instead of saving one again."""
    named = _kept_elsewhere(root, head)
    lines = "".join(f"{name}\n" for name, _ in named)
    out = git.run(root, "cat-file", "--batch-check", input=lines).splitlines()
    known = {}
    for (_, note), line in zip(named, out, strict=True):
        parts = line.split()
        if len(parts) == 3 and parts[1] == "tree":
            known[parts[0]] = note  # later entries win
    return known


def _kept_elsewhere(root: Path, head: str) -> list[tuple[str, str]]:
    """(tree-ish, note) for each backup, HEAD and each checkpoint, in that order.

    A checkpoint wins over HEAD (on a fresh clone they are the same tree), and
    HEAD over a backup (a commit is the learner's own record).
    """
    saved = "Nothing new to save: app/ equals {}, saved before."
    named = [
        (f"{b.commit}:{APP}", saved.format(b.name))
        for b in reversed(backups.all_backups(root))
    ]
    short = git.run(root, "rev-parse", "--short", head).strip()
    in_head = (
        f"Nothing uncommitted to save: your work is in HEAD ({short}).\n"
        "  get it back:  git restore --source=HEAD -- app"
    )
    named.append((f"{head}:{APP}", in_head))
    for step in steps(root):  # an untouched checkpoint is no one's work: say nothing
        named.append((f"{head}:{step.app.relative_to(root).as_posix()}", ""))
    return named


def _describe(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    if error.errno == errno.EXDEV:  # app/ spans mounts: no rename can cross them
        return f"part of app/ is on another file system (a mount){where}"
    return f"{error.strerror or error}{where}"
