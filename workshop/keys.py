"""Single keys typed while `workshop watch` runs (h, l, r, n, q), as in rustlings.

Keys are read only from a terminal that this process has in the foreground:
with stdin a pipe or a file (CI, a test harness, an editor task without a
terminal) or in a background job, nothing is read and watch behaves as before.
On POSIX the terminal is put in cbreak mode (each key arrives at once, without
echo; Ctrl-C still interrupts) and restored on the way out, whatever happens.
On Windows msvcrt reads keys without changing any mode. Standard library only.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

if sys.platform == "win32":
    import msvcrt
else:
    import select
    import termios
    import tty

POLL = 0.1  # seconds between looks for a key, and for the stop signal


def keys_available() -> bool:
    """Whether stdin is a terminal this process may read keys from."""
    try:
        if sys.stdin is None or not sys.stdin.isatty():
            return False
        if sys.platform == "win32":
            return True
        fd = sys.stdin.fileno()
        return os.tcgetpgrp(fd) == os.getpgrp()  # not a background job
    except (OSError, ValueError):
        return False


@contextmanager
def keypresses(on_key: Callable[[str], None]) -> Iterator[bool]:
    """Call `on_key(key)` from a daemon thread for each key typed (lower case).

    Yields whether keys are being read at all.
    """
    if not keys_available():
        yield False
        return
    stop = threading.Event()
    with _terminal_mode():
        reader = _read_windows if sys.platform == "win32" else _read_posix
        thread = threading.Thread(target=reader, args=(on_key, stop), daemon=True)
        thread.start()
        try:
            yield True
        finally:
            stop.set()
            thread.join(timeout=1)


@contextmanager
def _terminal_mode() -> Iterator[None]:
    """cbreak mode on POSIX for as long as keys are read; nothing on Windows."""
    if sys.platform == "win32":
        yield
        return
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _read_posix(on_key: Callable[[str], None], stop: threading.Event) -> None:
    fd = sys.stdin.fileno()
    while not stop.is_set():
        try:
            ready, _, _ = select.select([fd], [], [], POLL)
            data = os.read(fd, 32) if ready else b""
        except OSError:
            return  # the terminal went away
        if ready and not data:
            return  # end of input
        _deliver(data.decode(errors="ignore"), on_key)


def _read_windows(on_key: Callable[[str], None], stop: threading.Event) -> None:
    while not stop.is_set():
        if not msvcrt.kbhit():
            stop.wait(POLL)
            continue
        key = msvcrt.getwch()
        if key in ("\x00", "\xe0"):
            msvcrt.getwch()  # the second half of an arrow or function key
            continue
        _deliver(key, on_key)


def _deliver(text: str, on_key: Callable[[str], None]) -> None:
    """Hand over printable single keys; escape sequences (arrows) are dropped."""
    if text.startswith("\x1b"):
        return
    for key in text:
        if key.isprintable():
            on_key(key.lower())
