"""One goto or restore (later: update) at a time: a lock on .workshop/lock.

Two switches at once would each move half of app/, leaving a mix of two
checkpoints and saving that mix as junk backups, so the second command
refuses in one line, naming the first one's process.

The lock is the operating system's (`fcntl.flock` on POSIX, `msvcrt.locking`
on Windows): it ends with its process, however that process ends, so a
killed goto never leaves a stale lock behind. Where the file system has no
locks (some network mounts), a file created with O_EXCL holds our pid
instead, and is taken over once that process is gone.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop.errors import WorkshopError

NAME = "lock"
FALLBACK = "lock.pid"  # only where the file system cannot lock
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK}
_WINDOWS_OFFSET = 1 << 20  # lock a byte far past the pid, so it stays readable


@contextmanager
def held(state: Path, command: str) -> Iterator[None]:
    """Run the block as the only goto/restore of this checkout, or refuse."""
    path = state / NAME
    fd = _open(path)
    try:
        locked = _os_lock(fd)
        if locked is False:
            raise WorkshopError(_busy(path))
        fallback = None if locked else _take_file(state / FALLBACK, command)
        _write_owner(fd, command)
        try:
            yield
        finally:
            if fallback:
                fallback.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _open(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise WorkshopError(
            f"cannot write {path.parent.name}/{path.name}: {error.strerror}"
        ) from None


def _os_lock(fd: int) -> bool | None:
    """True: locked; False: someone else holds it; None: no locks here."""
    try:
        if os.name == "nt":
            import msvcrt

            os.lseek(fd, _WINDOWS_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except ImportError:
        return None
    except OSError as error:
        return False if error.errno in _BUSY else None
    return True


def _write_owner(fd: int, command: str) -> None:
    """Say who holds the lock, for the message a second command prints."""
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, f"{os.getpid()}\n{command}\n".encode())


def _owner(path: Path) -> tuple[int | None, str]:
    """(pid, command) written in a lock file; (None, '') while still unwritten."""
    try:
        pid, command = path.read_text(encoding="utf-8").split("\n")[:2]
        return int(pid), command
    except (OSError, ValueError):
        return None, ""


def _busy(path: Path) -> str:
    pid, command = _owner(path)
    for _ in range(50):  # the holder writes its pid just after locking
        if pid is not None:
            break
        time.sleep(0.01)
        pid, command = _owner(path)
    who = f"workshop {command}" if command else "workshop goto/restore"
    return (
        f"another '{who}' is running (pid {pid or 'unknown'}): wait for it to "
        "finish, then try again"
    )


def _take_file(path: Path, command: str) -> Path:
    """The O_EXCL fallback: create `path` with our pid, or take it from the dead."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pid, _ = _owner(path)
            if pid is None or _alive(pid):
                raise WorkshopError(_busy(path)) from None
            path.unlink(missing_ok=True)  # its process is gone: a stale lock
            continue
        _write_owner(fd, command)
        os.close(fd)
        return path
    raise WorkshopError(_busy(path))


def _alive(pid: int) -> bool:
    """Whether process `pid` exists (always assumed on Windows)."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
