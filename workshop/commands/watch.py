"""`workshop watch`: run the check again every time a file under app/ changes.

A thread watches app/ and a spare runner waits with pytest and FastAPI already
imported, so a save is checked at once; a save that comes in while a check
runs stops that check and starts a new one. If app/ disappears (`rm -rf app`,
`git checkout app`), watching resumes when it is back. Ctrl-C stops it.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from workshop.commands.check import check
from workshop.errors import WorkshopError
from workshop.project import APP, get_step
from workshop.suites import Cancelled, Spare, Watching
from workshop.ui import style

# Besides Python files, the text files an app may read (templates, data, config).
EXTRA_EXTENSIONS = (".html", ".jinja", ".jinja2", ".json", ".toml", ".txt", ".sql")
CLEAR = "\033[2J\033[H"


def watch(root: Path, *, upto: str | None = None) -> int:
    if not (root / APP).is_dir():
        raise WorkshopError(f"no {APP}/ folder to watch in {root}")
    if upto is not None:
        get_step(root, upto)  # an unknown step is an error now, not on every run
    saves: queue.Queue[set[str]] = queue.Queue()
    with watching_app(root, saves) as changed:
        spare, reason = Spare(root), None
        try:
            while True:
                check_once(root, upto, reason, Watching(spare, changed))
                spare = Spare(root)  # warms up while the learner edits
                print(style("Waiting for changes in app/ ...", "dim"), flush=True)
                reason = next_save(saves, changed)
        except KeyboardInterrupt:
            print("\nStopped watching.")
            return 130
        finally:
            spare.close()


def check_once(
    root: Path, upto: str | None, reason: str | None, watching: Watching
) -> None:
    """Clear the screen (on a terminal), say why, and run one check."""
    if sys.stdout.isatty():
        print(CLEAR, end="")
    now = datetime.now().strftime("%H:%M:%S")
    why = f"changed: {reason}" if reason else "watching app/"
    print(style(f"[{now}] {why} (Ctrl-C to stop)", "dim"), flush=True)
    try:
        check(root, upto=upto, watching=watching)
    except Cancelled:
        print(style("(a newer save came in: checking again)", "dim"))
    except WorkshopError as error:
        print(f"workshop: {error}")
    finally:
        watching.spare.close()


def next_save(saves: queue.Queue[set[str]], changed: threading.Event) -> str:
    """Block until a save comes in (Ctrl-C still works), then take them all."""
    names: set[str] = set()
    while not names:
        try:
            names |= saves.get(timeout=0.2)
        except queue.Empty:
            continue
    changed.clear()
    while not saves.empty():
        names |= saves.get_nowait()
    return ", ".join(sorted(names))


@contextmanager
def watching_app(root: Path, saves: queue.Queue[set[str]]) -> Iterator[threading.Event]:
    """A daemon thread that puts every change under app/ into `saves`."""
    changed, stop = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_watch_forever, args=(root, saves, changed, stop), daemon=True
    )
    thread.start()
    try:
        yield changed
    finally:
        stop.set()


def _watch_forever(
    root: Path,
    saves: queue.Queue[set[str]],
    changed: threading.Event,
    stop: threading.Event,
) -> None:
    app, lost = root / APP, False
    while not stop.is_set():
        if not app.is_dir():
            lost = True
            stop.wait(0.2)  # app/ was removed: wait until it is back
            continue
        if lost:
            _put(saves, changed, {f"{APP}/ (back again)"})
        try:
            lost = _watch_until_replaced(root, app, saves, changed, stop)
        except (OSError, RuntimeError):  # app/ vanished under the watcher
            lost = True
            stop.wait(0.2)


def _watch_until_replaced(
    root: Path,
    app: Path,
    saves: queue.Queue[set[str]],
    changed: threading.Event,
    stop: threading.Event,
) -> bool:
    """Report changes until stopped (False) or app/ is removed or replaced (True)."""
    from watchfiles import PythonFilter
    from watchfiles import watch as watch_files

    inode = os.stat(app).st_ino
    for changes in watch_files(
        app,
        watch_filter=PythonFilter(extra_extensions=EXTRA_EXTENSIONS),
        debounce=300,
        step=30,
        stop_event=stop,
        rust_timeout=300,
        yield_on_timeout=True,
    ):
        if changes:
            _put(saves, changed, {_name(root, path) for _, path in changes})
        if not app.is_dir() or os.stat(app).st_ino != inode:
            return True
    return False


def _name(root: Path, path: str) -> str:
    return Path(path).relative_to(root).as_posix()


def _put(
    saves: queue.Queue[set[str]], changed: threading.Event, names: set[str]
) -> None:
    saves.put(names)
    changed.set()
