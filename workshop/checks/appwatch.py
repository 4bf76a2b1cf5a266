"""Watching an app/ folder for saves: the one watcher `workshop watch` and
`workshop serve` share.

`saves(root, folder, stop)` yields, for every batch of saves, the names of the
files that changed (relative to `root`). It keeps going while app/ is removed
(`rm -rf app`) or replaced by another folder (`git checkout app`, an editor
that saves by renaming a folder), and says so: "app/ is back". While a folder
is watched it is held open, so its inode number cannot be reused by the next
app/, which `rm -rf app; git checkout app` often gets otherwise, unnoticed.

`ready` is set once the first watcher exists (its first, empty batch came
back): a save made after that is never missed. With `poll=True` the files are
looked at every 300 ms instead of waiting for the file system's events, which
never arrive on some mounts (Docker Desktop's shared folders, network drives,
some WSL setups).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Besides Python files, the text files an app may read (templates, data, config).
EXTRA_EXTENSIONS = (".html", ".jinja", ".jinja2", ".json", ".toml", ".txt", ".sql")
POLL_DELAY_MS = 300  # with poll=True: how often the files are looked at
BACK = "/ is back"  # app/ is back after it was removed or replaced
TICK_MS = 100  # how often the watcher wakes up to look at `stop` and app/


def saves(
    root: Path,
    folder: Path,
    stop: threading.Event,
    *,
    ready: threading.Event | None = None,
    poll: bool = False,
) -> Iterator[set[str]]:
    """The names saved under `folder`, batch after batch, until `stop` is set."""
    ready = ready or threading.Event()
    name = _name(root, folder)
    lost = False
    try:
        while not stop.is_set():
            if not folder.is_dir():
                ready.set()
                lost = True
                stop.wait(TICK_MS / 1000)  # removed: wait until it is back
                continue
            try:
                with _held(folder):
                    inode = os.stat(folder).st_ino
                    back = {name + BACK} if lost else None
                    yield from _batches(root, folder, inode, stop, ready, back, poll)
            except (OSError, RuntimeError):  # the folder vanished under the watcher
                pass
            lost = True
    finally:
        ready.set()


def _batches(
    root: Path,
    folder: Path,
    inode: int,
    stop: threading.Event,
    ready: threading.Event,
    first: set[str] | None,
    poll: bool,
) -> Iterator[set[str]]:
    """Batches of saves until stopped or the folder is removed or replaced."""
    from watchfiles import PythonFilter, watch

    for changes in watch(
        folder,
        watch_filter=PythonFilter(extra_extensions=EXTRA_EXTENSIONS),
        debounce=300,
        step=30,
        stop_event=stop,
        rust_timeout=TICK_MS,
        yield_on_timeout=True,
        # None: watchfiles' own choice (and WATCHFILES_FORCE_POLLING)
        force_polling=True if poll else None,
        poll_delay_ms=POLL_DELAY_MS,
    ):
        ready.set()
        if first:
            yield first
            first = None
        if changes:
            yield {_name(root, Path(path)) for _, path in changes}
        if not folder.is_dir() or os.stat(folder).st_ino != inode:
            return


def described(names: set[str]) -> str:
    """One batch in words: 'app/a.py, app/b.py changed' or 'app/ is back'."""
    if any(name.endswith(BACK) for name in names):
        return ", ".join(sorted(names))
    return f"{', '.join(sorted(names))} changed"


@contextmanager
def _held(folder: Path) -> Iterator[None]:
    """Keep the folder open while it is watched (see the module docstring)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder this way: compare numbers only
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _name(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:  # a folder outside the checkout (serve --checkpoint copies)
        return path.name
