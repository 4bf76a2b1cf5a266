"""`workshop watch`: run the check again every time a file under app/ changes.

A thread watches app/ and spare children wait with pytest and FastAPI already
imported, so a save is checked at once; a save that comes in while a check
runs stops that check and starts a new one. If app/ disappears (`rm -rf app`,
`git checkout app`), watching resumes when it is back. Ctrl-C stops it.

On a terminal it also takes single keys, as rustlings does (workshop/keys.py):
h the next hint, l the steps, r check again, n open the guide of your step
(in VS Code through `code` when there is one), q quit. `r` and `q` stop a
running check at once; the others wait for it to end.

`poll=True` looks at the files every 300 ms instead of waiting for the file
system's events, which never arrive on some mounts (Docker Desktop's shared
folders, network drives, some WSL setups).
"""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from workshop.checks import progress
from workshop.checks.appwatch import saves
from workshop.checks.lanes import cores
from workshop.checks.suites import Cancelled, Spare, Watching
from workshop.commands.check import check
from workshop.commands.hint import hint
from workshop.errors import WorkshopError, internal_error
from workshop.keys import keypresses
from workshop.project import APP, Step, all_steps, get_step
from workshop.ui import style

CLEAR = "\033[2J\033[H"
KEYS = "h hint · l steps · r check again · n open the guide · q quit"
RERUN = "r: check again"


@dataclass(frozen=True)
class Event:
    """What the main loop waits for: a save (the files that changed) or a key."""

    names: frozenset[str] = frozenset()
    key: str = ""


def watch(root: Path, *, upto: str | None = None, poll: bool = False) -> int:
    if not (root / APP).is_dir():
        raise WorkshopError(f"no {APP}/ folder to watch in {root}")
    if upto is not None:
        get_step(root, upto)  # an unknown step is an error now, not on every run
    events: queue.Queue[Event] = queue.Queue()
    with (
        watching_app(root, events, poll) as changed,
        keypresses(lambda key: _on_key(key, events, changed)) as keys,
    ):
        ready, reason = warm(root, changed), None
        try:
            while True:
                stopped = check_once(root, upto, reason, ready)
                ready = warm(root, changed)  # warms up while the learner edits
                if not stopped:
                    legend = f" ({KEYS})" if keys else ""
                    waiting = f"Waiting for changes in app/ ...{legend}"
                    print(style(waiting, "dim"), flush=True)
                reason = next_reason(root, events, changed)
                if reason is None:
                    print("Stopped watching.")
                    return 0
                if stopped:
                    why = RERUN if reason == RERUN else "a newer save came in"
                    print(style(f"({why}: checking again)", "dim"))
        except KeyboardInterrupt:
            print("\nStopped watching.")
            return 130
        finally:
            ready.close()


def warm(root: Path, changed: threading.Event) -> Watching:
    """Children that wait with pytest and FastAPI imported: two, where the
    suites run side by side (workshop/checks/lanes.py)."""
    extra = Spare(root) if cores() > 1 else None
    return Watching(Spare(root), changed, extra, resume=True)


def _on_key(key: str, events: queue.Queue[Event], changed: threading.Event) -> None:
    """From the key thread: queue the key; r and q also stop a running check."""
    events.put(Event(key=key))
    if key in ("r", "q"):
        changed.set()


def check_once(
    root: Path, upto: str | None, reason: str | None, watching: Watching
) -> bool:
    """Clear the screen (on a terminal), say why, and run one check.

    Returns whether it was stopped by a save or a key before it ended.
    """
    if sys.stdout.isatty():
        print(CLEAR, end="")
    now = datetime.now().strftime("%H:%M:%S")
    why = "watching app/" if reason is None else f"changed: {reason}"
    why = RERUN if reason == RERUN else why
    print(style(f"[{now}] {why} (Ctrl-C to stop)", "dim"), flush=True)
    try:
        check(root, upto=upto, watching=watching)
    except Cancelled:
        return True
    except WorkshopError as error:
        print(f"workshop: {error}")
    except Exception as error:  # a bug of the check itself: keep watching
        print(f"workshop: {internal_error(error)}")
    finally:
        watching.close()
    return False


def next_reason(
    root: Path, events: queue.Queue[Event], changed: threading.Event
) -> str | None:
    """Wait for the next thing to check again for: the files saved, or RERUN.

    Keys h, l and n are answered while waiting; q returns None. Ctrl-C still
    works: the wait wakes up every 0.2 s.
    """
    while True:
        try:
            pending = [events.get(timeout=0.2)]
        except queue.Empty:
            continue
        while not events.empty():
            pending.append(events.get_nowait())
        names: set[str] = set()
        for event in pending:
            names |= event.names
            if event.key == "q":
                return None
            if event.key == "r":
                names.add(RERUN)
            elif event.key:
                answer_key(root, event.key)
        if names:
            changed.clear()
            return RERUN if names == {RERUN} else _saved(names)


def _saved(names: set[str]) -> str:
    return ", ".join(sorted(names - {RERUN}))


def answer_key(root: Path, key: str) -> None:
    """h, l and n: print the answer under the last result; other keys do nothing."""
    actions = {"h": show_hint, "l": list_steps, "n": open_guide}
    if key not in actions:
        return
    print()
    try:
        actions[key](root)
    except WorkshopError as error:
        print(f"workshop: {error}")
    print(style(f"\nWaiting for changes in app/ ... ({KEYS})", "dim"), flush=True)


def your_step(root: Path) -> Step:
    """The step you are on, from the record alone (no suites are run for it):
    without a record nothing has passed yet, so it is the first step."""
    return progress.recorded_step(root) or all_steps(root)[0]


def show_hint(root: Path) -> None:
    hint(root, str(your_step(root).number))


def list_steps(root: Path) -> None:
    mine = your_step(root)
    for step in all_steps(root):
        marker = style("  ← you are here", "bold") if step == mine else ""
        print(f"  {step.label}{marker}")


def open_guide(root: Path) -> None:
    """The guide of your step, in the editor when the `code` command exists
    (VS Code's terminal and Codespaces have it); else its path to open."""
    guide = your_step(root).guide
    name = guide.relative_to(root).as_posix()
    code = shutil.which("code")
    if code is not None:
        done = subprocess.run(
            [code, "--reuse-window", str(guide)], capture_output=True, timeout=30
        )
        if done.returncode == 0:
            print(f"Opened {name} in the editor.")
            return
    print(f"Read {name} (open it in your editor).")


@contextmanager
def watching_app(
    root: Path, events: queue.Queue[Event], poll: bool = False
) -> Iterator[threading.Event]:
    """A daemon thread that puts every change under app/ into `events`."""
    changed, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_watch_forever, args=(root, events, changed, stop, poll), daemon=True
    )
    thread.start()
    try:
        yield changed
    finally:
        stop.set()


def _watch_forever(
    root: Path,
    events: queue.Queue[Event],
    changed: threading.Event,
    stop: threading.Event,
    poll: bool = False,
) -> None:
    for names in saves(root, root / APP, stop, poll=poll):
        _put(events, changed, names)


def _put(events: queue.Queue[Event], changed: threading.Event, names: set[str]) -> None:
    events.put(Event(names=frozenset(names)))
    changed.set()
