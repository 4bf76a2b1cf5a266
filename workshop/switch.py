"""Switch app/ to another tree without ever losing work (used by goto and restore).

When app/ holds work that exists nowhere else (it differs from HEAD, from every
committed checkpoint and from every earlier backup), that work is first saved
as a commit on refs/workshop/backup/<UTC time>.

Only app/ changes. The index and the branch are left alone on purpose: what the
learner staged stays staged (nothing of theirs is dropped), and `git status`
keeps telling the truth about app/ compared with their last commit.

app/ ends as exactly the old or the new state, whatever happens:

- one switch at a time: a lock is taken before app/ is read (workshop/lock.py);
- the new files are first written into a stage on app/'s file system, then
  moved into app/ one rename at a time, each logged first (workshop/moves.py);
  renaming files rather than the whole folder keeps app/ the same folder, so a
  running `fastapi dev` keeps watching it and a shell inside app/ stays valid;
- a failure, Ctrl-C, SIGTERM or SIGHUP undoes the renames done so far; a
  signal only takes a note and is acted on between two renames, and one that
  comes during the undo waits for it to end (workshop/interrupts.py);
- what cannot be caught (SIGKILL, a power cut) leaves a journal
  (workshop/journal.py) from which the next goto or restore undoes or
  finishes the switch, before it reads app/ (`recover`).
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workshop import backups, faults, git, journal, leftovers, lock, moves
from workshop.checks import progress
from workshop.errors import WorkshopError
from workshop.interrupts import Guard, Interrupted, deferred
from workshop.journal import Entry, Goal
from workshop.moves import Moves
from workshop.project import APP, STATE, steps
from workshop.ui import bad, ok, plural

LEFT_AS_IT_WAS = "app/ left as it was"
STAGE_PREFIX = "goto-"  # in .workshop/
HIDDEN_PREFIX = ".workshop-goto-"  # in app/ or the root, when .workshop/ is elsewhere


@dataclass
class Session:
    """A goto or restore holding the lock, with signals noted by `guard`."""

    root: Path
    guard: Guard
    after: str = ""  # once app/ is switched: its state, for a late interrupt


@contextmanager
def session(root: Path, command: str) -> Iterator[Session]:
    """Lock, defer signals and finish an interrupted switch, before app/ is read.

    Taken before the snapshot, so a second command can neither read a half
    switched app/ nor move files at the same time.
    """
    with deferred() as guard, lock.held(state_folder(root), command):
        current = Session(root, guard)
        try:
            recover(current)
            yield current
        except (WorkshopError, OSError) as error:
            raise _explained(current, error) from None
        guard.check(current.after or LEFT_AS_IT_WAS)


def _explained(current: Session, error: WorkshopError | OSError) -> WorkshopError:
    """One line for any failure, saying what state app/ is in."""
    state = current.after or LEFT_AS_IT_WAS
    if isinstance(error, Interrupted):
        return error
    try:
        current.guard.check(state)  # e.g. a git command died of the same Ctrl-C
    except Interrupted as interrupted:
        return interrupted
    if isinstance(error, OSError):
        return WorkshopError(f"{state}: {_describe_error(error)}")
    return error


def state_folder(root: Path) -> Path:
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
    session: Session, head: str, snap: git.Snapshot, target: str | None, goal: Goal
) -> backups.Backup | None:
    """Make app/ hold `target` (None: no files), printing what was saved.

    Returns the backup made of the current app/, or None when nothing needed
    saving. Raises WorkshopError with app/ unchanged when anything fails.
    """
    root = session.root
    _check_app_folder(root / APP)
    plan = _plan(root, snap.folders.get(APP), target)
    stage = _new_stage(root)
    saved, note = _prepare(session, stage, head, snap, target, goal)
    entry = Entry(
        goal, os.getpid(), head, snap.tree, target, str(stage.relative_to(root)),
        saved.name if saved else None, saved.commit if saved else None,
    )  # fmt: skip
    _move(session, entry, plan, saved)
    _finish(session, entry, saved, note)
    return saved


def _new_stage(root: Path) -> Path:
    """A fresh stage on app/'s file system, so that every move is one rename.

    That is .workshop/, unless it lives on another file system (a link to
    elsewhere, or app/ is a mount of its own, as a container volume may be):
    then a hidden folder inside app/ itself, or beside it while app/ is missing.
    """
    app = root / APP
    device = (app if app.is_dir() else root).stat().st_dev
    for folder, prefix in _stage_places(root):
        if folder.is_dir() and folder.stat().st_dev == device:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
    raise AssertionError("app/ or the root is always on its own file system")


def _stage_places(root: Path) -> list[tuple[Path, str]]:
    """Where stages may be, best first: (folder, name prefix)."""
    state = state_folder(root)
    return [(state, STAGE_PREFIX), (root / APP, HIDDEN_PREFIX), (root, HIDDEN_PREFIX)]


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


def _prepare(
    session: Session,
    stage: Path,
    head: str,
    snap: git.Snapshot,
    target: str | None,
    goal: Goal,
) -> tuple[backups.Backup | None, str]:
    """Stage the new files and save app/ (or say why not); app/ is untouched."""
    root, saved = session.root, None
    try:
        (stage / "new").mkdir()
        (stage / "old").mkdir()
        if target:
            git.write_tree_to(root, git.wrap(root, [target], APP)[0], stage / "new")
        session.guard.check(LEFT_AS_IT_WAS)
        saved, note = _save_first(root, head, snap, goal)
        faults.point("after-snapshot")
        session.guard.check(LEFT_AS_IT_WAS)
        return saved, note
    except BaseException:
        if saved:
            backups.drop(root, saved.name, saved.commit)
        shutil.rmtree(stage, ignore_errors=True)
        raise


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
    files = _describe(root, head, current)
    try:
        return backups.save(root, head, snap.tree, goal.reason, files), ""
    except WorkshopError as error:
        raise WorkshopError(
            f"{LEFT_AS_IT_WAS}: could not save it first: {error}"
        ) from None


def _move(
    session: Session, entry: Entry, plan: list[git.Change], saved: backups.Backup | None
) -> None:
    """Every rename, journaled; on any error or signal, all of them undone."""
    root, stage = session.root, session.root / entry.stage
    try:
        journal.write(root, entry)
    except OSError as error:
        raise _roll_back(session, entry, [], saved, error) from None
    renames = Moves(root, stage, lambda n: _between_renames(session, n))
    try:
        apply(root / APP, stage / "new" / APP, plan, renames)
    except BaseException as error:
        raise _roll_back(session, entry, renames.done, saved, error) from None
    finally:
        renames.close()


def _between_renames(session: Session, count: int) -> None:
    """The one place a switch may stop: all renames so far are in the log."""
    faults.point(f"moved@{count}")
    session.guard.check(LEFT_AS_IT_WAS)


def _roll_back(
    session: Session,
    entry: Entry,
    done: list[moves.Op],
    saved: backups.Backup | None,
    error: BaseException,
) -> BaseException:
    """Undo `done` (signals wait meanwhile); the exception to raise after."""
    root, stage = session.root, session.root / entry.stage
    failed = moves.undo(root, stage, done, lambda n: faults.point(f"undone@{n}"))
    if failed:
        return WorkshopError(
            f"{_cause(error)}; could not undo every move "
            f"({_describe_error(failed[0])}): the next goto or restore tries "
            f"again; until then app/'s old files are in {entry.stage}/old"
        )
    _save_leftovers(root, entry)
    _close(root, stage)
    if saved:
        backups.drop(root, saved.name, saved.commit)
    return _left_as_it_was(error)


def _left_as_it_was(error: BaseException) -> BaseException:
    """The error to raise once every rename was undone."""
    if isinstance(error, WorkshopError):
        return error
    if isinstance(error, KeyboardInterrupt):  # where no handler could be set
        return Interrupted(f"interrupted by Ctrl-C: {LEFT_AS_IT_WAS}", signal.SIGINT)
    return WorkshopError(f"{LEFT_AS_IT_WAS}: {_cause(error)}")


def _cause(error: BaseException) -> str:
    if isinstance(error, Interrupted):
        return f"interrupted by {error.by}"
    if isinstance(error, OSError):
        return _describe_error(error)
    return str(error) or type(error).__name__


def _finish(
    session: Session, entry: Entry, saved: backups.Backup | None, note: str
) -> None:
    """app/ is switched: say so and what was saved first, then clean up."""
    root = session.root
    session.after = entry.goal.after + (
        f"; your work was saved as {saved.name}" if saved else ""
    )
    journal.write(root, entry.at("switched"))
    faults.point("switched")
    _announce(root, saved, note)
    _save_leftovers(root, entry)
    record_progress(root, entry.goal)
    journal.write(root, entry.at("cleaning"))
    _close(root, root / entry.stage)
    session.guard.check(session.after, when="after the switch")


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


def _save_leftovers(root: Path, entry: Entry, moved_in: bool = False) -> None:
    """Save what the stage holds that is in no backup yet, and say so.

    old/ holds what left app/ (compared with the snapshot); with `moved_in`,
    new/ holds files that were in app/ for a while after a crash (compared
    with the new tree), which someone may have edited.
    """
    stage = root / entry.stage
    old = stage / "old"
    checks = [(entry.snapshot, sorted(old.iterdir()) if old.is_dir() else [])]
    if moved_in and entry.target:
        checks.append((_with_app(root, entry.snapshot, entry.target), [stage / "new"]))
    for base, folders in checks:
        found = leftovers.find(root, base, folders)
        if found:
            reason = f"while {entry.goal.command} ran"
            late = backups.save(root, entry.head, found.tree, reason, found.files)
            count = plural(len(late.files), "file")
            print(f"Saved changes made to app/ {reason} ({count}) as {ok(late.name)}.")
            for line in late.how_to_restore():
                print(f"  {line}")


def _with_app(root: Path, tree: str, app: str) -> str:
    """`tree` with its app/ folder replaced by the tree `app`."""
    entries = git.run(root, "ls-tree", "-z", tree).split("\0")
    kept = [e for e in entries if e and e.split("\t", 1)[1] != APP]
    kept.append(f"{git.TREE_MODE} tree {app}\t{APP}")
    return git.run(root, "mktree", "-z", input="".join(f"{e}\0" for e in kept)).strip()


def record_progress(root: Path, goal: Goal) -> None:
    """goto N: step N is done (the learner is on N+1); restore: as it was saved."""
    if goal.sets_progress:
        progress.record_done(root, goal.progress)


def _close(root: Path, stage: Path) -> None:
    """Delete the stage, then the journal: nothing of the switch is left."""
    shutil.rmtree(stage, ignore_errors=True)
    journal.remove(root)


def recover(session: Session) -> None:
    """Undo or finish a switch whose process died (SIGKILL, power cut, crash).

    Its journal says how far it got: renames under way are undone from the
    stage's log; a complete switch is finished. Says what it did in one line.
    """
    root = session.root
    entry = journal.read(root)
    _remove_stray_stages(root, entry)
    if entry is None:
        return
    who = f"'workshop {entry.goal.command}' (pid {entry.pid})"
    if entry.phase == "moving":
        _recover_moves(root, entry, who)
        return
    if entry.phase == "switched":
        _save_leftovers(root, entry)
        record_progress(root, entry.goal)
    _close(root, root / entry.stage)
    saved = f"; your work was saved as {entry.backup}" if entry.backup else ""
    print(f"Finished {who}, which stopped after its switch: {entry.goal.after}{saved}.")


def _recover_moves(root: Path, entry: Entry, who: str) -> None:
    stage = root / entry.stage
    failed = moves.undo(root, stage, moves.read_log(stage))
    if failed:
        raise WorkshopError(
            f"{who} stopped halfway and cannot be undone "
            f"({_describe_error(failed[0])}): app/'s old files are in "
            f"{entry.stage}/old"
        )
    astray = _not_as_before(root, entry)
    if astray:
        _keep_stage(root, entry, who, astray)
        return
    print(f"Undid {who}, which stopped halfway: app/ is as it was before it.")
    _save_leftovers(root, entry, moved_in=True)
    _close(root, stage)
    if entry.backup and entry.backup_commit:
        backups.drop(root, entry.backup, entry.backup_commit)


def _not_as_before(root: Path, entry: Entry) -> str | None:
    """A file the switch was to change that is not as before after the undo.

    After a power cut the end of the log may be lost, so some renames cannot
    be undone from it; this says so instead of deleting what is left.
    """
    empty = git.empty_tree(root)
    before = git.subtrees(root, entry.snapshot, [APP]).get(APP) or empty
    now = git.snapshot(root, [APP]).folders.get(APP) or empty
    planned = {c.path for c in git.changes(root, before, entry.target or empty)}
    astray = [c.path for c in git.changes(root, before, now) if c.path in planned]
    return f"app/{astray[0]}" if astray else None


def _keep_stage(root: Path, entry: Entry, who: str, astray: str) -> None:
    """Leave everything in place, say where, and let the command go on."""
    journal.remove(root)  # the stage stays: nothing in it is ever deleted
    saved = f"; app/ as it was is saved as {entry.backup}" if entry.backup else ""
    print(
        f"{who} stopped halfway and could not be fully undone ({astray} is not "
        f"as it was; a power cut can lose the end of its log): nothing was "
        f"deleted, what it moved aside is in {entry.stage}/old{saved}."
    )


def _remove_stray_stages(root: Path, entry: Entry | None) -> None:
    """Stages of a switch killed before its first rename: no one's files."""
    keep = root / entry.stage if entry else None
    for folder, prefix in _stage_places(root):
        for stage in folder.glob(f"{prefix}*") if folder.is_dir() else []:
            if stage != keep and stage.is_dir() and not _holds_files(stage / "old"):
                shutil.rmtree(stage, ignore_errors=True)


def _holds_files(folder: Path) -> bool:
    return any(files for _, _, files in os.walk(folder))


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
    named.append((f"{head}:{APP}", _in_head(short)))
    for step in steps(root):  # an untouched checkpoint is no one's work: say nothing
        named.append((f"{head}:{step.app.relative_to(root).as_posix()}", ""))
    return named


def _in_head(short: str) -> str:
    return (
        f"Nothing uncommitted to save: your work is in HEAD ({short}).\n"
        "  get it back:  git restore --source=HEAD -- app"
    )


def _describe(root: Path, head: str, current: str) -> list[str]:
    """The files of app/ that differ from HEAD, e.g. ['M app/main.py']."""
    base = git.subtrees(root, head, [APP]).get(APP) or git.empty_tree(root)
    return [f"{c.status} app/{c.path}" for c in git.changes(root, base, current)]


def _describe_error(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    if error.errno == errno.EXDEV:  # app/ spans mounts: no rename can cross them
        return f"part of app/ is on another file system (a mount){where}"
    return f"{error.strerror or error}{where}"


def apply(app: Path, new: Path, plan: list[git.Change], renames: Moves) -> None:
    """Move the planned files from `new` into `app`, each old one aside first.

    Ignored files (such as __pycache__) stay where they are unless a new file
    needs their place. Stops at the first error; undoing is the caller's.
    """
    renames.make_folder(app)
    for change in sorted(plan, key=lambda c: c.status != "D"):
        path = app / change.path
        renames.aside(path)
        if change.status != "D":
            renames.make_folder(path.parent)
            renames.move(new / change.path, path)
    _tidy(app, plan)


def _tidy(app: Path, plan: list[git.Change]) -> None:
    """Remove folders left empty by deleted files (never app/ itself)."""
    for change in plan:
        if change.status == "D":
            for folder in (app / change.path).parents:
                if folder == app or not folder.is_relative_to(app):
                    break
                try:
                    folder.rmdir()
                except OSError:
                    break
